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


def _declared() -> set[str]:
    tree = ast.parse(open(SETUP).read())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "INSTALL_REQUIRES":
            return {re.split(r"[<>=!\[ ]", ast.literal_eval(e))[0].lower().replace("_", "-") for e in node.value.elts}
    raise AssertionError("setup.py has no INSTALL_REQUIRES")


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
