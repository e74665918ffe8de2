"""The import rules of the package map (README "Layout"): imports flow one way, and the data contract, the
evaluation library and the model stay free of the frameworks they must not need. Every import counts, at
module level or inside a function."""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
OURS = ("workspace", "configs", "contract", "pipeline", "model", "evaluation", "jobs")
# package -> (our packages it may import, third-party modules it must never import: a module and its submodules)
RULES = {
    # Remote paths (gs://) go through Beam's FileSystems, imported only for them (workspace/outputs.py).
    "workspace": ((), ("apache_beam", "keras", "tensorflow")),
    "configs": (("workspace",), ("apache_beam", "keras", "tensorflow")),
    "contract": (("workspace", "configs"), ("apache_beam", "keras")),
    "evaluation": (("workspace", "configs", "contract"), ("apache_beam", "keras", "tensorflow")),
    "pipeline": (("workspace", "configs", "contract"), ("keras",)),
    "model": (("workspace", "configs", "contract", "evaluation"), ("apache_beam",)),
    "jobs": (OURS, ()),
}


ALLOWED = {"workspace": ("apache_beam.io.filesystem", "apache_beam.io.filesystems")}  # exceptions to RULES


def imports(path: pathlib.Path) -> set[str]:
    """The dotted names of every module `path` imports (absolute imports; we use no relative ones)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path}: relative import"
            names.add(node.module)
    return names


def test_every_package_has_rules():
    packages = {p.parent.name for p in ROOT.glob("*/__init__.py")} - {"tests", "benchmarks"}
    assert packages == set(RULES) == set(OURS)


@pytest.mark.parametrize("package", sorted(RULES))
def test_imports_flow_one_way(package):
    allowed, forbidden = RULES[package]
    broken = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for name in sorted(imports(path)):
            top = name.split(".")[0]
            if top in OURS and top != package and top not in allowed:
                broken.append(f"{path.relative_to(ROOT)} imports {name}")
            if top in forbidden and name not in ALLOWED.get(package, ()):
                broken.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not broken, "\n".join(broken)


def test_the_rules_catch_a_forbidden_import(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("def f():\n    import apache_beam.io\n    from model.rnn_seq2seq import Seq2Seq\n")
    assert imports(bad) == {"apache_beam.io", "model.rnn_seq2seq"}


def test_what_decides_a_noop_loads_neither_beam_nor_tensorflow():
    """The CLI and the "already complete?" checks the jobs call before their heavy imports (the whole no-op
    from the CLI: tests/jobs/test_noop.py)."""
    import subprocess
    import sys

    code = ("import sys, jobs.cli, pipeline.completion, pipeline.input_matching, contract.train_run\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'apache_beam', 'tensorflow', 'keras'}))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
