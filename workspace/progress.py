"""Progress of long work, from wherever it runs to the operator's terminal.

The work runs in Beam SDK worker processes and scoring pools as often as in the job's own process, so a
`Counter` does not draw anything: every second or so it writes its running count as one marked line to
descriptor 2, which every worker inherits from the job. In a default (quiet) run, descriptor 2 is the pipe
that workspace/terminal.py reads; there `ProgressView` sums the counts of every counter of a task and draws
one line per task: redrawn in place (4 times a second at most) on a terminal, a plain line every 30 s when
stderr is a file or a pipe (cron). Progress never reaches stdout or a data output. With `sumflow -v` (no
filter) a counter logs a plain line every 10 s instead; where nothing listens (a library call, a test), it
stays silent.
"""

from __future__ import annotations

import logging
import os
import threading
import time

MARK = "\x1esumflow-progress"
LISTENING_ENV = "SUMFLOW_PROGRESS"  # set by workspace/terminal.py in the job's process; workers inherit it
_EVERY_S = 1.0


class Counter:
    """A running count of one task (`"summarize"`, `"preprocess pass 1/2"`), reported from any process."""

    def __init__(self, task: str, *, total: int = 0, unit: str = "records"):
        self.task, self.total, self.unit = task, total, unit
        self.count = 0
        self._key = f"{os.getpid()}.{id(self)}"
        self._mode = ("mark" if os.environ.get(LISTENING_ENV) else
                      "log" if os.environ.get("SUMFLOW_VERBOSE", "") not in ("", "0") else "off")
        self._start = self._last = time.time()

    def add(self, n: int = 1) -> None:
        self.count += n
        now = time.time()
        if now - self._last >= (_EVERY_S if self._mode == "mark" else 10.0):
            self._last = now
            self.flush()

    def flush(self) -> None:
        if self._mode == "mark" and self.count:
            os.write(2, f"{MARK}\t{self.task}\t{self._key}\t{self.count}\t{self.total}\t{self.unit}\t"
                        f"{self._start:.3f}\n".encode())
        elif self._mode == "log" and self.count:
            rate = self.count / max(time.time() - self._start, 1e-9)
            of = f" of {self.total}" if self.total else ""
            logging.getLogger("sumflow").warning("%s: %d%s %s in this worker, %.1f/s", self.task, self.count, of,
                                                 self.unit, rate)


def _human(n: float) -> str:
    return f"{n:,.0f}" if n >= 100 else f"{n:.1f}"


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}" if seconds >= 3600 else \
        f"{seconds // 60:02d}:{seconds % 60:02d}"


class ProgressView:
    """Sums the marked lines of each task's counters and draws them on `terminal` (see the module doc)."""

    def __init__(self, terminal, *, interactive: bool):
        self._terminal, self._interactive = terminal, interactive
        self._tasks: dict[str, dict] = {}
        self._open = ""  # the task whose interactive line is drawn and not yet ended
        self._pending: dict[str, None] = {}  # tasks counted since their line was last written
        self._last_draw = 0.0
        self.lock = threading.RLock()

    def feed(self, line: str) -> None:
        """One marked line (`MARK` already matched)."""
        try:
            _, task, key, count, total, unit, start = line.rstrip("\n").split("\t")
        except ValueError:
            return
        with self.lock:
            state = self._tasks.setdefault(task, {"counts": {}, "start": float(start), "drawn": time.time()})
            state["start"] = min(state["start"], float(start))  # the first counter of the task to start
            state["counts"][key] = int(count)
            state["updated"] = time.time()
            state.update(total=int(total), unit=unit)
            self._pending[task] = None
            self._draw(task, state)

    def line(self, task: str) -> str:
        state = self._tasks[task]
        done = sum(state["counts"].values())
        elapsed = max(state["updated"] - state["start"], 1e-9)  # until the latest count arrived
        rate = done / elapsed
        text = f"{task}: {done:,}"
        if state["total"]:
            text += f"/{state['total']:,} {state['unit']} ({done / state['total']:.0%})"
        else:
            text += f" {state['unit']}"
        text += f", {_human(rate)} {state['unit']}/s, {_clock(elapsed)}"
        if state["total"] and rate > 0 and done < state["total"]:
            text += f", ETA {_clock((state['total'] - done) / rate)}"
        return text

    def _draw(self, task: str, state: dict) -> None:
        now = time.time()
        if self._interactive:
            if now - self._last_draw >= 0.25:
                self._last_draw = now
                self._terminal.write_raw("\r\x1b[K" + self.line(task))
                self._open = task
                self._pending.pop(task, None)
        elif now - state["drawn"] >= 30.0:
            state["drawn"] = now
            self._terminal.write_raw(self.line(task) + "\n")
            self._pending.pop(task, None)

    def end_line(self) -> None:
        """Before other output: the latest state of every task counted since its line was last written stays
        on screen (an interactive line is ended), so a job's own lines never land inside a progress line."""
        with self.lock:
            if self._open:
                self._terminal.write_raw("\r\x1b[K" + self.line(self._open) + "\n")
                self._pending.pop(self._open, None)
                self._open = ""
            for task in list(self._pending):
                self._terminal.write_raw(self.line(task) + "\n")
            self._pending.clear()
