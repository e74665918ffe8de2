"""Progress: counters in any process write marked lines; the view sums them per task into one line."""

import os

import pytest

from workspace import progress
from workspace.progress import MARK, Counter, ProgressView


class _Screen:
    def __init__(self):
        self.out = ""

    def write_raw(self, text):
        self.out += text


def _mark(task, key, count, total=0, start=100.0):
    return f"{MARK}\t{task}\t{key}\t{count}\t{total}\tdocs\t{start}\n"


def test_counts_of_every_worker_are_summed_with_rate_and_eta(monkeypatch):
    now = [110.0]
    monkeypatch.setattr(progress.time, "time", lambda: now[0])
    screen = _Screen()
    view = ProgressView(screen, interactive=False)
    view.feed(_mark("summarize", "1.a", 30, total=100, start=100.0))
    view.feed(_mark("summarize", "2.b", 20, total=100, start=101.0))
    view.feed(_mark("summarize", "1.a", 40, total=100, start=100.0))  # a later count of the same counter
    assert view.line("summarize") == "summarize: 60/100 docs (60%), 6.0 docs/s, 00:10, ETA 00:06"
    assert screen.out == ""  # a plain line every 30 s only
    view.end_line()
    assert screen.out == "summarize: 60/100 docs (60%), 6.0 docs/s, 00:10, ETA 00:06\n"
    view.end_line()
    assert screen.out.count("\n") == 1  # nothing new counted: nothing written again


def test_an_interactive_line_is_redrawn_in_place_and_ended_before_other_output(monkeypatch):
    monkeypatch.setattr(progress.time, "time", lambda: 105.0)
    screen = _Screen()
    view = ProgressView(screen, interactive=True)
    view.feed(_mark("evaluate: scored", "1.a", 500, start=100.0))
    assert screen.out == "\r\x1b[Kevaluate: scored: 500 docs, 100 docs/s, 00:05"
    view.end_line()
    assert screen.out.endswith("\r\x1b[Kevaluate: scored: 500 docs, 100 docs/s, 00:05\n")


@pytest.mark.parametrize("env, expected", [({progress.LISTENING_ENV: "1"}, "mark"),
                                           ({"SUMFLOW_VERBOSE": "1"}, "log"), ({}, "off")])
def test_a_counter_marks_its_lines_only_where_a_job_listens(monkeypatch, env, expected):
    for name in (progress.LISTENING_ENV, "SUMFLOW_VERBOSE"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    written = []
    monkeypatch.setattr(os, "write", lambda fd, data: written.append((fd, data)))
    counter = Counter("t", total=5, unit="docs")
    counter.add(2)
    counter.flush()
    assert counter._mode == expected
    if expected == "mark":
        fd, data = written[-1]
        assert fd == 2 and data.decode().startswith(f"{MARK}\tt\t{os.getpid()}.") and "\t2\t5\tdocs\t" in data.decode()
    else:
        assert written == []
