"""The memory allocator under `sumflow train` (../shared/ENVIRONMENT.md pitfall 19; benchmarks/allocator.py).

TensorFlow on CPU frees and allocates tensors of megabytes at every step; under glibc's malloc those pages go
back to the kernel and fault in again at the next step (about a million minor page faults per 80 steps of the
default config). Where tcmalloc is installed (Debian: libtcmalloc-minimal4), `train` restarts itself with it
preloaded before anything is imported: measured 4x fewer page faults, 2.2x less system time and 0.85x the
wall time of the same training run; preprocess (Beam) gained nothing measurable, so it keeps glibc's.
SUMFLOW_ALLOCATOR=system keeps the system's allocator. Plain Python; nothing here imports TensorFlow or Beam.
"""

from __future__ import annotations

import os
import sys

ENV = "SUMFLOW_ALLOCATOR"  # auto (default): tcmalloc for the jobs below where installed; system: never
JOBS = ("train",)
TCMALLOC_NAMES = ("libtcmalloc_minimal.so.4", "libtcmalloc.so.4")
LIBRARY_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib",
                "/usr/local/lib")


def find_tcmalloc() -> str | None:
    """The path of an installed tcmalloc, or None."""
    for directory in LIBRARY_DIRS:
        for name in TCMALLOC_NAMES:
            path = os.path.join(directory, name)
            if os.path.exists(path):
                return path
    return None


def preload_for(job: str) -> None:
    """For a job of JOBS, where tcmalloc is installed and not yet loaded: restart this process (the same
    interpreter and arguments) with tcmalloc in LD_PRELOAD. Returns where there is nothing to do."""
    if job not in JOBS or os.environ.get(ENV, "auto") == "system" or not sys.platform.startswith("linux"):
        return
    path = find_tcmalloc()
    preload = os.environ.get("LD_PRELOAD", "")
    if path is None or "tcmalloc" in preload:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]],
              dict(os.environ, LD_PRELOAD=":".join(filter(None, [path, preload]))))


def describe() -> str:
    """The allocator this process runs with: 'tcmalloc' or 'the system malloc'."""
    try:
        with open("/proc/self/maps") as f:
            return "tcmalloc" if "tcmalloc" in f.read() else "the system malloc"
    except OSError:
        return "the system malloc"
