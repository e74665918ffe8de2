"""Output directories that belong to their user: sumflow touches only the files it wrote there.

Every job that writes a directory records what it wrote in `{out}/.sumflow-owned.json` ({"job", "files"}).
Before a run, `claim` refuses (UsageError, exit 2):
  - a non-empty directory that holds no earlier output of the same job, unless the user allows it
    (`--allow-nonempty`: sumflow's files are then added beside the user's);
  - any name the job writes that already exists and is not recorded as sumflow's (the user's `data/`,
    `config.yaml`, ...), with or without that permission;
  - an input file that is one of the files the run would replace.
A staged run (`staged`) writes everything under `{out}/.sumflow-staging-{id}/`, then, holding
`{out}/.sumflow.lock`: records old + new files, deletes only the old files that the new output does not
replace, moves the new files into place, writes the marker (`_SUCCESS`) last and records the new files.
A crashed run leaves its staging folder (removed by the next run) and a record that still covers every file
it may have moved, so nothing of a user's is ever deleted and nothing of sumflow's is orphaned.
The swap itself (from removing the old `_SUCCESS` to writing the new one) holds `out`'s swap lock, an
exclusive `flock` on the directory: a sumflow reader holds it shared while it checks `_SUCCESS` and reads
(workspace/readers.py `snapshot`), so it reads the complete old output or the complete new one, never the
files of both; a swap waits for the readers in progress, and a reader for the swap in progress. A reader
that takes no lock and checks `_SUCCESS` before and after it reads sees the swap as "not complete".

The lock is an `fcntl` lock on the local filesystem. On object stores (gs://, s3://) there is no lock: give
each scheduled run its own output directory there. Local paths use `os` and import nothing heavy (training
and the no-op check use this module); other filesystems go through Beam's FileSystems (workspace/files.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from typing import Iterable, Iterator

from workspace.errors import LockedError, UsageError, os_error
from workspace.files import exists, filesystem as _fs, is_local, join, read_text, write_text  # noqa: F401  (outputs.join ...)

SUCCESS_NAME = "_SUCCESS"
OWNED_NAME = ".sumflow-owned.json"
LOCK_NAME = ".sumflow.lock"
STAGING_PREFIX = ".sumflow-staging-"
_OPEN_STAGING: set[str] = set()  # this process's staging folders not yet committed or removed
_BOOKKEEPING = (OWNED_NAME, LOCK_NAME)

__all__ = ["LockedError", "claim", "commit", "locked", "owned_files", "read_marker", "record", "staged",
           "swap_lock"]


def _entries(out: str) -> list[str]:
    """Top-level names in `out`, sumflow's bookkeeping (lock, record, staging folders) left out."""
    if is_local(out):
        names = os.listdir(out) if os.path.isdir(out) else []
    else:
        names = sorted({rel.split("/", 1)[0] for rel in _files_under(out)})
    return sorted(n for n in names if n not in _BOOKKEEPING and not n.startswith(STAGING_PREFIX))


def _files_under(root: str) -> list[str]:
    """Every file below `root`, relative to it, with `/` separators."""
    if is_local(root):
        out = []
        for folder, _, files in os.walk(root):
            rel = os.path.relpath(folder, root)
            out.extend(name if rel == "." else f"{rel}/{name}".replace(os.sep, "/") for name in files)
        return sorted(out)
    prefix = root.rstrip("/") + "/"
    matched = _fs().match([prefix + "**"])[0].metadata_list
    return sorted(m.path[len(prefix):] for m in matched)


def _read_owned(out: str) -> dict | None:
    path = join(out, OWNED_NAME)
    if not exists(path):
        return None
    try:
        record = json.loads(read_text(path))
        return {"job": str(record["job"]), "files": [str(f) for f in record["files"]]}
    except (ValueError, KeyError, TypeError):
        raise UsageError(f"{path} is unreadable (not written by this sumflow?); move it away or choose "
                         f"another output directory") from None


def _write_owned(out: str, job: str, files: Iterable[str]) -> None:
    write_text(join(out, OWNED_NAME), json.dumps({"job": job, "files": sorted(set(files))}, indent=1))


def record(out: str, *, job: str, files: Iterable[str]) -> None:
    """Record `files` (names relative to `out`; a folder as `name/`) as written by `job` in `out`, for a job
    that writes in place (training): call under the lock, after `claim`, before writing them."""
    _write_owned(out, job, [*owned_files(out, job), *files])


