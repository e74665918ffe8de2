"""Issue 23, item 4, through the real CLI in the default runner mode: an input rewritten between preprocess's
two passes, or while summarize's one pass reads it, fails the run (exit 3, one line naming the file) and
nothing is marked complete; an earlier output stays as it was. The CLI runs in this process so that the
test can rewrite the input at a known point (just before the pipeline that reads it is built)."""

import os

import pytest

from pipeline import preprocess
from tests.fixtures import pairs, write_jsonl


def _sumflow_in_process(args, capsys) -> tuple[int, str]:
    """(exit code, stderr) of `sumflow ARGS` run in this process, so a test can step in between the passes."""
    from jobs.cli import main

    with pytest.raises(SystemExit) as stop:
        main.main(list(args))
    return stop.value.code, capsys.readouterr().err


def _first_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.startswith("sumflow")]
    return lines[0] if lines else ""


def _rewrite_before_pass_two(monkeypatch, path, records):
    """Pass two starts by building its pipeline: rewrite the input just before it, after pass one read it."""
    build_write = preprocess.build_write

    def rewritten_then_build(*args, **kwargs):
        write_jsonl(path, records)
        return build_write(*args, **kwargs)

    monkeypatch.setattr(preprocess, "build_write", rewritten_then_build)


def _args(tmp_path):
    return ["preprocess", "-c", "jsonl", "--set", f"source.paths=[{tmp_path / 'pairs.jsonl'}]",
            "--set", "tokenizer.vocab_size=400", "--set", "clean.min_article_words=5",
            "--set", "beam.direct_num_workers=2", "-o", str(tmp_path / "out")]


def test_an_input_rewritten_between_the_passes_fails_and_nothing_is_marked_complete(tmp_path, capsys,
                                                                                    monkeypatch):
    monkeypatch.delenv("SUMFLOW_DEBUG", raising=False)
    source = tmp_path / "pairs.jsonl"
    write_jsonl(source, pairs(60))
    before = os.path.getsize(source)
    _rewrite_before_pass_two(monkeypatch, source, pairs(50))
    code, stderr = _sumflow_in_process(_args(tmp_path), capsys)
    assert code == 3, stderr[-3000:]
    assert _first_line(stderr) == (f"sumflow preprocess: input {source} changed while it was read ({before} bytes "
                                   f"when the run began, {os.path.getsize(source)} now); nothing was marked "
                                   f"complete: rerun")
    assert "Traceback" not in stderr
    assert os.listdir(tmp_path / "out") == [".sumflow.lock"]  # no _SUCCESS, manifest, data or staging folder


@pytest.mark.slow
def test_an_earlier_output_stays_when_the_next_run_reads_a_changing_input(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("SUMFLOW_DEBUG", raising=False)
    source = tmp_path / "pairs.jsonl"
    write_jsonl(source, pairs(60))
    code, stderr = _sumflow_in_process(_args(tmp_path), capsys)
    assert code == 0, stderr[-3000:]
    out = tmp_path / "out"
    manifest, marker = (out / "manifest.json").read_bytes(), (out / "_SUCCESS").read_bytes()
    write_jsonl(source, pairs(70))  # a new version: the next run has work to do
    _rewrite_before_pass_two(monkeypatch, source, pairs(70, seed=1))
    code, stderr = _sumflow_in_process(_args(tmp_path), capsys)
    assert code == 3, stderr[-3000:]
    assert _first_line(stderr).startswith(f"sumflow preprocess: input {source} changed while it was read (")
    assert _first_line(stderr).endswith("); nothing was marked complete: rerun")
    assert (out / "manifest.json").read_bytes() == manifest and (out / "_SUCCESS").read_bytes() == marker
    assert not [n for n in os.listdir(out) if n.startswith(".sumflow-staging")]


@pytest.mark.slow
def test_documents_rewritten_while_summarize_reads_them_fail_the_run(tmp_path, capsys, monkeypatch):
    """The single-pass job: the documents are rewritten after the run recorded them, while its one pipeline
    is built and run; exit 3 naming the file, no _SUCCESS."""
    from pipeline import summarize
    from tests.fixtures import exported

    monkeypatch.delenv("SUMFLOW_DEBUG", raising=False)
    (tmp_path / "model").mkdir()
    export_dir = exported(tmp_path / "model")
    docs = tmp_path / "docs.jsonl"
    write_jsonl(docs, [{"id": i, "article": r["article"]} for i, r in enumerate(pairs(4, seed=3))])
    before = os.path.getsize(docs)
    build = summarize.build

    def rewritten_then_build(*args, **kwargs):
        write_jsonl(docs, [{"id": i, "article": r["article"]} for i, r in enumerate(pairs(2, seed=3))])
        return build(*args, **kwargs)

    monkeypatch.setattr(summarize, "build", rewritten_then_build)
    code, stderr = _sumflow_in_process(["summarize", "-i", str(docs), "--model-dir", export_dir,
                                        "-o", str(tmp_path / "out")], capsys)
    assert code == 3, stderr[-3000:]
    assert _first_line(stderr) == (f"sumflow summarize: input {docs} changed while it was read ({before} bytes "
                                   f"when the run began, {os.path.getsize(docs)} now); nothing was marked "
                                   f"complete: rerun")
    assert "Traceback" not in stderr
    assert not (tmp_path / "out" / "_SUCCESS").exists()


@pytest.mark.parametrize("content", ["", "\n\n  \n", '{"id": "a", "body": "one two three four five six", "summary": "x"}\n'])
def test_an_input_with_no_usable_record_is_one_line_naming_the_file(tmp_path, content):
    """Issue 23, item 3: an empty file, blank lines only, a wrong field name: in the default mode, one line
    (no worker traceback) that names the file read, exit 3."""
    from tests.jobs.test_trust import sumflow

    (tmp_path / "in.jsonl").write_text(content)
    result = sumflow(["preprocess", "-c", "jsonl", "-i", "in.jsonl", "-o", "out"], tmp_path)
    assert result.returncode == 3, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("sumflow")]
    assert len(lines) == 1 and lines[0].startswith("sumflow preprocess: the train split holds no records")
    assert lines[0].endswith(f"; read from in.jsonl ({len(content.encode()):,} bytes)")
