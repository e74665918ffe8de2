"""AESLC (email body -> subject line): the RNN and the Transformer, each trained within the same budget on
the same preprocessed data, scored ONCE on the test split. Everything that is chosen is chosen on the
validation split: the kept epoch and early stopping (train.select_by on the dev emails of
train.validation_rouge_samples), and the decoding settings (`sumflow tune-decoding`: a grid of beam size,
length penalty, n-gram and word blocking on dev emails, written into the model directory and applied by
`export`). The test split is read only by the last `summarize` and `evaluate` of each system.

Runs the user-facing commands in order:
    sumflow preprocess -c aeslc                                   (once: both systems train on its output)
    for each system (configs/aeslc.yaml; + configs/aeslc_transformer.yaml for the Transformer):
        sumflow train; sumflow tune-decoding (validation); sumflow export;
        sumflow summarize (test split); sumflow evaluate --lead-words 4 (test split)
    sumflow evaluate --predictions <rnn> --compare <transformer>   (paired bootstrap, test)
and prints one table: test ROUGE-1/2/Lsum F1 (rouge-score, Porter stemmer, x 100) with 95% bootstrap
intervals against the original subject lines, beside it ROUGE-1/2/L against the three annotated subject lines
(the best-matching one per email, as rouge-score's score_multi takes it, with intervals: how the AESLC paper,
Zhang & Tetreault 2019, scores), the decoding settings chosen on validation, the repetition shares, minutes,
epochs and the machine's training throughput (benchmarks/transformer.py, so that a reader can tell a faster
machine from a better model). Needs ../shared/data/aeslc.

    python benchmarks/aeslc_quality.py [--out runs/aeslc] [--systems rnn transformer] [--set KEY=VALUE ...]
"""

from __future__ import annotations

import argparse
import csv
import glob
import json
import os
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, "..", "shared", "data", "aeslc")
SYSTEMS = {"rnn": ["-c", "aeslc"], "transformer": ["-c", "aeslc", "-c", "aeslc_transformer"]}
METRICS = ("rouge1", "rouge2", "rougeLsum")


def sumflow(*args) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    start = time.time()
    result = subprocess.run([os.path.join(os.path.dirname(sys.executable), "sumflow"), *args], cwd=REPO, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"sumflow {' '.join(args)} failed:\n{result.stderr[-4000:]}")
    seconds = time.time() - start
    print(f"sumflow {args[0]} {' '.join(a for a in args[1:] if not a.startswith('--set'))[:80]}: {seconds:.0f}s",
          flush=True)
    return result, seconds


def run_system(name: str, out: str, overrides: list[str]) -> dict:
    """Train, tune decoding on validation, export, summarize and evaluate the test split of one system."""
    base = f"{out}/{name}"
    common = SYSTEMS[name] + ["--set", f"preprocess.output_dir={out}/data", "--set", f"train.data_dir={out}/data",
                              "--set", f"train.model_dir={base}/model", "--set",
                              f"summarize.model_dir={base}/export"] + overrides
    _, train_seconds = sumflow("train", *common)
    with open(os.path.join(REPO, base, "model", "history.csv")) as f:
        history = list(csv.DictReader(f))
    with open(os.path.join(REPO, base, "model", "train.json")) as f:
        train_info = json.load(f)
    tuned, _ = sumflow("tune-decoding", *common)
    print("\n".join(line for line in tuned.stderr.splitlines() if line.startswith("tune-decoding:")), flush=True)
    sumflow("export", *common)
    sumflow("summarize", *common, "-i", f"{out}/data/data/test-*.tfrecord", "--format", "tfrecord",
            "-o", f"{base}/summaries-test")
    sumflow("evaluate", *common, "--predictions", f"{base}/summaries-test/summaries/*.jsonl", "--references",
            f"{out}/data", "--reference-split", "test", "--lead-words", "4", "--set", "evaluate.lead_k=0",
            "-o", f"{base}/evaluation-test")
    with open(os.path.join(REPO, base, "evaluation-test", "report.json")) as f:
        report = json.load(f)
    decoding_path = os.path.join(REPO, base, "model", "decoding.json")
    decoding = json.load(open(decoding_path)) if os.path.exists(decoding_path) else {}
    return {"train_minutes": train_seconds / 60, "history": history, "report": report, "common": common,
            "train_info": train_info, "decoding": decoding,
            "annotated": annotated_scores(os.path.join(REPO, base, "summaries-test", "summaries"))}