def owned_files(out: str, job: str) -> list[str]:
    """The files (or whole folders, ending in `/`) that an earlier `job` run recorded writing in `out`."""
    record = _read_owned(out)
    return record["files"] if record and record["job"] == job else []


def _covers(owned: Iterable[str], rel: str) -> bool:
    return any(rel == f or (f.endswith("/") and rel.startswith(f)) or f.startswith(rel + "/") for f in owned)


def claim(out: str, *, job: str, names: Iterable[str], allow_nonempty: bool = False,
          inputs: Iterable[str] = ()) -> None:
    """Check, before anything is written, that `job` may write its top-level `names` into `out`."""
    if is_local(out) and os.path.exists(out) and not os.path.isdir(out):
        raise UsageError(f"output directory {out} is a file; choose a directory")
    if not exists(out) and is_local(out):
        return
    record = _read_owned(out)
    if record and record["job"] != job:
        raise UsageError(f"{out} holds the output of `sumflow {record['job']}`; give `sumflow {job}` a directory "
                         f"of its own")
    owned = record["files"] if record else []
    entries = _entries(out)
    foreign = [n for n in entries if not _covers(owned, n)]
    if foreign and not record and not allow_nonempty:
        shown = ", ".join(foreign[:3]) + (", ..." if len(foreign) > 3 else "")
        raise UsageError(f"{out} is not empty ({shown}) and holds no earlier `sumflow {job}` output; choose a new "
                         f"or empty directory, or pass --allow-nonempty to add sumflow's files beside these")
    for name in names:
        if name in entries and not _covers(owned, name):
            raise UsageError(f"{join(out, name)} exists and was not written by `sumflow {job}`; move it or "
                             f"choose another output directory (sumflow never replaces files it did not write)")
    where = os.path.abspath(out) if is_local(out) else out
    for path in inputs:
        rel = os.path.relpath(os.path.abspath(path), where) if is_local(path) else path[len(where) + 1:] \
            if path.startswith(where + "/") else ""
        if rel and not rel.startswith("..") and _covers(owned, rel.replace(os.sep, "/")) and not rel.endswith("/"):
            raise UsageError(f"input {path} is part of the earlier `sumflow {job}` output in {out}, which this "
                             f"run replaces; copy it elsewhere or choose another output directory")


@contextlib.contextmanager
def locked(out: str, *, wait: bool = False):
    """Hold the output directory's lock for the duration of the block (no-op on object stores)."""
    if not is_local(out):
        yield
        return
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(out, LOCK_NAME), "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            raise LockedError(f"{out} is being {_held_by(handle)} by another run (lock {LOCK_NAME} held); wait for "
                              f"it or choose another output directory") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@contextlib.contextmanager
