"""What identifies a preprocess or summarize run (pipeline/completion.py): what changes its fingerprint, what
does not, and the one-line errors it raises before anything runs."""

import os

import pytest

from configs.load import load_config
from contract import export_format
from pipeline import completion
from tests.fixtures import pairs, write_jsonl
from workspace.errors import InputError, UsageError


def _preprocess(tmp_path, *more):
    return load_config([], ["source.format=jsonl", f"source.paths=[{tmp_path / 'pairs.jsonl'}]",
                            f"preprocess.output_dir={tmp_path / 'out'}", *more])


def test_the_preprocess_fingerprint_follows_inputs_config_and_code(tmp_path, monkeypatch):
    write_jsonl(tmp_path / "pairs.jsonl", pairs(5))
    run = completion.preprocess_run(_preprocess(tmp_path))
    stat = os.stat(tmp_path / "pairs.jsonl")
    assert run.inputs == [{"path": str(tmp_path / "pairs.jsonl"), "split": "", "size": stat.st_size,
                           "mtime": stat.st_mtime}]
    assert run.input_paths == [str(tmp_path / "pairs.jsonl")] and run.job == "preprocess"
    assert run.output_dir == str(tmp_path / "out") and "manifest.json" in run.names
    assert completion.preprocess_run(_preprocess(tmp_path)).fingerprint == run.fingerprint  # stable
    # Where it is written and how the runner runs it shape no record: a copied output is still complete.
    same = _preprocess(tmp_path, f"preprocess.output_dir={tmp_path / 'elsewhere'}", "beam.direct_num_workers=2")
    assert completion.preprocess_run(same).fingerprint == run.fingerprint
    assert completion.preprocess_run(_preprocess(tmp_path, "clean.lowercase=true")).fingerprint != run.fingerprint
    os.utime(tmp_path / "pairs.jsonl", (stat.st_atime, stat.st_mtime + 5))
    touched = completion.preprocess_run(_preprocess(tmp_path))
    assert touched.fingerprint != run.fingerprint
    monkeypatch.setattr(completion, "code_version", lambda: "0.1.0+another")
    assert completion.preprocess_run(_preprocess(tmp_path)).fingerprint != touched.fingerprint


def _export_dir(tmp_path):
    """The files of a finished export that identify it (contents made up: nothing here loads the model)."""
    export = tmp_path / "export"
    export.mkdir()
    (export / export_format.INFO_FILE).write_text('{"fingerprint": "w1"}')
    (export / "saved_model.pb").write_bytes(b"graph")
    (export / "_SUCCESS").write_text("w1\n")
    return export


def _summarize(tmp_path, *more):
    return load_config([], [f"summarize.model_dir={tmp_path / 'export'}",
                            f"summarize.inputs=[{tmp_path / 'docs.jsonl'}]", f"summarize.output_dir={tmp_path / 'out'}",
                            *more])


def test_the_summarize_fingerprint_follows_documents_model_config_and_code(tmp_path):
    export = _export_dir(tmp_path)
    write_jsonl(tmp_path / "docs.jsonl", pairs(3))
    run = completion.summarize_run(_summarize(tmp_path))
    assert run.input_paths == [str(tmp_path / "docs.jsonl")] and run.job == "summarize"
    assert completion.summarize_run(_summarize(tmp_path, f"summarize.output_dir={tmp_path / 'b'}")).fingerprint \
        == run.fingerprint
    for change in ("summarize.batch_size=4", "summarize.long_documents=chunk", "clean.lowercase=true"):
        assert completion.summarize_run(_summarize(tmp_path, change)).fingerprint != run.fingerprint, change
    write_jsonl(tmp_path / "docs.jsonl", pairs(4))
    more_docs = completion.summarize_run(_summarize(tmp_path))
    assert more_docs.fingerprint != run.fingerprint
    (export / export_format.INFO_FILE).write_text('{"fingerprint": "w2"}')  # exported again, other weights
    assert completion.summarize_run(_summarize(tmp_path)).fingerprint != more_docs.fingerprint


def test_an_incomplete_export_or_no_documents_is_one_line_before_anything_runs(tmp_path):
    export = _export_dir(tmp_path)
    write_jsonl(tmp_path / "docs.jsonl", pairs(1))
    os.remove(export / "_SUCCESS")
    with pytest.raises(InputError) as e:
        completion.summarize_run(_summarize(tmp_path))
    assert str(e.value) == (f"summarize.model_dir {str(export)!r} holds no complete exported model (no _SUCCESS); "
                            f"run `sumflow export` first or give --model-dir")
    (export / "_SUCCESS").write_text("w1\n")
    with pytest.raises(InputError, match="give the documents to summarize"):
        completion.summarize_run(load_config([], [f"summarize.model_dir={export}"]))


