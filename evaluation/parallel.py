"""Run a function over chunks of items in a pool of processes, results in input order.

Used for per-document work that is pure Python and independent across documents (ROUGE, the extractive
oracle), where threads gain nothing (GIL). Each process builds its heavy objects once, in `initializer`.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from typing import Any, Callable, Sequence

from workspace.progress import Counter


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def map_chunks(function: Callable[[list], Any], items: Sequence, *, workers: int, chunk_size: int,
               initializer: Callable[..., None], initargs: tuple = (), progress: str = "") -> list:
    """`[function(chunk) for chunk in chunks]`, chunks of `chunk_size` items, in `workers` processes.

    workers: 0 = one per core. `initializer(*initargs)` runs once in each process before its first chunk.
    With one worker, or fewer than two chunks, everything runs in this process (no pool to start).
    progress: a task name to count the items done under on the operator's terminal (workspace/progress.py).
    """
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be >= 1, got {chunk_size}")
    chunks = [list(items[i:i + chunk_size]) for i in range(0, len(items), chunk_size)]
    workers = workers or available_cores()
    counter = Counter(progress, total=len(items), unit="docs") if progress else None
    if workers <= 1 or len(chunks) < 2:
        initializer(*initargs)
        return _counted(map(function, chunks), chunks, counter)
    # fork (Linux) starts workers with the parent's modules imported: rouge-score pulls in nltk, 3 s a
    # process under spawn. Callers run pure-Python work, so the usual fork-with-threads hazards do not bite.
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    with context.Pool(min(workers, len(chunks)), initializer=initializer, initargs=initargs) as pool:
        return _counted(pool.imap(function, chunks, chunksize=1), chunks, counter)


def _counted(results, chunks: list, counter: Counter | None) -> list:
    out = []
    for chunk, result in zip(chunks, results):
        out.append(result)
        if counter is not None:
            counter.add(len(chunk))
    if counter is not None:
        counter.flush()
    return out
