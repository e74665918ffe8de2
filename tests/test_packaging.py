"""Every module sumflow imports directly comes from a distribution that setup.py declares (not one that only
arrives as another package's dependency)."""

import ast
import importlib.metadata
import os
import re
import sys

from tests.test_imports import OURS, ROOT, imports

SETUP = os.path.join(ROOT, "setup.py")
NAMESPACED = {"google.protobuf": "protobuf"}  # a new google.* import fails here until it is named


def _name(requirement: str) -> str:
    return re.split(r"[<>=!\[ ]", requirement)[0].lower().replace("_", "-")


def _declared() -> set[str]:
    """INSTALL_REQUIRES and the extras (EXTRAS_REQUIRE: a module that imports one, pipeline/dask_runner.py,
    is loaded only when the extra's feature is asked for; pipeline/runner.py names the extra if it is absent)."""
    tree = ast.parse(open(SETUP).read())
    names = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in ("INSTALL_REQUIRES",
                                                                                   "EXTRAS_REQUIRE"):
            names[node.targets[0].id] = ast.literal_eval(node.value)
    assert "INSTALL_REQUIRES" in names, "setup.py has no INSTALL_REQUIRES"
    extras = [r for requirements in names.get("EXTRAS_REQUIRE", {}).values() for r in requirements]
    return {_name(r) for r in names["INSTALL_REQUIRES"] + extras}


def test_every_third_party_import_is_declared_in_setup_py():
    distributions = importlib.metadata.packages_distributions()
    declared = _declared()
    undeclared = {}
    for path in sorted(p for package in OURS for p in (ROOT / package).rglob("*.py")):
        for name in sorted(imports(path)):
            top = name.split(".")[0]
            if top in OURS or top in sys.stdlib_module_names or top == "__future__":
                continue
            if top == "google":  # a namespace shared by several distributions: name the one per subpackage
                names = {NAMESPACED[".".join(name.split(".")[:2])]}
            else:
                names = {d.lower().replace("_", "-") for d in distributions.get(top, [top])}
            if not names & declared:
                undeclared.setdefault(top, f"{path.relative_to(ROOT)} ({sorted(names)})")
    assert undeclared == {}
