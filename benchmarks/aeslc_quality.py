"""AESLC (email body -> subject line): does a model trained within 30 minutes on 2 CPU cores beat the lead
baseline (the first 4 words of the body) on dev ROUGE-1/2/Lsum?

Runs the user-facing commands in order, with configs/aeslc.yaml (train.max_minutes: 28):
    sumflow preprocess -c aeslc; sumflow train -c aeslc; sumflow export -c aeslc;
    sumflow summarize (dev split); sumflow evaluate --lead-words 4 (dev references)
and prints the ROUGE table. Needs ../shared/data/aeslc.

    python benchmarks/aeslc_quality.py [--out runs/aeslc] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sumflow(*args):
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")
    start = time.time()
    result = subprocess.run([sys.executable, "-m", "jobs.cli", *args], cwd=REPO, env=env, capture_output=True,
                            text=True)
    if result.returncode != 0:
        sys.exit(f"sumflow {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    print(f"sumflow {args[0]}: {time.time() - start:.0f}s", flush=True)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/aeslc")
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(REPO, "..", "shared", "data", "aeslc")):
        sys.exit("../shared/data/aeslc is absent")
    out = args.out
    common = ["-c", "aeslc", "--set", f"preprocess.output_dir={out}/data", "--set", f"train.data_dir={out}/data",
              "--set", f"train.model_dir={out}/model", "--set", f"summarize.model_dir={out}/export"] + sum(
        (["--set", o] for o in args.overrides), [])
    sumflow("preprocess", *common)
    sumflow("train", *common)
    history = open(os.path.join(REPO, out, "model", "history.csv")).read().strip().splitlines()
    print(f"  {len(history) - 1} epochs; last: {history[-1]}")
    sumflow("export", *common)
    sumflow("summarize", *common, "-i", f"{out}/data/data/validation-*.tfrecord", "--format", "tfrecord",
            "-o", f"{out}/summaries-dev")
    result = sumflow("evaluate", *common, "--predictions", f"{out}/summaries-dev/summaries/*.jsonl",
                     "--references", f"{out}/data", "--reference-split", "validation", "--lead-words", "4",
                     "--set", "evaluate.lead_k=0", "-o", f"{out}/evaluation-dev")
    print(result.stdout)
    report = json.load(open(os.path.join(REPO, out, "evaluation-dev", "report.json")))
    print(json.dumps({k: v for k, v in report.items() if k in ("documents",)}, indent=1))


if __name__ == "__main__":
    main()