def swap_lock(out: str, *, shared: bool = False) -> Iterator[None]:
    """Hold `out`'s swap lock (a `flock` on the directory itself) for the block, waiting for it: exclusive
    for a commit, shared for a reader (module doc). No-op on object stores and for a missing directory."""
    if not is_local(out) or not os.path.isdir(out):
        yield
        return
    fd = os.open(out, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _held_by(handle) -> str:
    """"read" when only readers hold the lock (shared: `sumflow train` reading its data), else "written"."""
    try:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return "written"
    fcntl.flock(handle, fcntl.LOCK_UN)
    return "read"


def read_marker(out: str) -> str | None:
    marker = join(out, SUCCESS_NAME)
    return read_text(marker).strip() if exists(marker) else None


def remove_stale_staging(out: str) -> None:
    """Remove the staging folders that crashed runs left in `out` (call under the lock)."""
    if is_local(out) and os.path.isdir(out):
        for name in os.listdir(out):
            if name.startswith(STAGING_PREFIX):
                shutil.rmtree(os.path.join(out, name), ignore_errors=True)


def remove_open_staging() -> None:
    """Remove this process's staging folders now: for a stopped run whose unwinding (which removes them) did
    not end in time (jobs/cli.py)."""
    for staging in list(_OPEN_STAGING):
        _remove_tree(staging)
        _OPEN_STAGING.discard(staging)


def tidy_complete(out: str) -> None:
    """For a run that finds its output complete: remove staging folders left by a crashed later run, if no
    other run holds the directory (then it is that run's, and it is left alone)."""
    if not is_local(out) or not any(n.startswith(STAGING_PREFIX) for n in os.listdir(out)):
        return
    try:
        with locked(out):
            remove_stale_staging(out)
    except LockedError:
        pass


def new_staging(out: str) -> str:
    """A fresh staging folder; staging folders left by crashed runs are removed (call under the lock)."""
    remove_stale_staging(out)
    staging = join(out, f"{STAGING_PREFIX}{uuid.uuid4().hex[:12]}")
    if is_local(staging):
        os.makedirs(staging)
    else:
        _fs().mkdirs(staging)
    return staging


def _remove_tree(path: str) -> None:
    if is_local(path):
        shutil.rmtree(path, ignore_errors=True)
    elif _files_under(path):
        _fs().delete([path])


def _delete_owned(out: str, rel: str) -> None:
    path = join(out, rel.rstrip("/"))
    if rel.endswith("/"):
        _remove_tree(path)
    elif is_local(path):
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
    elif exists(path):
        _fs().delete([path])


def _prune_empty_parents(out: str, rels: Iterable[str]) -> None:
    """Remove folders that held only sumflow's replaced files (a user's file keeps its folder)."""
    if not is_local(out):
        return  # object stores have no folders
    folders = {os.path.dirname(rel.rstrip("/")) for rel in rels}
    for folder in sorted((f for f in folders if f), key=lambda f: -f.count("/")):
        while folder:
            with contextlib.suppress(OSError):
                os.rmdir(os.path.join(out, folder))
            folder = os.path.dirname(folder)


def _move(source: str, target: str) -> None:
    if is_local(source):
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(source, target)
    else:
        _fs().rename([source], [target])


def commit(staging: str, out: str, *, job: str, marker: str, keep: Iterable[str] = ()) -> list[str]:
    """Replace the earlier output of `job` in `out` with the files in `staging` (call under the lock); `keep`:
    files of the earlier output that stay in place as part of the new one (an appended dataset's earlier
    generations).

    Returns the files now recorded as sumflow's.
    """
    new = _files_under(staging)
    old = owned_files(out, job)
    clashes = [rel for rel in new if exists(join(out, rel)) and not _covers(old, rel)]
    if clashes:
        raise UsageError(f"{join(out, clashes[0])} exists and was not written by `sumflow {job}`; move it or "
                         f"choose another output directory")
    keep = set(keep)
    kept = [rel for rel in old if rel in keep and rel not in new and rel != SUCCESS_NAME]
    stale = [rel for rel in old if rel not in new and rel != SUCCESS_NAME and rel not in keep]
    with swap_lock(out):  # readers see the old output or the new one (module doc)
        _write_owned(out, job, old + new + [SUCCESS_NAME])  # a crash from here on leaves nothing unrecorded
        _delete_owned(out, SUCCESS_NAME)
        for rel in stale:
            _delete_owned(out, rel)
        _prune_empty_parents(out, stale)
        for rel in new:
            _move(join(staging, rel), join(out, rel))
        write_text(join(out, SUCCESS_NAME), marker + "\n")
        _write_owned(out, job, new + kept + [SUCCESS_NAME])
    _remove_tree(staging)
    return new + kept + [SUCCESS_NAME]


@contextlib.contextmanager
def staged(out: str, *, job: str, names: Iterable[str], allow_nonempty: bool = False,
           inputs: Iterable[str] = (), claimed: bool = False) -> Iterator[str]:
    """Claim `out` for `job`, lock it and yield a staging folder; the caller commits it.

    The claim is made before the lock (nothing is created in a directory sumflow may not write, not even the
    lock file) unless the caller `claimed` it already (the jobs' completion check does), and under the lock.

    On an error the staging folder is removed and the directory is left as it was. An OS error on the way (a
    full disk, a directory sumflow may not write), raised here or in a Beam worker, becomes one UsageError that
    names the path (`out` where the error names none) and the errno (workspace/errors.py `os_error`).
    """
    names = list(names)
    try:
        if not claimed:
            claim(out, job=job, names=names, allow_nonempty=allow_nonempty, inputs=inputs)
        with locked(out):
            claim(out, job=job, names=names, allow_nonempty=allow_nonempty, inputs=inputs)  # under the lock now
            staging = new_staging(out)
            _OPEN_STAGING.add(staging)
            try:
                yield staging
            except BaseException:
                _remove_tree(staging)
                raise
            finally:
                _OPEN_STAGING.discard(staging)
    except Exception as e:  # noqa: BLE001  (re-raised, as one line where it is an OS error)
        problem = os_error(e, output=out)
        if problem is None:
            raise
        raise problem from e
