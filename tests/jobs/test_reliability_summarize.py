"""Issue 23, the summarize and evaluate side, through the real CLI in the default runner mode: no success
with nothing produced, one-line usage errors, evaluate over documents without predictions, readers that check
`_SUCCESS`, the exported model pinned (and locked while an export writes it), ids that keep their type and
position. Each case checks the exit code and the exact first line sumflow writes."""

import fcntl
import json
import os
import subprocess
import sys
import time

import pytest

from tests.evaluation.test_evaluate import DOCS
from tests.fixtures import exported, pairs, write_jsonl
from tests.jobs.test_trust import REPO, first_line, sumflow


def _rows(folder) -> list[dict]:
    return [json.loads(line) for name in sorted(os.listdir(folder))
            for line in open(os.path.join(folder, name), encoding="utf-8")]


def _no_traceback(result):
    assert "Traceback" not in result.stderr, result.stderr[-3000:]


# --- evaluate ----------------------------------------------------------------------------------------------

def _two_of_three(tmp_path):
    """References for the three DOCS, predictions for two of them (one document summarize dropped)."""
    write_jsonl(tmp_path / "refs.jsonl", [{"id": d["id"], "reference": d["reference"]} for d in DOCS])
    write_jsonl(tmp_path / "pred.jsonl", [{"id": d["id"], "summary": d["summary"]} for d in DOCS[:2]])
    return ["evaluate", "--predictions", "pred.jsonl", "--references", "refs.jsonl", "-o", "ev",
            "--set", "evaluate.bootstrap_samples=0", "--set", "evaluate.workers=1"]


def test_evaluate_refuses_a_reference_without_prediction_and_names_the_option(tmp_path):
    result = sumflow(_two_of_three(tmp_path), tmp_path)
    assert result.returncode == 3, result.stderr[-3000:]
    assert first_line(result) == ("sumflow evaluate: inputs do not line up on 'id'; --missing-predictions skip "
                                  "scores only the documents that have predictions:")
    assert "1 references have no prediction; missing from pred.jsonl: 'library'" in result.stderr
    _no_traceback(result)
    assert not (tmp_path / "ev" / "_SUCCESS").exists()


