"""What a reader checks before reading a sumflow output: complete (`_SUCCESS`), and not being written."""

import fcntl
import json

import pytest

from workspace.errors import InputError, LockedError
from workspace.readers import require_complete, shared_lock


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
