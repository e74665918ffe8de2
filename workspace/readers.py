"""What a reader of a sumflow output checks before it reads: that the output is complete, and that no run is
writing it right now.

    require_complete(path, what=...)  path (a file, folder or glob) lies in a sumflow output directory
                                      (one holding `.sumflow-owned.json`) whose `_SUCCESS` is missing: the
                                      run that wrote it failed or is still running -> InputError (exit 3).
                                      A path in no sumflow output is the user's own file: nothing to check.
    snapshot(path, what=...)          read `path` as one complete output: hold its output directory's swap
                                      lock shared (a swap in progress finishes first, none starts until the
                                      block ends: workspace/outputs.py), then `require_complete`.
    shared_lock(out, what=...)        hold `out`'s lock shared while reading: another reader may hold it
                                      too, a writer (which holds it exclusively: workspace/outputs.py
                                      `locked`) makes it fail at once with LockedError (exit 75, retry later).

Local paths only (object stores have no lock and no owner record to find): elsewhere both are no-ops.
Plain Python: no Beam, no TensorFlow.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re

from workspace.errors import InputError, LockedError
from workspace.outputs import LOCK_NAME, OWNED_NAME, STAGING_PREFIX, SUCCESS_NAME, swap_lock


def _fixed_part(path: str) -> str:
    """The part of a path or glob before its first wildcard, as a path (a folder for `dir/*.jsonl`)."""
    prefix = re.match(r"^[^[*?]*", path).group(0)
    return prefix if prefix == path else os.path.dirname(prefix) or "."


def owning_output(path: str) -> tuple[str, dict] | None:
    """(the sumflow output directory that holds `path`, its owner record), the nearest one up; None if none."""
    if "://" in path:
        return None
    folder = os.path.abspath(_fixed_part(path))
    if not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    while True:
        record = os.path.join(folder, OWNED_NAME)
        if os.path.isfile(record):
            try:
                with open(record, encoding="utf-8") as f:
                    owned = json.load(f)
                return folder, {"job": str(owned["job"]), "files": [str(n) for n in owned["files"]]}
            except (OSError, ValueError, KeyError, TypeError):
                return folder, {"job": "?", "files": []}
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def require_complete(path: str, *, what: str) -> None:
    """Raise InputError when `path` is part of a sumflow output that has no `_SUCCESS` (see the module doc)."""
    parts = os.path.abspath(_fixed_part(path)).split(os.sep)
    staged = next((os.sep.join(parts[:i]) for i, part in enumerate(parts) if part.startswith(STAGING_PREFIX)), None)
    if staged is not None:  # a run's staging folder, even that of a first run (no owner record yet)
        raise InputError(f"{what} {path} is inside the staging folder of a run writing {staged}; read its output "
                         f"once the run has finished (its {SUCCESS_NAME} is written)")
    found = owning_output(path)
    if found is None:
        return
    out, record = found
    rel = os.path.relpath(os.path.abspath(_fixed_part(path)), out).replace(os.sep, "/")
    top = rel.split("/", 1)[0]
    if not (rel == "." or any(f == top or f.startswith(top + "/") for f in record["files"])):
        return  # a user's own file beside sumflow's (--allow-nonempty): not part of the output
    if not os.path.exists(os.path.join(out, SUCCESS_NAME)):
        raise InputError(f"{what} {path} is part of {out}, a `sumflow {record['job']}` output that is not "
                         f"complete (no {SUCCESS_NAME}: its run failed or is still running); rerun "
                         f"`sumflow {record['job']}` there or wait for it to finish")


@contextlib.contextmanager
def snapshot(path: str, *, what: str):
    """`require_complete(path)` and the reads in the block see one complete output, old or new (module doc)."""
    found = owning_output(path)
    with swap_lock(found[0], shared=True) if found else contextlib.nullcontext():
        require_complete(path, what=what)
        yield


@contextlib.contextmanager
def shared_lock(out: str, *, what: str):
    """Hold `out`'s lock shared for the block; LockedError (exit 75) while a writer holds it."""
    path = os.path.join(out, LOCK_NAME)
    if "://" in out or not os.path.exists(path):  # no writer ever locked it: nothing to wait for
        yield
        return
    try:
        handle = open(path, "rb")
    except OSError:  # a lock we may not open (a read-only model folder of another user): read without it
        yield
        return
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            raise LockedError(f"{what} {out} is being written by another run (lock {LOCK_NAME} held, e.g. "
                              f"`sumflow export`); retry when it is done") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
