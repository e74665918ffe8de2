"""A nightly rerun of `sumflow summarize` over a dump that grew (issue 28): a dump of --documents documents
summarized from scratch, then the same command after 1% new, 0.1% changed and 0.1% removed documents, then a
run from scratch over the changed dump into another folder; the three wall times side by side, the rerun's
last line, and whether its rows equal the from-scratch run's (they must, record for record).

    python benchmarks/incremental.py --model-dir EXPORT --data DATA [--documents 20000]

EXPORT: an exported model (e.g. the quickstart's runs/default/export); DATA: a preprocess output whose
articles make the dump (every split's, repeated under new ids to reach --documents; a repeat is a document of
its own to summarize). Each run is the `sumflow` CLI in the default runner mode.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from contract.records import decode_example  # noqa: E402  (plain Python: no TensorFlow)
from contract.tfrecord import read_records  # noqa: E402


def articles(data: str) -> list[str]:
    found = []
    for path in sorted(glob.glob(os.path.join(data, "data", "*.tfrecord"))):
        with open(path, "rb") as f:
            found += [decode_example(r)["article"] for r in read_records(f, path)]
    if not found:
        sys.exit(f"no records under {data}/data: give a preprocess output with --data")
    return found


def write_dump(path: str, docs: list[dict]) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(doc, ensure_ascii=False) + "\n")


def summarize(dump: str, model_dir: str, out: str, *extra: str) -> tuple[float, str]:
    sumflow = os.path.join(os.path.dirname(sys.executable), "sumflow")
    start = time.perf_counter()
    done = subprocess.run([sumflow, "summarize", "-i", dump, "--model-dir", model_dir, "-o", out, *extra],
                          cwd=REPO, capture_output=True, text=True, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"summarize -o {out} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stderr.strip().splitlines()[-1]


def rows(out: str) -> list[str]:
    return sorted(line for path in glob.glob(os.path.join(out, "summaries", "*.jsonl"))
                  for line in open(path, encoding="utf-8").read().splitlines())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--documents", type=int, default=20000)
    args = parser.parse_args()
    pool = articles(args.data)
    n = args.documents
    docs = [{"id": f"doc-{i}", "article": pool[i % len(pool)] + ("" if i < len(pool) else f" Copy {i // len(pool)}.")}
            for i in range(n)]
    new, changed, removed = n // 100, max(1, n // 1000), max(1, n // 1000)
    grown = [dict(d, article=d["article"] + " A corrected closing sentence.") for d in docs[:changed]]
    grown += docs[changed:n - removed]
    grown += [{"id": f"new-{i}", "article": pool[(i * 7) % len(pool)] + f" New item {i}."} for i in range(new)]
    work = tempfile.mkdtemp(prefix="sumflow-incremental-")
    dump = os.path.join(work, "dump.jsonl")
    write_dump(dump, docs)
    full, full_line = summarize(dump, args.model_dir, os.path.join(work, "out"))
    print(f"  from scratch, {n:,} documents: {full:.1f} s ({full_line})", flush=True)
    write_dump(dump, grown)
    rerun, rerun_line = summarize(dump, args.model_dir, os.path.join(work, "out"))
    print(f"  rerun after +{new} new, {changed} changed, {removed} removed: {rerun:.1f} s ({rerun_line})",
          flush=True)
    scratch, _ = summarize(dump, args.model_dir, os.path.join(work, "scratch"))
    same = rows(os.path.join(work, "out")) == rows(os.path.join(work, "scratch"))
    print(f"  from scratch over the changed dump ({len(grown):,} documents): {scratch:.1f} s")
    print(f"\n| run | documents | seconds | vs from scratch |\n|---|---|---|---|")
    print(f"| from scratch | {n:,} | {full:.1f} | 1.00x |")
    print(f"| rerun (incremental) | {len(grown):,} | {rerun:.1f} | {rerun / full:.2f}x |")
    print(f"| from scratch over the changed dump | {len(grown):,} | {scratch:.1f} | {scratch / full:.2f}x |")
    print(f"rerun's rows equal the from-scratch run's: {same}; target: rerun <= 0.15x of the full run")
    shutil.rmtree(work, ignore_errors=True)
    if not same:
        sys.exit(1)


if __name__ == "__main__":
    main()
