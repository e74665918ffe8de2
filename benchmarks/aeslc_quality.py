"""AESLC (email body -> subject line): the RNN and the Transformer, each trained within the same 30-minute
budget on 2 CPU cores on the same preprocessed data, side by side on dev ROUGE-1/2/Lsum with bootstrap
intervals, the paired bootstrap test between them (`sumflow evaluate --compare`) and the lead baseline (the
first 4 words of the body).

Runs the user-facing commands in order:
    sumflow preprocess -c aeslc                                   (once: both systems train on its output)
    for each system (configs/aeslc.yaml; + configs/aeslc_transformer.yaml for the Transformer):
        sumflow train; sumflow export; sumflow summarize (dev split); sumflow evaluate --lead-words 4
    sumflow evaluate --predictions <rnn> --compare <transformer>   (paired bootstrap, dev)
and prints one table. Both configs stop training at train.max_minutes (28) at the latest; their schedules
are sized to end near it. Needs ../shared/data/aeslc.

    python benchmarks/aeslc_quality.py [--out runs/aeslc] [--systems rnn transformer] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEMS = {"rnn": ["-c", "aeslc"], "transformer": ["-c", "aeslc", "-c", "aeslc_transformer"]}
METRICS = ("rouge1", "rouge2", "rougeLsum")


def sumflow(*args) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")
    start = time.time()
    result = subprocess.run([sys.executable, "-m", "jobs.cli", *args], cwd=REPO, env=env, capture_output=True,
                            text=True)
    if result.returncode != 0:
        sys.exit(f"sumflow {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    seconds = time.time() - start
    print(f"sumflow {args[0]} {' '.join(a for a in args[1:] if not a.startswith('--set'))[:80]}: {seconds:.0f}s",
          flush=True)
    return result, seconds


def run_system(name: str, out: str, overrides: list[str]) -> dict:
    """Train, export, summarize the dev split and evaluate one system; returns its figures."""
    base = f"{out}/{name}"
    common = SYSTEMS[name] + ["--set", f"preprocess.output_dir={out}/data", "--set", f"train.data_dir={out}/data",
                              "--set", f"train.model_dir={base}/model", "--set",
                              f"summarize.model_dir={base}/export"] + overrides
    _, train_seconds = sumflow("train", *common)
    with open(os.path.join(REPO, base, "model", "history.csv")) as f:
        history = list(csv.DictReader(f))
    sumflow("export", *common)
    sumflow("summarize", *common, "-i", f"{out}/data/data/validation-*.tfrecord", "--format", "tfrecord",
            "-o", f"{base}/summaries-dev")
    sumflow("evaluate", *common, "--predictions", f"{base}/summaries-dev/summaries/*.jsonl", "--references",
            f"{out}/data", "--reference-split", "validation", "--lead-words", "4", "--set", "evaluate.lead_k=0",
            "-o", f"{base}/evaluation-dev")
    with open(os.path.join(REPO, base, "evaluation-dev", "report.json")) as f:
        report = json.load(f)
    return {"train_minutes": train_seconds / 60, "history": history, "report": report, "common": common}


def _cell(scores: dict, metric: str) -> str:
    f1 = scores[metric]["fmeasure"]
    interval = f" [{f1['low'] * 100:.2f}, {f1['high'] * 100:.2f}]" if f1.get("low") is not None else ""
    return f"{f1['mean'] * 100:.2f}{interval}"


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/aeslc")
    parser.add_argument("--systems", nargs="+", choices=sorted(SYSTEMS), default=["rnn", "transformer"])
    parser.add_argument("--set", dest="overrides", action="append", default=[], help="for every system")
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(REPO, "..", "shared", "data", "aeslc")):
        sys.exit("../shared/data/aeslc is absent")
    out = args.out
    overrides = sum((["--set", o] for o in args.overrides), [])
    sumflow("preprocess", "-c", "aeslc", "--set", f"preprocess.output_dir={out}/data", *overrides)
    results = {name: run_system(name, out, overrides) for name in args.systems}
    paired = None
    if len(args.systems) == 2:
        first, second = args.systems
        result, _ = sumflow("evaluate", *results[first]["common"], "--predictions",
                            f"{out}/{first}/summaries-dev/summaries/*.jsonl", "--compare",
                            f"{out}/{second}/summaries-dev/summaries/*.jsonl", "--references", f"{out}/data",
                            "--reference-split", "validation", "--set", "evaluate.lead_k=0",
                            "-o", f"{out}/compare-dev")
        print(result.stdout)
        with open(os.path.join(REPO, out, "compare-dev", "report.json")) as f:
            paired = json.load(f)["paired_test"]
    print(f"AESLC dev ({results[args.systems[0]]['report']['documents']} documents), ROUGE F1 x 100 "
          f"[95% bootstrap interval]:")
    print(f"{'system':<13} {'R-1':<22} {'R-2':<22} {'R-Lsum':<22} train")
    for name, r in results.items():
        scores = r["report"]["systems"]["system"]["scores"]
        last = r["history"][-1]
        best = max(r["history"], key=lambda h: float(h.get("val_rouge1") or 0))
        print(f"{name:<13} " + " ".join(f"{_cell(scores, m):<22}" for m in METRICS)
              + f" {r['train_minutes']:.1f} min, {len(r['history'])} epochs"
              f" (last val_loss {float(last['val_loss']):.3f},"
              f" best val_rouge1 {float(best.get('val_rouge1') or 0):.2f} at epoch {int(best['epoch']) + 1})")
    lead = results[args.systems[0]]["report"]["systems"]
    lead_name = next((k for k in lead if k.startswith("lead")), None)
    if lead_name:
        print(f"{lead_name:<13} " + " ".join(f"{_cell(lead[lead_name]['scores'], m):<22}" for m in METRICS))
    if paired:
        print("paired bootstrap (" + " vs ".join(args.systems) + "): " + json.dumps(paired))


if __name__ == "__main__":
    main()
