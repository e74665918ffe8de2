"""The errors an operator can fix, each with the exit code a scheduler acts on (README "Exit codes").

Library code raises these with a message that says what to fix; the CLI (jobs/cli.py) prints that message as
one line on stderr and exits with the class's code, the traceback only with `--debug`. Plain Python: every
layer (config, data contract, Beam jobs, training) may raise them.

A Beam worker's exception reaches the launching process as text inside the runner's own error (every
runner wraps it differently), so `from_text` finds ours in that text by their qualified class name.
"""

from __future__ import annotations

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


def without_stage(message: str) -> str:
    """The message without the " [while running 'Stage']" that Beam appends to an error raised in a stage."""
    return re.sub(r" \[while running '[^']*'\]", "", message).strip()
