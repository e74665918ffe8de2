"""Preprocessing speed and memory, measured side by side in one run.

Prints records/s of
  beam     `sumflow preprocess` (local runner, multi-process, one worker per core) doing the same work as
           the loops: read JSONL, clean, tokenize with a given vocabulary, serialize, write TFRecords
           (dedup off, so the work matches);
  loop-1   a plain Python loop calling the same cleaning and tokenizing code in one process;
  loop-N   the same loop in N processes (N = cores), each on its share of the input;
  full     `sumflow preprocess` with dedup (exact + MinHash) and vocabulary learning on;
and the ratio beam / loop-N (target >= 0.85). Peak memory (RSS of the whole process tree, sampled) of the
Beam job at two input sizes shows whether memory grows with the input. With ../shared/data present it also
times the whole preprocessing of AESLC train+dev+test (target < 120 s).

    python benchmarks/preprocess.py                      # 20k records, memory at 20k and 200k
    python benchmarks/preprocess.py --records 5000 --memory-sizes 5000,20000   # quicker
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)



def synthetic_jsonl(path: str, n: int, seed: int = 0) -> None:
    """CNN/DM-like shapes: ~400-word articles, ~60-word summaries over a 20k-word Zipfian vocabulary."""
    rng = random.Random(seed)
    vocab = [f"w{i}" for i in range(20000)]
    weights = [1.0 / (i + 1) for i in range(20000)]
    with open(path, "w", encoding="utf-8") as f:
        for i in range(n):
            words = rng.choices(vocab, weights, k=460)
            article = " ".join(" ".join(words[j:j + 20]).capitalize() + "." for j in range(0, 400, 20))
            summary = "\n".join(" ".join(words[400 + j:420 + j]).capitalize() + "." for j in range(0, 60, 20))
            f.write(json.dumps({"id": f"r{i}", "article": article, "summary": summary}) + "\n")


def _loop(args) -> int:
    """The plain loop over lines [start, stop) of the input: same cleaning, tokenizing and record writing."""
    path, start, stop, model_path, out = args
    from apache_beam.io.tfrecordio import _TFRecordUtil

    from configs.schema import CleanConfig
    from pipeline.clean import clean_record
    from pipeline.split import assign_split
    from pipeline.tfrecords import tokenize_batch
    from pipeline.tokenizer import Tokenizer
    from configs.schema import SplitConfig

    tokenizer, clean, split = Tokenizer.load(model_path), CleanConfig(), SplitConfig()
    files = {s: open(f"{out}-{s}-{start}.tfrecord", "wb") for s in ("train", "validation", "test")}
    batch, n = [], 0

    def flush():
        for s, serialized, _, _ in tokenize_batch(tokenizer, batch):
            _TFRecordUtil.write_record(files[s], serialized)
        batch.clear()

    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f):
            if i < start:
                continue
            if i >= stop:
                break
            record = json.loads(line)
            record["split"] = ""
            cleaned, _, _ = clean_record(record, clean)
            if cleaned is not None:
                cleaned["split"] = assign_split(cleaned["id"], split)
                batch.append(cleaned)
                n += 1
            if len(batch) >= 256:
                flush()
    flush()
    for f in files.values():
        f.close()
    return n


def run_loops(path: str, n: int, model_path: str, tmp: str, processes: int) -> float:
    """Seconds for the loop over the first n lines (process start-up and imports included)."""
    shares = [(path, i * n // processes, (i + 1) * n // processes, model_path, os.path.join(tmp, f"loop{processes}"))
              for i in range(processes)]
    start = time.perf_counter()
    # Fresh processes for every loop, one process included, so each pays its own start-up like the Beam job.
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        written = sum(pool.map(_loop, shares))
    elapsed = time.perf_counter() - start
    assert written == n, (written, n)
    return elapsed


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, IndexError, ValueError):
            continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        total += rss.get(p, 0)
        stack.extend(children.get(p, []))
    return total / 2**20


def run_job(args: list[str]) -> tuple[float, float, str]:
    """Run `sumflow preprocess ARGS` in a subprocess: (seconds, peak tree RSS in MB, stderr tail)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=REPO)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "jobs.cli", "preprocess", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], _tree_rss_mb(proc.pid))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"sumflow preprocess failed:\n{err[-3000:]}")
    return elapsed, peak[0], err.strip().splitlines()[-1]


