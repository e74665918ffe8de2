"""The built-in default corpus: docstrings of the Python standard library installed on this machine.

Real human-written text that exists wherever sumflow installs, needs no download and is never copied into
the repository. Each documented module, class or function whose docstring has a one-line summary and a body
becomes a pair: summary <- the first paragraph (the summary line), article <- the rest of the docstring.
Files are parsed with `ast` (nothing is imported or executed). Ids are `stdlib:module.qualname`, so the
corpus, and every split derived from it, is the same on every machine with the same Python version.
"""

from __future__ import annotations

import ast
import os
import sysconfig
import warnings

MIN_BODY_WORDS = 20
_SKIP_DIRS = {"test", "tests", "idlelib", "lib2to3", "site-packages", "dist-packages", "__pycache__",
              "turtledemo", "tkinter", "ensurepip", "venv", "pydoc_data"}


def stdlib_dir() -> str:
    return sysconfig.get_paths()["stdlib"]


def module_files(root: str | None = None) -> list[str]:
    """Sorted paths of the standard library's `.py` files (tests and vendored trees left out)."""
    root = root or stdlib_dir()
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS and not d.startswith("."))
        found.extend(os.path.join(dirpath, f) for f in filenames if f.endswith(".py"))
    return sorted(found)


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


def docstring_pairs(path: str, root: str | None = None) -> list[dict]:
    """Every (summary, body) pair of one source file as a raw record."""
    root = root or stdlib_dir()
    try:
        with open(path, "rb") as f:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # SyntaxWarnings of old escape sequences
                tree = ast.parse(f.read(), filename=path)
    except (SyntaxError, ValueError, OSError):
        return []  # not Python 3 source (e.g. a lib2to3 fixture); no record existed, so none is lost
    module = _module_name(path, root)
    out = []

    def visit(node, qualname):
        doc = ast.get_docstring(node, clean=True)
        pair = split_docstring(doc) if doc else None
        if pair:
            out.append({"id": f"stdlib:{qualname}", "article": pair[1], "summary": pair[0], "split": "",
                        "origin": path})
        for child in getattr(node, "body", []):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                visit(child, f"{qualname}.{child.name}")

    visit(tree, module)
    return out