def test_evaluate_skips_references_without_prediction_and_lists_them(tmp_path):
    result = sumflow(_two_of_three(tmp_path) + ["--missing-predictions", "skip"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert ("evaluate: 1 references have no prediction and were not scored: 'library' (all listed in "
            "report.json missing_predictions)") in result.stderr.splitlines()
    report = json.loads((tmp_path / "ev" / "report.json").read_text())
    assert report["documents"] == 2
    assert report["missing_predictions"] == {"count": 1, "ids": ["library"]}
    note = ("1 references had no prediction and were not scored (--missing-predictions skip): 'library'; every "
            "id is in report.json, missing_predictions.")
    assert note in (tmp_path / "ev" / "report.md").read_text()
    assert note.replace("'", "&#x27;") in (tmp_path / "ev" / "report.html").read_text()
    assert len((tmp_path / "ev" / "per_document.jsonl").read_text().splitlines()) == 2


def _summarize_output(root, *, complete: bool):
    """A summarize output directory as the job leaves it: complete, or as a run killed while committing
    leaves it (its files recorded, no _SUCCESS)."""
    (root / "summaries").mkdir(parents=True)
    write_jsonl(root / "summaries" / "summaries-00000-of-00001.jsonl",
                [{"id": d["id"], "summary": d["summary"]} for d in DOCS])
    files = ["summaries/summaries-00000-of-00001.jsonl", "_SUCCESS"]
    (root / ".sumflow-owned.json").write_text(json.dumps({"job": "summarize", "files": files}))
    if complete:
        (root / "_SUCCESS").write_text("fingerprint\n")


def test_evaluate_refuses_a_summarize_output_without_success(tmp_path):
    _summarize_output(tmp_path / "s", complete=False)
    write_jsonl(tmp_path / "refs.jsonl", [{"id": d["id"], "reference": d["reference"]} for d in DOCS])
    args = ["evaluate", "--predictions", "s/summaries/*.jsonl", "--references", "refs.jsonl", "-o", "ev",
            "--set", "evaluate.bootstrap_samples=0", "--set", "evaluate.workers=1"]
    result = sumflow(args, tmp_path)
    assert result.returncode == 3, result.stderr[-3000:]
    assert first_line(result) == (
        f"sumflow evaluate: evaluate: s/summaries/*.jsonl is part of {tmp_path / 's'}, a `sumflow summarize` "
        f"output that is not complete (no _SUCCESS: its run failed or is still running); rerun "
        f"`sumflow summarize` there or wait for it to finish")
    _no_traceback(result)
    (tmp_path / "s" / "_SUCCESS").write_text("fingerprint\n")  # complete now: read
    assert sumflow(args, tmp_path).returncode == 0


def _first(reference):
    return reference if isinstance(reference, str) else reference[0]


def _waits_for_a_lock(job: subprocess.Popen, timeout: float = 120) -> bool:
    """Whether `job` comes to wait for a flock (a `->` entry of /proc/locks) within `timeout` s."""
    deadline, pid = time.monotonic() + timeout, job.pid
    while time.monotonic() < deadline and job.poll() is None:
        with open("/proc/locks") as f:
            if any("->" in line and "FLOCK" in line and f" {pid} " in f" {line} " for line in f):
                return True
        time.sleep(0.05)
    return False


@pytest.mark.skipif(not os.path.exists("/proc/locks"), reason="needs Linux's /proc/locks")
def test_evaluate_during_a_swap_waits_and_scores_the_new_output(tmp_path):
    _summarize_output(tmp_path / "s", complete=True)
    write_jsonl(tmp_path / "refs.jsonl", [{"id": d["id"], "reference": d["reference"]} for d in DOCS])
    args = ["evaluate", "--predictions", "s/summaries/*.jsonl", "--references", "refs.jsonl", "-o", "ev",
            "--set", "evaluate.bootstrap_samples=0", "--set", "evaluate.workers=1"]
    env = dict(os.environ, PYTHONPATH=REPO)
    env.pop("SUMFLOW_DEBUG", None)
    fd = os.open(tmp_path / "s", os.O_RDONLY | os.O_DIRECTORY)
    fcntl.flock(fd, fcntl.LOCK_EX)  # a summarize run half-way through replacing its output (workspace/outputs.py)
    (tmp_path / "s" / "_SUCCESS").unlink()
    job = subprocess.Popen([sys.executable, "-m", "jobs.cli", *args], cwd=tmp_path, env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert _waits_for_a_lock(job), job.stderr.read() if job.poll() is not None else "no wait seen"
        write_jsonl(tmp_path / "s" / "summaries" / "summaries-00000-of-00001.jsonl",
                    [{"id": d["id"], "summary": _first(d["reference"])} for d in DOCS])  # new: perfect
        (tmp_path / "s" / "_SUCCESS").write_text("fingerprint2\n")  # the swap's end
    finally:
        os.close(fd)
    _, stderr = job.communicate(timeout=300)
    assert job.returncode == 0, stderr[-3000:]
    rows = [json.loads(line) for line in (tmp_path / "ev" / "per_document.jsonl").read_text().splitlines()]
    assert len(rows) == len(DOCS) and all(row["system"]["rouge1"]["fmeasure"] == 1.0 for row in rows)


def test_evaluate_given_a_directory_as_predictions_exits_3(tmp_path):
    _summarize_output(tmp_path / "s", complete=True)
    result = sumflow(["evaluate", "--predictions", "s", "-o", "ev"], tmp_path)
    assert result.returncode == 3, result.stderr[-3000:]
    assert first_line(result) == ("sumflow evaluate: s is a directory; give the JSONL file(s) in it, e.g. "
                                  "'s/summaries/*.jsonl'")
    _no_traceback(result)


# --- summarize: usage errors (said before Beam or the model loads) -------------------------------------------

def _stdin_sumflow(args, cwd, stdin: str):
    import subprocess
    import sys

    from tests.jobs.test_trust import REPO

    env = dict(os.environ, PYTHONPATH=REPO)
    env.pop("SUMFLOW_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "jobs.cli", *args], cwd=cwd, env=env, input=stdin,
                          capture_output=True, text=True, timeout=600)


@pytest.mark.parametrize("args, stdin, expected", [
    (["--text", ""], "", "sumflow summarize: --text is empty; give the text to summarize (see 'sumflow summarize "
                         "--help')"),
    (["--text", "A text.", "--text", "  "], "", "sumflow summarize: --text is empty; give the text to summarize "
                                                "(see 'sumflow summarize --help')"),
    (["-i", "-"], "", "sumflow summarize: -i - read no text from stdin; pipe the documents in (one a line, or "
                      "blocks separated by blank lines) (see 'sumflow summarize --help')"),
    (["-i", "-"], "\n  \n\n", "sumflow summarize: -i - read no text from stdin; pipe the documents in (one a "
                              "line, or blocks separated by blank lines) (see 'sumflow summarize --help')"),
])
def test_summarize_an_empty_text_or_stdin_is_a_usage_error(tmp_path, args, stdin, expected):
    result = _stdin_sumflow(["summarize", "--model-dir", "no-model", *args], tmp_path, stdin)
    assert result.returncode == 2, result.stderr[-3000:]
    assert first_line(result) == expected
    _no_traceback(result)


def test_summarize_text_dir_given_a_file_is_a_usage_error(tmp_path):
    write_jsonl(tmp_path / "docs.jsonl", [{"id": i, "article": "A text."} for i in range(3)])
    result = sumflow(["summarize", "--format", "text_dir", "-i", "docs.jsonl", "--model-dir", "no-model",
                      "-o", "out"], tmp_path)
    assert result.returncode == 2, result.stderr[-3000:]
    assert first_line(result) == ("sumflow summarize: --format text_dir reads folders of text files (one "
                                  "document a file); docs.jsonl is a file: give its folder, or --format jsonl / "
                                  "tfrecord for a file of documents")
    _no_traceback(result)
    assert not (tmp_path / "out").exists()


# --- summarize with a tiny exported model, default runner mode -----------------------------------------------

@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    return exported(tmp_path_factory.mktemp("model"))


def test_summarize_refuses_while_an_export_holds_the_model_directory(tmp_path, export_dir):
    write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "article": "A river stone."}])
    with open(os.path.join(export_dir, ".sumflow.lock"), "a+") as export_lock:
        fcntl.flock(export_lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # as `sumflow export` holds it while it writes
        try:
            result = sumflow(["summarize", "-i", "docs.jsonl", "--model-dir", export_dir, "-o", "out"], tmp_path)
            text = _stdin_sumflow(["summarize", "--model-dir", export_dir, "--text", "A river stone."], tmp_path, "")
        finally:
            fcntl.flock(export_lock, fcntl.LOCK_UN)
    assert result.returncode == 75, result.stderr[-3000:]
    assert first_line(result) == (f"sumflow summarize: summarize.model_dir {export_dir} is being written by "
                                  f"another run (lock .sumflow.lock held, e.g. `sumflow export`); retry when it "
                                  f"is done")
    assert text.returncode == 75, text.stderr[-3000:]
    assert first_line(text) == (f"sumflow summarize: the model directory {export_dir} is being written by another "
                                f"run (lock .sumflow.lock held, e.g. `sumflow export`); retry when it is done")
    _no_traceback(result)
    assert not (tmp_path / "out" / "_SUCCESS").exists()


@pytest.mark.slow
def test_summarize_that_drops_every_document_fails_and_the_fixed_rerun_writes_typed_ids(tmp_path, export_dir):
    """The text field has another name: exit 3 naming the reason and the fix, no _SUCCESS; the rerun with the
    fix is not a no-op, and ids 1 and "1" are two documents, a missing id the document's position."""
    texts = [r["article"] for r in pairs(3, seed=4)]
    write_jsonl(tmp_path / "docs.jsonl", [{"id": 1, "body": texts[0]}, {"id": "1", "body": texts[1]},
                                          {"body": texts[2]}])
    args = ["summarize", "-i", "docs.jsonl", "--model-dir", export_dir, "-o", "out"]
    failed = sumflow(args, tmp_path)
    assert failed.returncode == 3, failed.stderr[-3000:]
    assert first_line(failed) == (
        "sumflow summarize: no document was summarized: all 3 were dropped, most as missing_field (3) (e.g. "
        "docs.jsonl:1): no text field 'article'; the first record has the fields 'id', 'body': name the text "
        "field with --set summarize.text_field=body (nothing was marked complete)")
    _no_traceback(failed)
    assert not (tmp_path / "out" / "_SUCCESS").exists()
    fixed = sumflow(args + ["--set", "summarize.text_field=body"], tmp_path)
    assert fixed.returncode == 0, fixed.stderr[-3000:]
    assert (tmp_path / "out" / "_SUCCESS").exists()
    rows = _rows(tmp_path / "out" / "summaries")
    assert sorted((json.dumps(r["id"]) for r in rows)) == ['"1"', '"docs.jsonl:3"', "1"]
    assert json.loads((tmp_path / "out" / "counts.json").read_text()) == {"input": 3, "summarized": 3}
