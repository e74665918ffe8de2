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
import select
import sys
import threading

from workspace.progress import LISTENING_ENV, MARK, ProgressView

# Lines from a dependency that the operator must see, whatever the verbosity.
_PROBLEM = re.compile(r"Traceback \(most recent call last\)|\b(?:Segmentation fault|Killed|MemoryError|"
                      r"ResourceExhaustedError|Out of memory|OOM when allocating)\b")
_TRACEBACK = "Traceback (most recent call last)"
_CHAINED = re.compile(r"During handling of the above exception|The above exception was the direct cause")
# A frame of the SDK worker's harness running an instruction: it prints the traceback of a failed bundle
# (apache_beam/runners/worker/sdk_worker.py, SdkHarness._execute) and sends it to the launcher.
_REPORTED_BY_WORKER = re.compile(r'sdk_worker\.py", line \d+, in _execute\b')
# Dependency lines that look like problems and are not: TensorFlow probing for a GPU on a CPU-only machine.
_HARMLESS = re.compile(r"failed call to cuInit|Could not find cuda drivers|cuda_(?:diagnostics|executor|dnn)")

_PAUSE = 0.5  # seconds without output after which a held traceback is shown

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
    its final error line), a fatal signal, running out of memory; never the GPU probe of a CPU-only machine.

    A traceback is held until it ends (with the tracebacks chained to it), then shown whole, except two kinds
    that the launching process reports itself, in one line: the one a Beam SDK worker prints for a bundle that
    failed (its chain passes through the harness's `_execute`; the same traceback reaches the launcher as the
    error it raises: jobs/cli.py, `--debug` shows it) and a KeyboardInterrupt (Ctrl-C reaches the workers too;
    the launcher says "interrupted")."""

    def __init__(self):
        self._held: list[str] = []  # the traceback chain being read
        self._in_frames = False  # in a traceback's frames (else, with lines held: after its final line)

    def feed(self, line: str) -> list[str]:
        """The lines to show now: `line`, a whole traceback chain that just ended, or none."""
        if self._held:
            if self._in_frames:
                self._held.append(line)
                self._in_frames = line.startswith((" ", "\t")) or not line.strip()
                return []
            chained = _TRACEBACK in line and any(_CHAINED.match(held) for held in self._held[-3:])
            if not line.strip() or _CHAINED.match(line) or chained:
                self._held.append(line)
                self._in_frames = chained
                return []
            return self.flush() + self.feed(line)
        if _HARMLESS.search(line):
            return []
        if _TRACEBACK in line:
            self._held, self._in_frames = [line], True
            return []
        return [line] if _PROBLEM.search(line) else []

    def flush(self) -> list[str]:
        """The traceback held so far, if it is one to show (at the end of the output, or after a pause)."""
        held, self._held, self._in_frames = self._held, [], False
        while held and not held[-1].strip():
            held.pop()
        if any(_REPORTED_BY_WORKER.search(line) for line in held):
            return []
        if held and held[-1].strip() == "KeyboardInterrupt":
            return []
        return held


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
        if _state.get("silenced") and threading.current_thread() is not threading.main_thread():
            return len(text)
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


def silence() -> None:
    """From now on the dependencies' output and other threads' writes are dropped: the job is stopping on a
    signal and its workers' last words (tracebacks of cancelled calls) are noise; sumflow's own line follows."""
    _state["silenced"] = True


def _pump(read_fd: int, terminal: _Terminal) -> None:
    problems = ProblemFilter()
    pending = b""
    while True:
        ready, _, _ = select.select([read_fd], [], [], _PAUSE)
        if not ready:  # a pause: a traceback held so far is complete
            _show(terminal, problems.flush())
            continue
        chunk = os.read(read_fd, 65536)
        if not chunk:
            break
        *lines, pending = (pending + chunk).split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "backslashreplace") + "\n"
            if line.startswith(MARK):
                terminal.progress.feed(line)
            else:
                _show(terminal, problems.feed(line))
    if pending:
        _show(terminal, problems.feed(pending.decode("utf-8", "backslashreplace")))
    _show(terminal, problems.flush())
    os.close(read_fd)


def _show(terminal: _Terminal, lines: list[str]) -> None:
    if lines and not _state.get("silenced"):
        terminal.write("".join(lines))


def _restore() -> None:
    """At exit: descriptor 2 back to the terminal, so the pump sees the pipe close and drains it."""
    _state["filtered"].close()
    os.dup2(_state["terminal_fd"], 2)
    _state["thread"].join(timeout=2)
    sys.stderr.progress.end_line()
    sys.stderr.flush()
