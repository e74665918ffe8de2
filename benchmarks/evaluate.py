"""ROUGE scoring speed of `sumflow evaluate` against a plain rouge-score loop, measured side by side.

Prints documents/s of
  plain     rouge-score as most code calls it: one `RougeScorer(metrics, use_stemmer=True)`, `score()` per
            document in a loop, one process;
  scorer    `evaluation.rouge.score_documents` (memoised stemmer, a process per core, chunks of documents);
  run       the whole `evaluation.evaluate.run(...)`: reading the JSONL, scoring, bootstrap intervals, text
            statistics and writing the report (so more work than the other two);
and the ratios scorer / plain (target >= 1.7x on 2 cores) and run / plain. The variants take turns (plain,
scorer, run, plain, ...) and the medians are reported: the machine is noisy, so compare the ratios. Every
variant scores the same documents with the same metrics (evaluate.metrics: rouge1, rouge2, rougeL, rougeLsum)
and starts with a cold stemmer. Documents: the first N pointer-generator+coverage outputs of See et al. from
../shared/data/cnndm_test_see2017 where present, else synthetic CNN/DM-like summaries.

    python benchmarks/evaluate.py                   # 2000 documents, 3 turns
    python benchmarks/evaluate.py --documents 500 --repeats 1
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

SEE2017 = os.path.join(REPO, "..", "shared", "data", "cnndm_test_see2017", "test_system_outputs.jsonl")
SYSTEM = "see2017_pointer_gen_coverage"


def load_documents(documents: int, seed: int) -> tuple[str, list[dict]]:
    """(source, [{"id", "summary", "reference"}]): See et al. outputs if present, else synthetic text."""
    if os.path.exists(SEE2017):
        rows = []
        with open(SEE2017, encoding="utf-8") as f:
            for line in f:
                if len(rows) == documents:
                    break
                record = json.loads(line)
                rows.append({"id": record["id"], "summary": record[SYSTEM], "reference": record["reference"]})
        return f"See et al. 2017 {SYSTEM} outputs", rows
    rng = random.Random(seed)
    vocab = [f"w{rng.randrange(10**6)}" for _ in range(20000)]
    weights = [1.0 / (rank + 1) for rank in range(len(vocab))]  # Zipfian, as words are

    def text(sentences: int) -> str:
        return "\n".join(" ".join(rng.choices(vocab, weights, k=rng.randint(10, 20))) + " ." for _ in range(sentences))

    return "synthetic", [{"id": str(i), "summary": text(3), "reference": text(4)} for i in range(documents)]


def measure_scoring(*, documents: int = 2000, seed: int = 0, repeats: int = 3, workers: int = 0) -> dict:
    """Medians over `repeats` turns: documents/s of plain, scorer and run, and the ratios to plain."""
    import numpy as np
    from rouge_score import rouge_scorer

    from configs.load import load_config
    from configs.schema import EvaluateConfig
    from evaluation.evaluate import run
    from evaluation.parallel import available_cores
    from evaluation.rouge import score_documents

    metrics = list(EvaluateConfig().metrics)
    source, rows = load_documents(documents, seed)
    predictions = [r["summary"] for r in rows]
    references = [[r["reference"]] for r in rows]
    seconds: dict[str, list[float]] = {"plain": [], "scorer": [], "run": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "docs.jsonl")
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
        config = load_config(overrides=[f"evaluate.predictions={path}", f"evaluate.output_dir={tmp}/out",
                                        f"evaluate.workers={workers}"])
        for _ in range(repeats):
            start = time.perf_counter()
            scorer = rouge_scorer.RougeScorer(metrics, use_stemmer=True)
            plain = [scorer.score(r["reference"], r["summary"]) for r in rows]
            seconds["plain"].append(time.perf_counter() - start)

            start = time.perf_counter()
            ours = score_documents(predictions=predictions, references=references, metrics=metrics, workers=workers)
            seconds["scorer"].append(time.perf_counter() - start)

            start = time.perf_counter()
            run(config=config)
            seconds["run"].append(time.perf_counter() - start)
    plain_f = np.array([[s[m].fmeasure for m in metrics] for s in plain])
    differ = int((np.abs(plain_f - ours[:, :, 2]).max(axis=1) > 0).sum())
    rate = {name: len(rows) / statistics.median(values) for name, values in seconds.items()}
    return {
        "documents": f"{len(rows)} ({source}); metrics {', '.join(metrics)}; {repeats} turns; "
                     f"workers {workers or available_cores()} of {available_cores()} cores",
        "plain docs/s": rate["plain"],
        "scorer docs/s": rate["scorer"],
        "run docs/s": rate["run"],
        "scorer / plain": rate["scorer"] / rate["plain"],
        "run / plain": rate["run"] / rate["plain"],
        "documents scored differently": f"{differ} (the unicode tokenizer keeps accented letters rouge-score drops)",
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3, help="turns of plain, scorer, run")
    parser.add_argument("--workers", type=int, default=0, help="scorer processes (0 = one per core)")
    parser.add_argument("--seed", type=int, default=0, help="for synthetic documents")
    args = parser.parse_args(argv)
    result = measure_scoring(documents=args.documents, seed=args.seed, repeats=args.repeats, workers=args.workers)
    for key, value in result.items():
        print(f"{key:>30}: {value:.2f}" if isinstance(value, float) else f"{key:>30}: {value}")


if __name__ == "__main__":
    main()
