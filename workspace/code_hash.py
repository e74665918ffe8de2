"""A hash of the source code of whole packages: what completion fingerprints record as the code version.

Plain Python and fast (no TensorFlow, no Beam): the "already complete?" check runs it before anything heavy.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from typing import Iterable


def package_dirs(packages: Iterable[str]) -> list[str]:
    """The folders of importable packages (without importing them)."""
    dirs = []
    for name in packages:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.submodule_search_locations:
            raise ImportError(f"{name} is not an importable package")
        dirs.extend(spec.submodule_search_locations)
    return dirs


def source_hash(packages: Iterable[str] = (), *, dirs: Iterable[str] = ()) -> str:
    """12 hex digits of SHA-256 over every `.py` file (path relative to its package, and contents) of the
    given packages or folders, in a fixed order; `.yaml` files count too (shipped configs shape defaults)."""
    h = hashlib.sha256()
    for root in [*package_dirs(packages), *dirs]:
        base = os.path.basename(os.path.normpath(root))
        for folder, subdirs, files in sorted(os.walk(root)):
            subdirs[:] = sorted(d for d in subdirs if d != "__pycache__")
            for name in sorted(f for f in files if f.endswith((".py", ".yaml"))):
                path = os.path.join(folder, name)
                h.update(f"{base}/{os.path.relpath(path, root)}\0".encode())
                with open(path, "rb") as f:
                    h.update(f.read())
                h.update(b"\0")
    return h.hexdigest()[:12]


def code_version(packages: Iterable[str]) -> str:
    """sumflow's release plus `source_hash(packages)`: what a completion fingerprint records as the code.

    Computed from every `.py` file of the packages (not a hand-kept list of modules): any change to the code
    that could shape an output makes earlier outputs stale.
    """
    try:
        from importlib.metadata import version

        release = version("sumflow")
    except Exception:  # running from a checkout that was not installed
        release = "0+unknown"
    return f"{release}+{source_hash(packages)}"
