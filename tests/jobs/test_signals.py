"""Issue 23: a job stopped by a scheduler (SIGTERM) or Ctrl-C (SIGINT) mid-run, in the default runner mode (the
multi-process local runner), ends in one line and exit 128 + the signal's number; its staging folder and Beam's
temporary folders are gone, no worker it started is left running, nothing is marked complete, and a rerun does
the whole job."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.fixtures import pairs, write_jsonl

PROGRAM = "from jobs.cli import main; main()"  # `sumflow`, as its console script runs it


def _start(tmp_path, out):
    source = tmp_path / "pairs.jsonl"
    if not source.exists():
        write_jsonl(source, pairs(3000))
    env = dict(os.environ, TMPDIR=str(tmp_path / "tmp"))
    env.pop("SUMFLOW_DEBUG", None)
    os.makedirs(env["TMPDIR"], exist_ok=True)
    args = [sys.executable, "-c", PROGRAM, "preprocess", "-c", "jsonl", "--set", f"source.paths=[{source}]",
            "--set", "tokenizer.vocab_size=400", "--set", "clean.min_article_words=5", "-o", str(out)]
    return subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
                            cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))


def _wait_for_staging(process, out, then: float, timeout=240):
    """Until the run has its staging folder (it has claimed the output and is starting its pipelines), then
    `then` seconds more."""
    deadline = time.time() + timeout
    while time.time() < deadline and process.poll() is None:
        if out.exists() and any(name.startswith(".sumflow-staging") for name in os.listdir(out)):
            time.sleep(then)
            return
        time.sleep(0.2)
    pytest.fail(f"no staging folder in {out}; the run ended with {process.poll()}")


@pytest.mark.slow
@pytest.mark.parametrize("number, word, then", [
    (signal.SIGTERM, "terminated", 0.0),  # while Beam starts its workers (its cleanup waited on them forever)
    (signal.SIGTERM, "terminated", 3.0),  # inside the first pass's workers
    (signal.SIGINT, "interrupted", 3.0),
])
def test_a_stopped_run_says_so_in_one_line_and_leaves_nothing_behind(tmp_path, number, word, then):
    out = tmp_path / "out"
    process = _start(tmp_path, out)
    _wait_for_staging(process, out, then)
    process.send_signal(number)
    try:
        _, stderr = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
        pytest.fail(f"the run did not stop within 120 s of the signal: {stderr[-2000:]}")
    assert process.returncode == 128 + number, stderr[-3000:]
    assert stderr.splitlines()[-1] == f"sumflow preprocess: {word}", stderr[-3000:]
    assert "Traceback" not in stderr
    assert sorted(os.listdir(out)) == [".sumflow.lock"]  # no staging folder, no _SUCCESS
    assert not [name for name in os.listdir(tmp_path / "tmp") if name.startswith("beam-pipeline-temp")]
    assert _running_with(f"TMPDIR={tmp_path / 'tmp'}") == []  # Beam's workers ended with the run


def _running_with(variable: str) -> list[int]:
    """Live processes whose environment holds `variable` (the run's and its workers', which inherit it)."""
    found = []
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{name}/environ", "rb") as f:
                environ = f.read().split(b"\0")
            with open(f"/proc/{name}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if variable.encode() in environ and state != "Z":
            found.append(int(name))
    return found
