"""The processes a sumflow run started (Beam's local workers, their helpers): ended with it when a run is
stopped, so that a stopped run leaves no worker behind and its exit does not wait on one (Linux: /proc; where
there is no /proc, nothing is found and nothing is ended)."""

from __future__ import annotations

import os
import signal
import time


def _stat(pid: int) -> tuple[int, str] | None:
    """(parent pid, state) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()  # after "pid (command name)"
    except OSError:
        return None
    return int(fields[1]), fields[0]


def descendants(pid: int | None = None) -> list[int]:
    """The running (not zombie) processes below `pid` (default: this one), children first."""
    root = os.getpid() if pid is None else pid
    try:
        pids = [int(name) for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return []
    parents = {}
    for other in pids:
        stat = _stat(other)
        if stat is not None and stat[1] != "Z":
            parents[other] = stat[0]
    found, frontier = [], [root]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def end_descendants(grace_seconds: float = 5.0) -> None:
    """SIGTERM every process below this one, then SIGKILL those still running after `grace_seconds`."""
    pids = descendants()
    for number in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, number)
            except OSError:
                pass
        deadline = time.monotonic() + (grace_seconds if number == signal.SIGTERM else 0)
        while pids and time.monotonic() < deadline:
            time.sleep(0.05)
            pids = [pid for pid in pids if (_stat(pid) or (0, "Z"))[1] != "Z"]
        if not pids:
            return
