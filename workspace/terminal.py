"""What reaches the operator's terminal: sumflow's own lines, not its dependencies' logs.

TensorFlow's C++ runtime, absl, gRPC and Beam's SDK worker processes write straight to file descriptor 2, from
this process and from the worker processes it starts, so a Python logging setting cannot silence them. By
default (`quiet_dependencies()`), descriptor 2 becomes a pipe that a thread reads: a line that reports a real
problem (a Python traceback, a fatal signal, running out of memory) still reaches the terminal, every other
line is dropped; sumflow's own lines (`sys.stderr`, click's `err=True`) go to the terminal directly, and the
progress lines of workspace/progress.py become one progress display. With `sumflow -v` nothing is filtered.
"""

from __future__ import annotations

import atexit
import io
import logging
import os
import re
import sys
import threading

from workspace.progress import LISTENING_ENV, MARK, ProgressView

# Lines from a dependency that the operator must see, whatever the verbosity.
_PROBLEM = re.compile(r"Traceback \(most recent call last\)|\b(?:Segmentation fault|Killed|MemoryError|"
                      r"ResourceExhaustedError|Out of memory|OOM when allocating)\b")
# Dependency lines that look like problems and are not: TensorFlow probing for a GPU on a CPU-only machine.
_HARMLESS = re.compile(r"failed call to cuInit|Could not find cuda drivers|cuda_(?:diagnostics|executor|dnn)")

_state: dict = {}


def is_quiet() -> bool:
    return bool(_state)


def quiet_dependencies() -> None:
    """Filter descriptor 2 for the rest of this process and the processes it starts (idempotent)."""
    if _state:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    sys.stderr.flush()
    terminal_fd = os.dup(2)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    terminal = _Terminal(io.TextIOWrapper(os.fdopen(terminal_fd, "wb", buffering=0), encoding="utf-8",
                                          errors="backslashreplace", line_buffering=True, write_through=True))
    sys.stderr = terminal
    os.environ[LISTENING_ENV] = "1"
    # Python logging (ours at WARNING and Beam's, set up before this) writes to the filtered descriptor.
    filtered = io.TextIOWrapper(os.fdopen(os.dup(2), "wb", buffering=0), encoding="utf-8", write_through=True)
    for handler in logging.getLogger().handlers:
        if isinstance(handler, logging.StreamHandler):
            handler.setStream(filtered)
    thread = threading.Thread(target=_pump, args=(read_fd, terminal), name="sumflow-stderr", daemon=True)
    thread.start()
    _state.update(terminal_fd=terminal_fd, thread=thread, filtered=filtered)
    atexit.register(_restore)


class ProblemFilter:
    """Decides, line by line, what of a dependency's output reaches the terminal: a traceback (its frames and
    its final error line), a fatal signal, running out of memory; never the GPU probe of a CPU-only machine."""

    def __init__(self):
        self._in_traceback = False

    def keep(self, line: str) -> bool:
        if _HARMLESS.search(line):
            return False
        if _PROBLEM.search(line):
            self._in_traceback = line.startswith("Traceback")
            return True
        if self._in_traceback:
            if line.startswith((" ", "\t")):
                return True  # a frame
            self._in_traceback = False
            return ":" in line  # the final "SomeError: message" line
        return False


class _Terminal(io.TextIOBase):
    """sys.stderr while quiet: the terminal, with the progress display kept out of the way of other lines."""

    def __init__(self, stream):
        super().__init__()
        self._stream = stream
        self.progress = ProgressView(self, interactive=stream.isatty())

    def write_raw(self, text: str) -> int:
        self._stream.write(text)
        self._stream.flush()
        return len(text)

    def write(self, text: str) -> int:
        with self.progress.lock:
            self.progress.end_line()
            return self.write_raw(text)

    def flush(self) -> None:
        self._stream.flush()

    def isatty(self) -> bool:
        return self._stream.isatty()

    def fileno(self) -> int:
        return self._stream.fileno()

    @property
    def encoding(self):
        return self._stream.encoding


def _pump(read_fd: int, terminal: _Terminal) -> None:
    problems = ProblemFilter()
    with os.fdopen(read_fd, "rb") as pipe:
        for raw in pipe:
            line = raw.decode("utf-8", "backslashreplace")
            if line.startswith(MARK):
                terminal.progress.feed(line)
            elif problems.keep(line):
                terminal.write(line)


def _restore() -> None:
    """At exit: descriptor 2 back to the terminal, so the pump sees the pipe close and drains it."""
    _state["filtered"].close()
    os.dup2(_state["terminal_fd"], 2)
    _state["thread"].join(timeout=2)
    sys.stderr.progress.end_line()
    sys.stderr.flush()