def learn_vocab(path: str, tmp: str) -> str:
    from pipeline.tokenizer import train_sentencepiece

    sample = os.path.join(tmp, "sample.txt")
    with open(path) as f, open(sample, "w") as out:
        for i, line in enumerate(f):
            if i >= 5000:
                break
            r = json.loads(line)
            out.write(r["article"] + "\n" + r["summary"] + "\n")
    return train_sentencepiece(sentences_path=sample, model_prefix=os.path.join(tmp, "spm"), vocab_size=8000)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=20000)
    parser.add_argument("--memory-sizes", default="20000,200000")
    parser.add_argument("--skip-aeslc", action="store_true")
    args = parser.parse_args()
    cores = os.cpu_count() or 1

    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "pairs.jsonl")
        synthetic_jsonl(data, args.records)
        model_path = learn_vocab(data, tmp)
        same_work = ["-c", "jsonl", "--set", f"source.paths=[{data}]", "--set", f"tokenizer.model_path={model_path}",
                     "--set", "dedup.exact=false", "--set", "dedup.near=false"]
        print(f"input: {args.records} synthetic records (400-word articles, 60-word summaries), {cores} cores")

        rates = {}
        for name, processes in (("loop-1", 1), (f"loop-{cores}", cores)):
            rates[name] = args.records / run_loops(data, args.records, model_path, tmp, processes)
        beam_s, beam_mb, _ = run_job(["-c", "jsonl", "--set", f"source.paths=[{data}]", "--set",
                                      f"tokenizer.model_path={model_path}", "--set", "dedup.exact=false",
                                      "--set", "dedup.near=false", "-o", os.path.join(tmp, "beam")])
        rates["beam"] = args.records / beam_s
        full_s, full_mb, _ = run_job(["-c", "jsonl", "--set", f"source.paths=[{data}]", "--set",
                                      "tokenizer.vocab_size=8000", "-o", os.path.join(tmp, "full")])
        # Whole runs, start-up included for all (fresh processes, imports, and for Beam its runner set-up).
        for name, rate in rates.items():
            print(f"{name:12s} {rate:8.0f} records/s")
        print(f"beam peak RSS {beam_mb:.0f} MB")
        print(f"full job     {args.records / full_s:8.0f} records/s (dedup + vocabulary learning, {full_s:.1f}s, "
              f"peak RSS {full_mb:.0f} MB)")
        print(f"ratio beam / loop-{cores}: {rates['beam'] / rates[f'loop-{cores}']:.2f}  (target >= 0.85)")

        sizes = [int(s) for s in args.memory_sizes.split(",") if s]
        peaks = []
        for n in sizes:
            path = os.path.join(tmp, f"mem{n}.jsonl")
            synthetic_jsonl(path, n, seed=1)
            seconds, mb, _ = run_job(["-c", "jsonl", "--set", f"source.paths=[{path}]", "--set",
                                      f"tokenizer.model_path={model_path}", "--set", "dedup.exact=false",
                                      "--set", "dedup.near=false", "-o", os.path.join(tmp, f"mem{n}")])
            peaks.append(mb)
            print(f"memory       {n:8d} records: peak RSS {mb:6.0f} MB ({n / seconds:.0f} records/s)")
            os.remove(path)
        if len(peaks) >= 2:
            print(f"peak memory ratio {sizes[-1]}/{sizes[0]} records: {peaks[-1] / peaks[0]:.2f} "
                  f"(input grew {sizes[-1] / sizes[0]:.0f}x)")

    aeslc = os.path.join(REPO, "..", "shared", "data", "aeslc")
    if not args.skip_aeslc and os.path.isdir(aeslc):
        with tempfile.TemporaryDirectory() as tmp:
            seconds, mb, line = run_job(["-c", "aeslc", "-o", os.path.join(tmp, "aeslc")])
            print(f"AESLC train+dev+test, whole job: {seconds:.1f}s (target < 120 s), peak RSS {mb:.0f} MB")
            print(f"  {line}")


if __name__ == "__main__":
    main()
