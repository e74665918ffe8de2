"""Output directories: claim, lock, staged commit, and files that are never sumflow's to touch."""

import json
import os

import pytest

from workspace import outputs
from workspace.errors import LockedError, UsageError


def _commit(out, files: dict, job="preprocess", marker="m1", allow_nonempty=False, inputs=()):
    with outputs.staged(str(out), job=job, names=sorted({f.split("/")[0] for f in files}),
                        allow_nonempty=allow_nonempty, inputs=inputs) as staging:
        for rel, text in files.items():
            outputs.write_text(os.path.join(staging, rel), text)
        return outputs.commit(staging, str(out), job=job, marker=marker)


def test_a_new_directory_gets_the_files_a_marker_and_a_record(tmp_path):
    out = tmp_path / "out"
    recorded = _commit(out, {"data/a.txt": "a", "stats.json": "{}"})
    assert recorded == ["data/a.txt", "stats.json", "_SUCCESS"]
    assert sorted(os.listdir(out)) == [".sumflow-owned.json", ".sumflow.lock", "_SUCCESS", "data", "stats.json"]
    assert json.loads((out / ".sumflow-owned.json").read_text()) == {
        "job": "preprocess", "files": ["_SUCCESS", "data/a.txt", "stats.json"]}
    assert outputs.read_marker(str(out)) == "m1"


def test_a_rerun_replaces_its_own_files_only(tmp_path):
    out = tmp_path / "out"
    _commit(out, {"data/a.txt": "a", "data/b.txt": "b", "old/x.txt": "x"})
    (out / "data" / "mine.txt").write_text("user")
    _commit(out, {"data/a.txt": "A", "new.txt": "n"}, marker="m2")
    assert (out / "data" / "a.txt").read_text() == "A"
    assert not (out / "data" / "b.txt").exists() and not (out / "old").exists()  # sumflow's, gone with its folder
    assert (out / "data" / "mine.txt").read_text() == "user"
    assert outputs.owned_files(str(out), "preprocess") == ["_SUCCESS", "data/a.txt", "new.txt"]
    assert outputs.read_marker(str(out)) == "m2"


def test_a_non_empty_directory_needs_permission_and_clashes_are_refused(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "notes.txt").write_text("user")
    with pytest.raises(UsageError, match=r"is not empty \(notes.txt\) and holds no earlier `sumflow preprocess`"):
        _commit(out, {"data/a.txt": "a"})
    _commit(out, {"data/a.txt": "a"}, allow_nonempty=True)
    assert (out / "notes.txt").read_text() == "user"
    with pytest.raises(UsageError, match=r"notes.txt exists and was not written by `sumflow preprocess`"):
        _commit(out, {"notes.txt": "mine now"})
    assert (out / "notes.txt").read_text() == "user"


def test_a_file_level_clash_inside_an_owned_folder_is_refused_before_anything_moves(tmp_path):
    out = tmp_path / "out"
    _commit(out, {"data/a.txt": "a"})
    (out / "data" / "b.txt").write_text("user")
    with pytest.raises(UsageError, match=r"data/b.txt exists and was not written"):
        _commit(out, {"data/a.txt": "A", "data/b.txt": "b"})
    assert (out / "data" / "a.txt").read_text() == "a" and (out / "data" / "b.txt").read_text() == "user"
    assert not [n for n in os.listdir(out) if n.startswith(outputs.STAGING_PREFIX)]


def test_another_jobs_output_and_an_input_that_would_be_replaced_are_refused(tmp_path):
    out = tmp_path / "out"
    _commit(out, {"summaries/s.jsonl": "{}"}, job="summarize")
    with pytest.raises(UsageError, match="holds the output of `sumflow summarize`"):
        _commit(out, {"data/a.txt": "a"})
    with pytest.raises(UsageError, match="input .*s.jsonl is part of the earlier `sumflow summarize` output"):
        _commit(out, {"summaries/t.jsonl": "{}"}, job="summarize", inputs=[str(out / "summaries" / "s.jsonl")])


def test_a_failed_run_leaves_the_directory_as_it_was(tmp_path):
    out = tmp_path / "out"
    _commit(out, {"data/a.txt": "a"})
    with pytest.raises(RuntimeError):
        with outputs.staged(str(out), job="preprocess", names=["data"]) as staging:
            outputs.write_text(os.path.join(staging, "data", "a.txt"), "half")
            raise RuntimeError("pipeline failed")
    assert (out / "data" / "a.txt").read_text() == "a" and outputs.read_marker(str(out)) == "m1"
    assert not [n for n in os.listdir(out) if n.startswith(outputs.STAGING_PREFIX)]


def test_a_second_run_on_a_locked_directory_fails_at_once(tmp_path):
    with outputs.locked(str(tmp_path)):
        with pytest.raises(LockedError, match="being written by another run"):
            with outputs.locked(str(tmp_path)):
                pass


def test_in_place_jobs_record_whole_folders(tmp_path):
    out = tmp_path / "model"
    outputs.claim(str(out), job="train", names=["logs", "model.keras"])
    with outputs.locked(str(out)):
        outputs.record(str(out), job="train", files=["logs/", "model.keras"])
    (out / "logs" / "run-1").mkdir(parents=True)
    (out / "logs" / "run-1" / "events").write_text("e")
    outputs.claim(str(out), job="train", names=["logs", "model.keras"])  # its own folder: fine
    assert outputs.owned_files(str(out), "train") == ["logs/", "model.keras"]


def test_a_complete_output_loses_the_staging_folder_a_crashed_later_run_left(tmp_path):
    import fcntl

    out = tmp_path / "out"
    (out / ".sumflow-staging-abc" / "data").mkdir(parents=True)
    outputs.tidy_complete(str(out))
    assert not (out / ".sumflow-staging-abc").exists()
    (out / ".sumflow-staging-def").mkdir()
    with open(out / outputs.LOCK_NAME, "a+") as other:  # another run holds the directory: its folder stays
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        outputs.tidy_complete(str(out))
        fcntl.flock(other, fcntl.LOCK_UN)
    assert (out / ".sumflow-staging-def").exists()
