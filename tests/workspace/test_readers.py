"""What a reader checks before reading a sumflow output: complete (`_SUCCESS`), not being written, and never
half-way through a swap of old output for new."""

import fcntl
import glob
import json
import os
import threading

import pytest

from workspace import outputs
from workspace.errors import InputError, LockedError
from workspace.readers import require_complete, shared_lock, snapshot


def _output(root, *, complete: bool):
    (root / "summaries").mkdir(parents=True)
    (root / "summaries" / "s-0.jsonl").write_text("{}\n")
    (root / "mine.jsonl").write_text("{}\n")  # the user's own file beside sumflow's (--allow-nonempty)
    (root / ".sumflow-owned.json").write_text(json.dumps({"job": "summarize",
                                                          "files": ["summaries/s-0.jsonl", "_SUCCESS"]}))
    if complete:
        (root / "_SUCCESS").write_text("x\n")


def test_a_file_or_glob_of_an_unfinished_output_is_refused(tmp_path):
    _output(tmp_path / "out", complete=False)
    for path in (tmp_path / "out" / "summaries" / "s-0.jsonl", tmp_path / "out" / "summaries" / "*.jsonl",
                 tmp_path / "out" / "*" / "*.jsonl"):
        with pytest.raises(InputError, match=r"a `sumflow summarize` output that is not complete \(no _SUCCESS"):
            require_complete(str(path), what="evaluate:")


def test_a_staging_folder_is_refused_even_before_a_first_commit(tmp_path):
    staged = tmp_path / "new" / ".sumflow-staging-0a1b"
    with pytest.raises(InputError) as raised:
        require_complete(str(staged / "summaries" / "*.jsonl"), what="evaluate:")
    assert str(raised.value) == (f"evaluate: {staged / 'summaries' / '*.jsonl'} is inside the staging folder of a "
                                 f"run writing {tmp_path / 'new'}; read its output once the run has finished "
                                 f"(its _SUCCESS is written)")


def test_a_complete_output_a_users_file_and_a_plain_folder_are_read(tmp_path):
    _output(tmp_path / "out", complete=False)
    require_complete(str(tmp_path / "out" / "mine.jsonl"), what="x")  # not sumflow's: nothing to check
    (tmp_path / "plain").mkdir()
    require_complete(str(tmp_path / "plain" / "*.jsonl"), what="x")
    _output(tmp_path / "done", complete=True)
    require_complete(str(tmp_path / "done" / "summaries" / "*.jsonl"), what="x")


def test_a_writers_lock_makes_a_reader_exit_75(tmp_path):
    with shared_lock(str(tmp_path), what="model"):  # no lock file: no writer ever ran there
        pass
    with open(tmp_path / ".sumflow.lock", "a+") as writer:
        fcntl.flock(writer, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(LockedError) as raised:
            with shared_lock(str(tmp_path), what="summarize.model_dir"):
                pass
        assert str(raised.value) == (f"summarize.model_dir {tmp_path} is being written by another run (lock "
                                     f".sumflow.lock held, e.g. `sumflow export`); retry when it is done")
        fcntl.flock(writer, fcntl.LOCK_UN)
    with shared_lock(str(tmp_path), what="model"), shared_lock(str(tmp_path), what="model"):  # readers share
        pass


def _summaries(out, content: str, *, files: int = 6):
    with outputs.staged(str(out), job="summarize", names=["summaries", "_SUCCESS"]) as staging:
        for i in range(files):
            outputs.write_text(os.path.join(staging, "summaries", f"s-{i}.jsonl"), content)
        outputs.commit(staging, str(out), job="summarize", marker=content)


def _read_all(out) -> tuple[set, int]:
    with snapshot(str(out / "summaries" / "*.jsonl"), what="evaluate:"):
        paths = glob.glob(str(out / "summaries" / "*.jsonl"))
        return {open(p).read() for p in paths}, len(paths)


def test_a_reader_during_a_swap_waits_and_reads_the_new_output_whole(tmp_path, monkeypatch):
    out = tmp_path / "out"
    _summaries(out, "old")
    moved, waiting, seen = [], [], []
    real_move = outputs._move

    def move(source, target):  # stop half-way through the swap and look at the directory from a reader
        real_move(source, target)
        moved.append(target)
        if len(moved) == 3:
            with pytest.raises(InputError, match="not complete"):  # without the lock: "not complete", no mix
                require_complete(str(out / "summaries" / "*.jsonl"), what="evaluate:")
            reader = threading.Thread(target=lambda: seen.append(_read_all(out)))
            reader.start()
            reader.join(0.5)
            assert reader.is_alive()  # a sumflow reader waits for the swap to end
            waiting.append(reader)

    monkeypatch.setattr(outputs, "_move", move)
    _summaries(out, "new")
    waiting[0].join(10)
    assert seen == [({"new"}, 6)]


def test_a_swap_waits_for_the_readers_in_progress(tmp_path):
    out = tmp_path / "out"
    _summaries(out, "old")
    with snapshot(str(out / "summaries" / "*.jsonl"), what="evaluate:"):
        writer = threading.Thread(target=_summaries, args=(out, "new"))
        writer.start()
        writer.join(0.5)
        assert writer.is_alive() and {p.read_text() for p in (out / "summaries").iterdir()} == {"old"}
    writer.join(10)
    assert _read_all(out) == ({"new"}, 6)
