"""A scheduled rerun whose output is already complete decides without importing Beam or TensorFlow, and one
whose input or config changed runs again: preprocess, train and summarize from the CLI, as cron runs them.

Each no-op runs the real CLI in a subprocess that writes, at exit, which of Beam, TensorFlow and Keras got
imported. The time it takes is measured by benchmarks/noop.py, not here.
"""

import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.fixtures import TINY_MODEL, pairs, write_jsonl

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HEAVY = ("apache_beam", "tensorflow", "keras")
# `python -c PROBE ARGS...` runs `sumflow ARGS...` and writes the heavy packages it imported to $PROBE_OUT.
PROBE = """
import atexit, json, os, sys
heavy = set(json.loads(os.environ["PROBE_HEAVY"]))
atexit.register(lambda: open(os.environ["PROBE_OUT"], "w").write(
    json.dumps(sorted({m.split(".")[0] for m in list(sys.modules)} & heavy))))
from jobs.cli import main
main()
"""
OVERRIDES = TINY_MODEL + ["train.epochs=1", "train.steps_per_epoch=2", "decode.max_length=6",
                          "tokenizer.vocab_size=400", "clean.min_article_words=5", "dedup.near=false",
                          "split.train=0.8", "split.validation=0.1", "split.test=0.1"]


def sumflow(*args, cwd, probe=False):
    """(the finished process, the heavy packages it imported, or None when not probed)."""
    out = os.path.join(str(cwd), "probe.json")
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2", PROBE_OUT=out, PROBE_HEAVY=json.dumps(HEAVY))
    command = [sys.executable, "-c", PROBE] if probe else [sys.executable, "-m", "jobs.cli"]
    result = subprocess.run([*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, f"sumflow {' '.join(args)} failed:\n{result.stderr[-4000:]}"
    if not probe:
        return result, None
    with open(out) as f:
        return result, json.load(f)


def args(job, *more):
    common = ["-c", "jsonl", "--set", "source.paths=[pairs.jsonl]"] + sum((["--set", o] for o in OVERRIDES), [])
    return [job, *common, *more]


PREPROCESS = ("-o", "data")
TRAIN = ("--data-dir", "data", "--model-dir", "model")
SUMMARIZE = ("-i", "docs.jsonl", "--model-dir", "export", "-o", "summaries")


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    """Complete outputs of every job in one folder (tiny: a few seconds of work each)."""
    root = tmp_path_factory.mktemp("flow")
    write_jsonl(root / "pairs.jsonl", pairs(60))
    write_jsonl(root / "docs.jsonl", [{"id": r["id"], "article": r["article"]} for r in pairs(3, seed=5)])
    sumflow(*args("preprocess", *PREPROCESS), cwd=root)
    sumflow(*args("train", *TRAIN), cwd=root)
    sumflow(*args("export", "--model-dir", "model", "--export-dir", "export"), cwd=root)
    sumflow(*args("summarize", *SUMMARIZE), cwd=root)
    return root


def assert_noop(result, imported, job):
    assert "nothing to do" in result.stderr, result.stderr[-2000:]
    assert imported == [], f"`sumflow {job}` imported {imported} before finding its output complete"


@pytest.mark.slow
def test_preprocess(flow):
    assert_noop(*sumflow(*args("preprocess", *PREPROCESS), cwd=flow, probe=True), "preprocess")
    shutil.copytree(flow / "data", flow / "data2")
    assert_noop(*sumflow(*args("preprocess", "-o", "data2"), cwd=flow, probe=True), "preprocess")  # a copy
    stat = os.stat(flow / "pairs.jsonl")
    os.utime(flow / "pairs.jsonl", (stat.st_atime, stat.st_mtime + 10))  # the input was written again
    try:
        rerun, imported = sumflow(*args("preprocess", "-o", "data2"), cwd=flow, probe=True)
    finally:
        os.utime(flow / "pairs.jsonl", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert "nothing to do" not in rerun.stderr and "preprocess: wrote" in rerun.stderr
    assert "apache_beam" in imported  # the probe sees the imports it reports absent above


@pytest.mark.slow
def test_train(flow):
    assert_noop(*sumflow(*args("train", *TRAIN), cwd=flow, probe=True), "train")
    shutil.copytree(flow / "model", flow / "model2")
    rerun, _ = sumflow(*args("train", "--data-dir", "data", "--model-dir", "model2", "--set",
                             "train.steps_per_epoch=3"), cwd=flow)
    assert "nothing to do" not in rerun.stderr and "train: best" in rerun.stderr


@pytest.mark.slow
def test_summarize(flow):
    assert_noop(*sumflow(*args("summarize", *SUMMARIZE), cwd=flow, probe=True), "summarize")
    shutil.copytree(flow / "summaries", flow / "summaries2")
    with open(flow / "docs.jsonl", "a") as f:  # one more document in the dump
        f.write(json.dumps({"id": "late", "article": pairs(1, seed=9)[0]["article"]}) + "\n")
    rerun, _ = sumflow(*args("summarize", "-i", "docs.jsonl", "--model-dir", "export", "-o", "summaries2"),
                       cwd=flow)
    assert "nothing to do" not in rerun.stderr and "summarize: 4 summaries" in rerun.stderr
