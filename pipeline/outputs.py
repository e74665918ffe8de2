"""Output directories that schedulers can rely on: a lock, a staging area, an atomic-ish commit, a marker.

A run writes everything under `{out}/.staging-{run id}/`, then, holding `{out}/.lock`, removes the old
completion marker, moves each output into place and writes the marker last. So a reader that finds
`_SUCCESS` finds a complete output, a crashed run leaves only a staging folder (removed by the next run), and
two runs aimed at one directory cannot interleave their files: the second one waits for the lock, or exits
with `LockedError` when `wait=False`.

The lock is an `fcntl` lock on the local filesystem. On object stores (gs://, s3://) there is no lock: give
each scheduled run its own output directory there.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import uuid

from apache_beam.io.filesystems import FileSystems

from pipeline.manifest import SUCCESS_NAME


class LockedError(RuntimeError):
    """Another run holds the output directory's lock."""


def is_local(path: str) -> bool:
    return "://" not in path


def read_marker(out: str) -> str | None:
    marker = FileSystems.join(out, SUCCESS_NAME)
    if not FileSystems.exists(marker):
        return None
    with FileSystems.open(marker) as f:
        return f.read().decode("utf-8").strip()


@contextlib.contextmanager
def locked(out: str, *, wait: bool = False):
    """Hold the output directory's lock for the duration of the block (no-op on object stores)."""
    if not is_local(out):
        yield
        return
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, ".lock"), "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise LockedError(f"{out} is being written by another run (lock {out}/.lock held); "
                              f"wait for it or choose another output directory") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def new_staging(out: str) -> str:
    """A fresh staging folder; staging folders left by crashed runs are removed (call under the lock)."""
    if is_local(out):
        for name in os.listdir(out):
            if name.startswith(".staging-"):
                shutil.rmtree(os.path.join(out, name), ignore_errors=True)
    staging = FileSystems.join(out, f".staging-{uuid.uuid4().hex[:12]}")
    FileSystems.mkdirs(staging)
    return staging


def commit(staging: str, out: str, names: list[str], marker: str) -> None:
    """Move `names` from staging into `out` and write the marker last (call under the lock)."""
    marker_path = FileSystems.join(out, SUCCESS_NAME)
    if FileSystems.exists(marker_path):
        FileSystems.delete([marker_path])
    for name in names:
        source, target = FileSystems.join(staging, name), FileSystems.join(out, name)
        if not FileSystems.exists(source):
            continue
        if FileSystems.exists(target):
            FileSystems.delete([target])
        FileSystems.rename([source], [target])
    with FileSystems.create(marker_path) as f:
        f.write(marker.encode("utf-8") + b"\n")
    FileSystems.delete([staging])
