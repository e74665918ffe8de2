"""Nightly reruns over a dump that grew (issue 28), each run the `sumflow` CLI in the default runner mode.

summarize: a dump of --documents documents summarized from scratch, then the same command after 1% new, 0.1%
changed and 0.1% removed documents, then a run from scratch over the changed dump into another folder; the
three wall times side by side, the rerun's last line, and whether its rows equal the from-scratch run's (they
must, record for record).
preprocess: a corpus of --records pairs in one file built from scratch, then `--append` after a second file
with 1% new pairs (a tenth of them copies of earlier articles under new ids) landed, then a full build over
both files with the dataset's vocabulary; the wall times side by side and the two datasets' counts (equal,
or the difference explained: which copy of a duplicate pair is kept may differ).

    python benchmarks/incremental.py --job summarize --model-dir EXPORT --data DATA [--documents 20000]
    python benchmarks/incremental.py --job preprocess --data DATA [--records 20000]
    python benchmarks/incremental.py --job preprocess --corpus shared [--records 20000]

EXPORT: an exported model (e.g. the quickstart's runs/default/export); DATA: a preprocess output whose
articles make the dump (summarize: every split's, repeated under new ids to reach --documents; a repeat is a
document of its own to summarize; preprocess: pairs of words drawn from its articles, seeded, so that they are
not near duplicates of each other). `--corpus shared` (preprocess) takes real pairs instead: the CNN/DailyMail
test set and the AESLC training emails of ../shared/data (read there, never copied), --records of them for
the dataset and the next 1% as the new file.
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


def sumflow(args: list[str], what: str) -> tuple[float, str]:
    """Run `sumflow ARGS` in the default runner mode: (wall seconds, its last line); exits on a failure."""
    command = [os.path.join(os.path.dirname(sys.executable), "sumflow"), *args]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    seconds = time.perf_counter() - start
    if done.returncode:
        sys.exit(f"{what} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds, done.stderr.strip().splitlines()[-1]


def summarize(dump: str, model_dir: str, out: str, *extra: str) -> tuple[float, str]:
    return sumflow(["summarize", "-i", dump, "--model-dir", model_dir, "-o", out, *extra], f"summarize -o {out}")


def rows(out: str) -> list[str]:
    return sorted(line for path in glob.glob(os.path.join(out, "summaries", "*.jsonl"))
                  for line in open(path, encoding="utf-8").read().splitlines())


def preprocess(corpus: str, out: str, *extra: str) -> tuple[float, str]:
    return sumflow(["preprocess", "-c", "jsonl", "-i", corpus, "-o", out, *extra], f"preprocess -o {out}")


def pairs(words: list[str], start: int, n: int) -> list[dict]:
    import random

    out = []
    for i in range(start, start + n):
        rng = random.Random(i)
        article = " ".join(rng.choice(words) for _ in range(rng.randint(40, 120))) + "."
        out.append({"id": f"pair-{i}", "article": article, "summary": " ".join(article.split()[:12]) + "."})
    return out


SHARED = os.path.join(REPO, "..", "shared", "data")
SHARED_FILES = ("cnndm_test_see2017/test.jsonl", "aeslc/train.jsonl")


def shared_pairs(n: int) -> list[dict]:
    found = []
    for name in SHARED_FILES:
        path = os.path.join(SHARED, name)
        if not os.path.exists(path):
            sys.exit(f"{path} is absent: --corpus shared needs ../shared/data")
        with open(path, encoding="utf-8") as f:
            found += [{k: row[k] for k in ("id", "article", "summary")} for row in map(json.loads, f)]
        if len(found) >= n:
            break
    if len(found) < n:
        sys.exit(f"../shared/data holds {len(found):,} pairs of {SHARED_FILES}; ask for --records <= that")
    return found[:n]


def preprocess_main(args) -> None:
    from contract.manifest import read_manifest

    n = args.records
    new = max(10, n // 100)
    if args.corpus == "shared":
        real = shared_pairs(n + new - new // 10)
        earlier, fresh = real[:n], real[n:]
    else:
        words = sorted({w for a in articles(args.data) for w in a.split() if w.isalpha()})
        earlier, fresh = pairs(words, 0, n), pairs(words, n, new - new // 10)
    work = tempfile.mkdtemp(prefix="sumflow-incremental-")
    os.makedirs(os.path.join(work, "dump"))
    corpus = os.path.join(work, "dump", "*.jsonl")
    write_dump(os.path.join(work, "dump", "part-000.jsonl"), earlier)
    out = os.path.join(work, "out")
    full, full_line = preprocess(corpus, out)
    print(f"  full build, {n:,} records: {full:.1f} s ({full_line})", flush=True)
    added = fresh + [{"id": f"copy-{i}", "article": earlier[i * 97 % n]["article"], "summary": "A copy."}
                     for i in range(new // 10)]
    write_dump(os.path.join(work, "dump", "part-001.jsonl"), added)
    append, append_line = preprocess(corpus, out, "--append")
    print(f"  --append, {len(added)} new records ({new // 10} copies of earlier articles): {append:.1f} s "
          f"({append_line})", flush=True)
    shutil.copy(os.path.join(out, "vocab", "spm.model"), os.path.join(work, "vocab.model"))
    rebuild, _ = preprocess(corpus, os.path.join(work, "full"), "--set",
                            f"tokenizer.model_path={os.path.join(work, 'vocab.model')}")
    appended, rebuilt = read_manifest(out), read_manifest(os.path.join(work, "full"))
    print(f"  full build over both files, the dataset's vocabulary: {rebuild:.1f} s")
    print(f"\n| run | records read | seconds | vs full build |\n|---|---|---|---|")
    print(f"| full build | {n:,} | {full:.1f} | 1.00x |")
    print(f"| --append (generation 1) | {len(added):,} | {append:.1f} | {append / full:.2f}x |")
    print(f"| full build over both files | {n + len(added):,} | {rebuild:.1f} | {rebuild / full:.2f}x |")
    print(f"appended counts {appended.counts}")
    print(f"rebuilt counts  {rebuilt.counts}")
    splits = {s: i.num_records for s, i in appended.splits.items()}
    print(f"equal counts: {appended.counts == rebuilt.counts}, splits {splits} vs "
          f"{ {s: i.num_records for s, i in rebuilt.splits.items()} }; target: --append <= 0.25x of a full build")
    shutil.rmtree(work, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--job", choices=("summarize", "preprocess"), default="summarize")
    parser.add_argument("--model-dir")
    parser.add_argument("--data")
    parser.add_argument("--corpus", choices=("words", "shared"), default="words")
    parser.add_argument("--documents", type=int, default=20000)
    parser.add_argument("--records", type=int, default=20000)
    args = parser.parse_args()
    if args.job == "preprocess":
        if args.corpus == "words" and not args.data:
            parser.error("--job preprocess needs --data (or --corpus shared)")
        return preprocess_main(args)
    if not (args.model_dir and args.data):
        parser.error("--job summarize needs --model-dir and --data")
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