def test_a_directory_the_run_may_not_write_is_refused_before_the_marker_is_read(tmp_path):
    write_jsonl(tmp_path / "pairs.jsonl", pairs(2))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("the user's")
    config = _preprocess(tmp_path)
    with pytest.raises(UsageError, match="is not empty"):
        completion.check_preprocess(config)
    assert completion.check_preprocess(config, allow_nonempty=True)[1] is None  # no marker: it must run
    (tmp_path / "out" / "_SUCCESS").write_text(completion.preprocess_run(config).fingerprint + "\n")
    with pytest.raises(UsageError, match="_SUCCESS exists and was not written by `sumflow preprocess`"):
        completion.check_preprocess(config, allow_nonempty=True)  # a marker sumflow did not write counts for nothing


def test_inputs_are_checked_again_before_anything_is_marked_complete(tmp_path):
    """Issue 23, item 4: size and mtime of every input as recorded at the start, the same files matched."""
    source = tmp_path / "pairs.jsonl"
    write_jsonl(source, pairs(5))
    config = _preprocess(tmp_path)
    run = completion.preprocess_run(config)
    completion.check_inputs_unchanged(run, config)  # unchanged: no error
    size, stat = os.path.getsize(source), os.stat(source)

    def changed(detail: str) -> str:
        return f"input {source} changed while it was read ({detail}); nothing was marked complete: rerun"

    write_jsonl(source, pairs(4))
    with pytest.raises(InputError) as e:
        completion.check_inputs_unchanged(run, config)
    assert str(e.value) == changed(f"{size} bytes when the run began, {os.path.getsize(source)} now")
    write_jsonl(source, pairs(5, seed=0))  # the same bytes again, written later
    os.utime(source, (stat.st_atime, 1_700_000_000.25))
    with pytest.raises(InputError) as e:
        completion.check_inputs_unchanged(run, config)
    began = completion._utc(stat.st_mtime)
    assert str(e.value) == changed(f"modified at 2023-11-14 22:13:20.25 UTC, {began} when the run began")
    os.remove(source)
    with pytest.raises(InputError) as e:
        completion.check_inputs_unchanged(run, config)
    assert str(e.value) == changed("it is gone")


def test_a_new_file_matched_or_records_lost_in_a_single_pass_are_changes_too(tmp_path):
    write_jsonl(tmp_path / "a.jsonl", pairs(2))
    config = load_config([], ["source.format=jsonl", f"source.paths=[{tmp_path}/*.jsonl]",
                              f"preprocess.output_dir={tmp_path / 'out'}"])
    run = completion.preprocess_run(config)
    completion.check_inputs_unchanged(run, config, records_read=2, records_counted=2)
    with pytest.raises(InputError) as e:
        completion.check_inputs_unchanged(run, config, records_read=1, records_counted=2)
    assert str(e.value) == (f"input {tmp_path / 'a.jsonl'} changed while it was read (2 records counted when the "
                            f"run began, 1 read); nothing was marked complete: rerun")
    write_jsonl(tmp_path / "b.jsonl", pairs(1))
    with pytest.raises(InputError) as e:
        completion.check_inputs_unchanged(run, config)
    assert str(e.value) == (f"input {tmp_path / 'b.jsonl'} changed while it was read (a new file matched by the "
                            f"input patterns since the run began); nothing was marked complete: rerun")


def test_a_failure_while_the_inputs_changed_is_reported_as_the_change(tmp_path):
    source = tmp_path / "pairs.jsonl"
    write_jsonl(source, pairs(3))
    config = _preprocess(tmp_path)
    run = completion.preprocess_run(config)
    with pytest.raises(InputError, match=r"changed while it was read \(it is gone\)"):
        with completion.inputs_held(run, config):
            os.remove(source)
            raise InputError(f"{source} cannot be read to its end")
    write_jsonl(source, pairs(3))
    run = completion.preprocess_run(config)
    with pytest.raises(ValueError, match="a bug"):  # inputs as they were: the block's own error
        with completion.inputs_held(run, config):
            raise ValueError("a bug")
    with completion.inputs_held(run, config):
        pass
