"""The built-in default corpus: docstrings of Python code installed on this machine.

Real human-written text that exists wherever sumflow installs, needs no download and is never copied into
the repository. The sources are the standard library (`stdlib`) and installed packages named by their import
name (e.g. `numpy`, `keras`): sumflow's own dependencies are installed with it at pinned versions, so the same
sources give the same corpus on every machine with the same Python and requirements. Each documented module,
class or function whose docstring has a one-line summary and a body becomes a pair: summary <- the first
paragraph (the summary line), article <- the rest of the docstring. Files are parsed with `ast` (nothing is
imported or executed). Ids are `SOURCE:module.qualname`, so the corpus, and every split derived from it, is
stable.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import sys
import sysconfig
import warnings
from typing import NamedTuple, Sequence

from configs.schema import ConfigError

STDLIB = "stdlib"
MIN_BODY_WORDS = 20
_SKIP_DIRS = {"test", "tests", "testing", "idlelib", "lib2to3", "site-packages", "dist-packages", "__pycache__",
              "turtledemo", "tkinter", "ensurepip", "venv", "pydoc_data", "_vendor", "vendor", "third_party"}


class ModuleFile(NamedTuple):
    source: str  # "stdlib" or a package's import name
    path: str
    module: str  # dotted module name


def stdlib_dir() -> str:
    return sysconfig.get_paths()["stdlib"]


def _walk(root: str) -> list[str]:
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        found.extend(os.path.join(dirpath, f) for f in filenames if f.endswith(".py"))
    return sorted(found)


def _package_roots(name: str) -> list[tuple[str, str]]:
    """(folder to walk, folder module names are relative to) of an installed package, found without
    importing it."""
    try:
        spec = importlib.util.find_spec(name) if name.isidentifier() else None
    except (ImportError, ValueError):
        spec = None
    if spec is None or not (spec.submodule_search_locations or spec.origin):
        raise ConfigError(f"source.builtin_packages: no installed Python package named {name!r}; "
                          f"use `{STDLIB}` or the import name of an installed package")
    if spec.submodule_search_locations:
        return [(d, os.path.dirname(d)) for d in sorted(spec.submodule_search_locations)]
    return [(spec.origin, os.path.dirname(spec.origin))]


def module_files(sources: Sequence[str] = (STDLIB,)) -> list[ModuleFile]:
    """The `.py` files of the given sources (tests and vendored trees left out), sorted within each source."""
    files = []
    for source in dict.fromkeys(sources):  # each source once, in the order given
        if source == STDLIB:
            roots = [(stdlib_dir(), stdlib_dir())]
        else:
            roots = _package_roots(source)
        for walk_root, base in roots:
            paths = [walk_root] if walk_root.endswith(".py") else _walk(walk_root)
            files.extend(ModuleFile(source, p, _module_name(p, base)) for p in paths)
    return files


def fingerprint(sources: Sequence[str]) -> dict:
    """What identifies the corpus: its sources, and the path and size of every file read."""
    files = module_files(sources)
    digest = hashlib.sha256("\n".join(f"{f.path}:{os.path.getsize(f.path)}" for f in files).encode())
    return {"builtin": "python-docstrings", "sources": list(dict.fromkeys(sources)),
            "python": sys.version.split()[0], "files": len(files), "sha256": digest.hexdigest()[:16]}


def _module_name(path: str, root: str) -> str:
    rel = os.path.relpath(path, root)[:-3].replace(os.sep, ".")
    return rel[: -len(".__init__")] if rel.endswith(".__init__") else rel


def split_docstring(doc: str) -> tuple[str, str] | None:
    """(summary paragraph, body) of a PEP 257 docstring, or None when it has no body worth summarising."""
    paragraphs = [p.strip() for p in doc.strip().split("\n\n")]
    if len(paragraphs) < 2 or not paragraphs[0]:
        return None
    summary = " ".join(paragraphs[0].split())
    body = "\n".join(" ".join(p.split()) for p in paragraphs[1:] if p)
    if len(body.split()) < MIN_BODY_WORDS or len(summary.split()) < 3:
        return None
    return summary, body


def docstring_pairs(file: ModuleFile, *, with_names: bool = False) -> list[dict]:
    """Every (summary, body) pair of one source file as a raw record.

    with_names: the article starts with the documented object's name, as a reference page does:
    `Widget.spin: <body>` for a function or class (its name inside the module), `json: <body>` for a module.
    """
    source, path, module = file
    try:
        with open(path, "rb") as f:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarnings of old escape sequences
                tree = ast.parse(f.read(), filename=path)
    except (SyntaxError, ValueError, OSError):
        return []  # not Python 3 source (e.g. a lib2to3 fixture); no record existed, so none is lost
    out = []

    def visit(node, qualname):
        doc = ast.get_docstring(node, clean=True)
        pair = split_docstring(doc) if doc else None
        if pair:
            name = qualname[len(module) + 1:] or module
            article = f"{name}: {pair[1]}" if with_names else pair[1]
            out.append({"id": f"{source}:{qualname}", "article": article, "summary": pair[0], "split": "",
                        "origin": path})
        for child in getattr(node, "body", []):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, f"{qualname}.{child.name}")

    visit(tree, module)
    return out