def annotated_scores(summaries_dir: str) -> dict:
    """ROUGE-1/2/L F1 x 100 [95% interval] of the test predictions against the three annotated subject lines
    (per email the best-matching one), over the emails that have them."""
    from evaluation.bootstrap import confidence_interval
    from evaluation.rouge import score_documents

    annotated = {}
    with open(os.path.join(DATA, "test.jsonl")) as f:
        for line in f:
            row = json.loads(line)
            if row.get("annotated_summaries"):
                annotated[row["id"]] = [s for s in row["annotated_summaries"] if s.strip()]
    predictions = {}
    for path in sorted(glob.glob(os.path.join(summaries_dir, "*.jsonl"))):
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                predictions[row["id"]] = row["summary"]
    ids = sorted(i for i in predictions if annotated.get(i))
    scores = score_documents(predictions=[predictions[i] for i in ids], references=[annotated[i] for i in ids],
                             metrics=("rouge1", "rouge2", "rougeL"), workers=0)  # (docs, metrics, P/R/F)
    f1 = scores[:, :, 2] * 100
    low, high = confidence_interval(f1, samples=1000, confidence=0.95, seed=0)
    return {"documents": len(ids), **{m: (f1[:, k].mean(), low[k], high[k])
                                      for k, m in enumerate(("rouge1", "rouge2", "rougeL"))}}


def throughput(overrides: list[str]) -> str:
    """This machine's training throughput for both AESLC models (benchmarks/transformer.py)."""
    result = subprocess.run([sys.executable, os.path.join(REPO, "benchmarks", "transformer.py"), "--steps", "6",
                             "--only", "train"], cwd=REPO, capture_output=True, text=True,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    lines = [line for line in result.stdout.splitlines() if "params" in line or "ratio" in line]
    return "\n".join(lines) if lines else f"(benchmarks/transformer.py failed: {result.stderr[-300:]})"


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
    if not os.path.isdir(DATA):
        sys.exit("../shared/data/aeslc is absent")
    out = args.out
    overrides = sum((["--set", o] for o in args.overrides), [])
    speed = throughput(overrides)
    sumflow("preprocess", "-c", "aeslc", "--set", f"preprocess.output_dir={out}/data", *overrides)
    results = {name: run_system(name, out, overrides) for name in args.systems}
    paired = None
    if len(args.systems) == 2:
        first, second = args.systems
        result, _ = sumflow("evaluate", *results[first]["common"], "--predictions",
                            f"{out}/{first}/summaries-test/summaries/*.jsonl", "--compare",
                            f"{out}/{second}/summaries-test/summaries/*.jsonl", "--references", f"{out}/data",
                            "--reference-split", "test", "--set", "evaluate.lead_k=0", "-o", f"{out}/compare-test")
        with open(os.path.join(REPO, out, "compare-test", "report.json")) as f:
            paired = json.load(f)["paired_test"]
    first = results[args.systems[0]]
    print(f"\nAESLC TEST ({first['report']['documents']} emails; scored once), rouge-score F1 x 100 with the "
          f"Porter stemmer [95% bootstrap interval], against the original subject lines:")
    print(f"{'system':<13} {'R-1':<22} {'R-2':<22} {'R-Lsum':<22}")
    for name, r in results.items():
        scores = r["report"]["systems"]["system"]["scores"]
        print(f"{name:<13} " + " ".join(f"{_cell(scores, m):<22}" for m in METRICS))
    lead = first["report"]["systems"]
    lead_name = next((k for k in lead if k.startswith("lead")), None)
    if lead_name:
        print(f"{lead_name:<13} " + " ".join(f"{_cell(lead[lead_name]['scores'], m):<22}" for m in METRICS))
    print(f"\nagainst the three annotated subject lines (best match per email, "
          f"{first['annotated']['documents']} emails), R-1 / R-2 / R-L F1 x 100 [95% interval]:")
    for name, r in results.items():
        a = r["annotated"]
        print(f"{name:<13} " + "  ".join(f"{a[m][0]:.2f} [{a[m][1]:.2f}, {a[m][2]:.2f}]"
                                         for m in ("rouge1", "rouge2", "rougeL")))
    print("\nchosen on validation, and what training did:")
    for name, r in results.items():
        best = max(r["history"], key=lambda h: float(h.get("val_rouge1") or 0))
        system = r["report"]["systems"]["system"]
        repeats = {"word back to back": f"{system['summaries_with_back_to_back_word']:.1%}",
                   "repeated content word": f"{system['summaries_with_repeated_content_word']:.1%}",
                   "(references' repeated content word)":
                       f"{r['report']['reference']['summaries_with_repeated_content_word']:.1%}"}
        info = r["train_info"]
        print(f"{name}: decoding {json.dumps(r['decoding'].get('chosen', r['decoding']))}; "
              f"kept epoch {int(best['epoch']) + 1} of {len(r['history'])} (val_rouge1 "
              f"{float(best.get('val_rouge1') or 0):.2f}); {r['train_minutes']:.1f} min of `sumflow train`"
              + "".join(f", {k} {info[k]}" for k in ("minutes", "validation_minutes", "steps", "schedule_by", "schedule_share",
                                                  "final_learning_rate")
                        if k in info)
              + f"; repetition {json.dumps(repeats)}")
    if paired:
        print("\npaired bootstrap on test (" + " vs ".join(args.systems) + "): " + json.dumps(paired))
    print(f"\nthis machine's training throughput (benchmarks/transformer.py --steps 6 --only train):\n{speed}")


if __name__ == "__main__":
    main()
