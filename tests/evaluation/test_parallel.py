import os

import pytest

from evaluation import parallel
from evaluation.parallel import available_cores, map_chunks

# Set by `_init` in whichever process runs the chunks: shows where the initializer ran.
_STATE = {}


def _init(tag):
    _STATE["tag"] = tag
    _STATE["calls"] = _STATE.get("calls", 0) + 1


def _describe(chunk):
    return _STATE["tag"], _STATE["calls"], os.getpid(), chunk


def _sum(chunk):
    return sum(chunk)


@pytest.fixture(autouse=True)
def fresh_state():
    _STATE.clear()
    yield
    _STATE.clear()


def test_available_cores_counts_the_affinity_mask(monkeypatch):
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 3, 5}, raising=False)
    assert available_cores() == 3


def test_available_cores_without_an_affinity_mask_counts_the_machine(monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 7)
    assert available_cores() == 7
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert available_cores() == 1


def test_chunk_size_must_be_positive():
    with pytest.raises(ValueError) as raised:
        map_chunks(_sum, [1, 2], workers=1, chunk_size=0, initializer=_init, initargs=("x",))
    assert str(raised.value) == "chunk_size must be >= 1, got 0"
    assert _STATE == {}  # nothing ran


def test_one_worker_runs_every_chunk_here_after_one_initializer_call():
    results = map_chunks(_describe, range(7), workers=1, chunk_size=3, initializer=_init, initargs=("here",))
    me = os.getpid()
    assert results == [("here", 1, me, [0, 1, 2]), ("here", 1, me, [3, 4, 5]), ("here", 1, me, [6])]


def test_a_single_chunk_runs_here_whatever_the_workers():
    assert map_chunks(_describe, "ab", workers=8, chunk_size=5, initializer=_init, initargs=("one",)) == [
        ("one", 1, os.getpid(), ["a", "b"])]


def test_no_items_give_no_results_but_the_initializer_still_runs():
    assert map_chunks(_sum, [], workers=4, chunk_size=2, initializer=_init, initargs=("empty",)) == []
    assert _STATE == {"tag": "empty", "calls": 1}


def test_zero_workers_means_one_per_core(monkeypatch):
    monkeypatch.setattr(parallel, "available_cores", lambda: 1)
    assert map_chunks(_sum, [1, 2, 3, 4, 5], workers=0, chunk_size=2, initializer=_init, initargs=("c",)) == [
        3, 7, 5]
    assert _STATE == {"tag": "c", "calls": 1}  # one core: ran in this process


def test_a_pool_keeps_input_order_and_initializes_each_worker():
    results = map_chunks(_describe, list(range(10)), workers=2, chunk_size=2, initializer=_init,
                         initargs=("pool",))
    assert [chunk for _, _, _, chunk in results] == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]
    assert {(tag, calls) for tag, calls, _, _ in results} == {("pool", 1)}  # once per worker process
    assert os.getpid() not in {pid for _, _, pid, _ in results}
    assert _STATE == {}  # the initializer never ran in this process
