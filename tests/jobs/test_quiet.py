"""A default run prints sumflow's own lines only; -v (anywhere before `--`) shows the dependencies' logs."""

import os
import subprocess
import sys

from tests.fixtures import pairs, write_jsonl

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ARGS = ["preprocess", "-c", "jsonl", "-i", "pairs.jsonl", "--set", "tokenizer.vocab_size=400",
        "--set", "clean.min_article_words=5"]


def _run(*args, cwd):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "SUMFLOW_VERBOSE")}
    return subprocess.run([sys.executable, "-m", "jobs.cli", *args], cwd=cwd, capture_output=True, text=True,
                          env=dict(env, PYTHONPATH=REPO), timeout=600)


def test_default_output_is_sumflows_own_lines_and_verbose_shows_the_workers(tmp_path):
    write_jsonl(tmp_path / "pairs.jsonl", pairs(60))
    quiet = _run(*ARGS, "-o", "quiet", cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    lines = quiet.stderr.splitlines()
    assert [line.split(" (")[0].split(";")[0].split(",")[0] for line in lines] == [
        "preprocess: pass 1/2", "preprocess pass 1/2 read: 60 records",  # the last state of the progress line
        "preprocess: pass 2/2", "preprocess pass 2/2 read: 60 records",
        "preprocess: wrote 60 records train=56"]
    assert quiet.stdout == ""

    verbose = _run("-v", *ARGS, "-o", "verbose", cwd=tmp_path)
    assert verbose.returncode == 0, verbose.stderr
    assert "Logging handler created" in verbose.stderr  # a Beam SDK worker's own log line
    after_the_job = _run(*ARGS, "-o", "verbose2", "--verbose", cwd=tmp_path)
    assert "Logging handler created" in after_the_job.stderr


def test_a_failure_is_still_one_line_when_quiet(tmp_path):
    out = _run("preprocess", "-c", "jsonl", "-i", "missing.jsonl", "-o", "out", cwd=tmp_path)
    assert out.returncode == 3
    assert len(out.stderr.splitlines()) == 1 and out.stderr.startswith("sumflow preprocess: ")
