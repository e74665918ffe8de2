"""The errors an operator can fix, each with the exit code a scheduler acts on (README "Exit codes").

Library code raises these with a message that says what to fix; the CLI (jobs/cli.py) prints that message as
one line on stderr and exits with the class's code, the traceback only with `--debug`. Plain Python: every
layer (config, data contract, Beam jobs, training) may raise them.

A Beam worker's exception reaches the launching process as text inside the runner's own error (every
runner wraps it differently), so `from_text` finds ours in that text by their qualified class name.

An operating-system error on the way (a full disk, a directory sumflow may not write) is not a bug: `os_error`
turns it, raised here or found in a worker's text, into a UsageError (exit 2: the operator frees space or
chooses another directory) that names the path and the errno, e.g. "cannot write out/data: No space left on
device (ENOSPC)". Unreadable inputs are InputErrors (exit 3) where they are read (workspace/input_files.py).
"""

from __future__ import annotations

import errno as errnos
import re


class SumflowError(Exception):
    """Base class: an error whose message is meant for the operator."""

    exit_code = 1


class UsageError(SumflowError):
    """Bad usage or config: a value to change, a directory to choose (exit 2)."""

    exit_code = 2


class InputError(SumflowError):
    """The input cannot be used as it is: missing, truncated, corrupt, empty (exit 3)."""

    exit_code = 3


class LockedError(SumflowError):
    """Another run holds the output directory's lock: retry later (exit 75, EX_TEMPFAIL)."""

    exit_code = 75


_BY_NAME = {cls.__name__: cls for cls in (UsageError, InputError, LockedError)}
_IN_TEXT = re.compile(r"workspace\.errors\.(" + "|".join(_BY_NAME) + r"): ([^\n]+)")


def from_text(text: str) -> SumflowError | None:
    """The first of our errors named in `text` (a runner's error that wraps a worker traceback), or None."""
    match = _IN_TEXT.search(text)
    if match is None:
        return None
    message = match.group(2).split("\\n")[0]  # a repr'd traceback keeps its newlines escaped
    return _BY_NAME[match.group(1)](without_stage(message).rstrip("'\""))


# "OSError: [Errno 28] No space left on device" or "PermissionError: [Errno 13] Permission denied: '/x/y'"
_OS_IN_TEXT = re.compile(r"\b\w*Error: \[Errno (\d+)\] ([^\n:'\[\\]+?)(?:: '([^'\n]+)')?"
                         r"(?=\s*\[while running|\\n|\n|'|\"|$)")
_WRITING = {errnos.ENOSPC, errnos.EDQUOT, errnos.EROFS, errnos.EFBIG}  # only a write gets these


def os_error(error: BaseException, *, output: str | None = None) -> UsageError | None:
    """The one-line error for an OSError, raised here or reported in a worker's text; None for anything else.

    `output`: the output directory being written, named where the error names no path (a write() on a full
    disk names no file)."""
    if isinstance(error, SumflowError):
        return None
    if isinstance(error, OSError) and error.errno is not None:
        number, reason, path = error.errno, error.strerror or str(error), error.filename
    else:
        match = _OS_IN_TEXT.search(str(error))
        if match is None:
            return None
        number, reason, path = int(match.group(1)), match.group(2).strip(), match.group(3)
    writing = number in _WRITING or (output is not None and (path is None or _inside(str(path), output)))
    path = path or output
    name = errnos.errorcode.get(number, f"errno {number}")
    verb = "cannot write" if writing else "cannot access"
    return UsageError(f"{verb} {path}: {reason} ({name})" if path else f"{reason} ({name})")


def _inside(path: str, folder: str) -> bool:
    import os

    path, folder = os.path.abspath(path), os.path.abspath(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def without_stage(message: str) -> str:
    """The message without the " [while running 'Stage']" that Beam appends to an error raised in a stage."""
    return re.sub(r" \[while running '[^']*'\]", "", message).strip()
