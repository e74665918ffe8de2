"""The quickstart's figures in one command: time of each job, time per training step, and the test ROUGE of
the trained model beside every simple baseline of the built-in corpus, with the shares of empty summaries and
of summaries with a repeated trigram.

Runs what `bash scripts/quickstart.sh` runs (preprocess -> train -> tune-decoding -> export -> summarize the
test split -> evaluate), with the same config, into a work directory of its own (`--work`, default a fresh temporary one),
each job as the `sumflow` CLI in its own process, and times each one. Then it scores, on the test split,
  model         the exported model's summaries;
  lead-k        the first k sentences of the article, k = 1, 2, 3;
  lead-N-words  the first N words of the article, N = 4 .. 30;
and prints the best of the baselines for each metric (the bar the quickstart's model must clear), the
model's margin over it, and the shares of empty and repetitive summaries.

    python benchmarks/quickstart.py                                     # the default config, as shipped
    python benchmarks/quickstart.py --set source.builtin_names=false    # one change, measured the same way
    python benchmarks/quickstart.py --work /tmp/qs --skip-preprocess    # reuse a work dir's preprocessed data
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import re
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from contract.records import decode_example  # noqa: E402  (plain Python: no TensorFlow)
from contract.tfrecord import read_records  # noqa: E402
from evaluation import baselines, rouge, summary_stats  # noqa: E402

METRICS = ("rouge1", "rouge2", "rougeLsum")
LEAD_K = (1, 2, 3)
LEAD_WORDS = (4, 6, 8, 10, 12, 15, 20, 25, 30)


def run_jobs(work: str, config: str, overrides: list[str], skip_preprocess: bool) -> dict:
    """Run the quickstart's jobs into `work`; returns {job: seconds} and the training log."""
    sumflow = os.path.join(os.path.dirname(sys.executable), "sumflow")
    dirs = [f"preprocess.output_dir={work}/data", f"train.data_dir={work}/data", f"train.model_dir={work}/model",
            f"summarize.model_dir={work}/export", f"summarize.output_dir={work}/summaries",
            f"evaluate.output_dir={work}/evaluation"]
    sets = [arg for o in dirs + overrides for arg in ("--set", o)]
    jobs = [("preprocess", ["preprocess"]), ("train", ["train"]), ("tune-decoding", ["tune-decoding"]),
            ("export", ["export"]),
            ("summarize", ["summarize", "-i", f"{work}/data/data/test-*.tfrecord", "--format", "tfrecord"]),
            ("evaluate", ["evaluate", "--predictions", f"{work}/summaries/summaries/*.jsonl",
                          "--references", f"{work}/data", "--reference-split", "test"])]
    seconds, logs = {}, {}
    for name, args in jobs:
        if name == "preprocess" and skip_preprocess:
            continue
        start = time.perf_counter()
        done = subprocess.run([sumflow, *args, "-c", config, *sets], cwd=REPO, capture_output=True, text=True)
        seconds[name] = time.perf_counter() - start
        logs[name] = done.stdout + done.stderr
        if done.returncode:
            sys.exit(f"{name} failed ({done.returncode}):\n{logs[name][-3000:]}")
        print(f"  {name:<13} {seconds[name]:6.1f} s", flush=True)
    return {"seconds": seconds, "logs": logs}


def step_times(train_log: str) -> list[float]:
    """Keras's "50/50 - 21s - 412ms/step" lines: ms per step of each epoch."""
    return [float(ms) for ms in re.findall(r" - (\d+(?:\.\d+)?)ms/step", train_log)]


def test_split(work: str) -> list[dict]:
    records = []
    for path in sorted(glob.glob(f"{work}/data/data/test-*.tfrecord")):
        with open(path, "rb") as f:
            records += [decode_example(r) for r in read_records(f, path)]
    return records


