"""preprocess -> train (tiny) -> export -> summarize -> evaluate, from the CLI, as a user runs it."""

import glob
import json
import os
import re
import subprocess
import sys

import pytest

from tests.fixtures import TINY_MODEL, pairs, write_jsonl

# Lines the dependencies print that a default run must not show (Beam workers, TF/absl, the CUDA probe).
NOISE = re.compile(r"cuInit|oneDNN|absl::|Logging handler created|apitools|semi_persistent|cpu_feature_guard")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def sumflow(*args, cwd):
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")
    result = subprocess.run([sys.executable, "-m", "jobs.cli", *args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=900)
    assert result.returncode == 0, f"sumflow {' '.join(args)} failed:\n{result.stderr[-4000:]}"
    noise = [line for line in result.stderr.splitlines() if NOISE.search(line)]
    assert noise == [], f"dependency log lines reached the terminal of `sumflow {args[0]}`"
    return result


@pytest.mark.slow
def test_the_whole_flow_from_the_cli(tmp_path):
    write_jsonl(tmp_path / "pairs.jsonl", pairs(150))
    overrides = TINY_MODEL + ["train.epochs=1", "train.steps_per_epoch=6", "decode.max_length=8",
                              "decode.beam_size=2", "tokenizer.vocab_size=400", "clean.min_article_words=5",
                              "split.train=0.8", "split.validation=0.1", "split.test=0.1"]
    common = ["-c", "jsonl", "--set", f"source.paths=[{tmp_path / 'pairs.jsonl'}]"] + sum(
        (["--set", o] for o in overrides), [])
    sumflow("preprocess", *common, "-o", "data", cwd=tmp_path)
    sumflow("train", *common, "--data-dir", "data", "--model-dir", "model", cwd=tmp_path)
    sumflow("export", *common, "--model-dir", "model", "--export-dir", "export", cwd=tmp_path)
    sumflow("summarize", *common, "-i", "data/data/test-*.tfrecord", "--format", "tfrecord",
            "--model-dir", "export", "-o", "summaries", cwd=tmp_path)
    evaluated = sumflow("evaluate", *common, "--predictions", "summaries/summaries/*.jsonl", "--references", "data",
                        "--reference-split", "test", "-o", "evaluation", cwd=tmp_path)
    manifest = json.load(open(tmp_path / "data" / "manifest.json"))
    rows = [json.loads(line) for path in glob.glob(str(tmp_path / "summaries" / "summaries" / "*.jsonl"))
            for line in open(path)]
    assert len(rows) == manifest["splits"]["test"]["num_records"] > 0
    report = json.load(open(tmp_path / "evaluation" / "report.json"))
    assert "rougeLsum" in json.dumps(report) and "lead-3" in json.dumps(report)
    assert "R-Lsum F1" in evaluated.stdout and "lead-3" in evaluated.stdout