def model_summaries(work: str) -> dict[str, str]:
    out = {}
    for path in sorted(glob.glob(f"{work}/summaries/summaries/*.jsonl")):
        with open(path, encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                out[row["id"]] = row["summary"]
    return out


def score(texts: list[str], references: list[str]) -> dict[str, float]:
    scores = rouge.score_documents(predictions=texts, references=[[r] for r in references], metrics=METRICS,
                                   workers=0)
    return {m: 100 * float(scores[:, i, 2].mean()) for i, m in enumerate(METRICS)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", "-c", default="default")
    parser.add_argument("--set", action="append", default=[], help="a config override, as for sumflow")
    parser.add_argument("--work", help="work directory (default: a new temporary one)")
    parser.add_argument("--skip-preprocess", action="store_true", help="reuse WORK/data")
    args = parser.parse_args()
    work = args.work or tempfile.mkdtemp(prefix="sumflow-quickstart-")
    print(f"quickstart jobs (config {args.config}, overrides {args.set or 'none'}) in {work}:")
    ran = run_jobs(work, args.config, args.set, args.skip_preprocess)
    total = sum(ran["seconds"].values())
    steps = step_times(ran["logs"]["train"])
    print(f"  {'total':<13} {total:6.1f} s ({total / 60:.2f} min)")
    for line in (ran["logs"]["train"] + ran["logs"]["tune-decoding"] + ran["logs"]["export"]).splitlines():
        if line.startswith(("train: best", "tune-decoding: chose", "export: decoding settings")):
            print(f"  {line}")
    examples = [line.split(":", 1)[1].strip() for line in ran["logs"]["evaluate"].splitlines()
                if line.startswith("  summary  :")]
    print("  the report's examples: " + " | ".join(examples))
    if steps:
        print(f"  training: {len(steps)} epochs, {sum(steps) / len(steps):.0f} ms/step on average "
              f"(per epoch: {', '.join(f'{s:.0f}' for s in steps)})")

    records = test_split(work)
    summaries = model_summaries(work)
    references = [r["summary"] for r in records]
    articles = [r["article"] for r in records]
    systems = {"model": [summaries[r["id"]] for r in records]}
    systems.update({f"lead-{k}": [baselines.lead(a, k=k) for a in articles] for k in LEAD_K})
    systems.update({f"lead-{n}-words": [baselines.lead_words(a, n=n) for a in articles] for n in LEAD_WORDS})
    results = {name: score(texts, references) for name, texts in systems.items()}

    print(f"\ntest split: {len(records)} documents")
    print(f"  {'system':<16}" + "".join(f"{m:>11}" for m in METRICS))
    for name, result in results.items():
        print(f"  {name:<16}" + "".join(f"{result[m]:11.2f}" for m in METRICS))
    print(f"  {'best baseline':<16}" + "".join(
        f"{max(v[m] for k, v in results.items() if k != 'model'):11.2f}" for m in METRICS))
    for m in METRICS:
        name, best = max(((k, v[m]) for k, v in results.items() if k != "model"), key=lambda kv: kv[1])
        print(f"  {m}: model {results['model'][m]:.2f} vs best baseline {name} {best:.2f}: "
              f"margin {results['model'][m] - best:+.2f}")

    plain = rouge.RougeTokenizer(use_stemmer=False, kind="unicode")
    stats = summary_stats.summary_stats(systems["model"], tokenizer=plain)
    lengths = stats["length"]
    print(f"  model summaries: {100 * stats['empty']:.1f}% empty, {100 * stats['with_repeat'][3]:.1f}% with a "
          f"repeated trigram, {100 * stats['back_to_back']:.1f}% with a word back to back, "
          f"{100 * stats['repeated_content_word']:.1f}% with a repeated content word "
          f"(references {100 * summary_stats.summary_stats(references, tokenizer=plain)['repeated_content_word']:.1f}%), "
          f"{sum(lengths) / max(len(lengths), 1):.1f} tokens on average "
          f"(references {sum(len(plain.tokenize(r)) for r in references) / max(len(references), 1):.1f})")


if __name__ == "__main__":
    main()
