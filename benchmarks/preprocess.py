"""Preprocessing speed and memory, measured side by side in one run.

Prints records/s of
  beam     `sumflow preprocess` (local runner, multi-process, one worker per core) doing the same work as
           the loops: read JSONL, clean, tokenize with a given vocabulary, serialize, write TFRecords
           (dedup off, so the work matches);
  loop-1   a plain Python loop calling the same cleaning and tokenizing code in one process;
  loop-N   the same loop in N processes (N = cores), each on its share of the input;
  full     `sumflow preprocess` with dedup (exact + MinHash) and vocabulary learning on;
and the ratio beam / loop-N (target >= 0.85), at each input size; from the smallest and largest size it also
splits each whole-run time into a fixed start-up and a steady records/s. Peak memory (RSS of the whole process tree,
sampled) of the Beam job at two input sizes shows whether memory grows with the input. With ../shared/data present it also
times the whole preprocessing of AESLC train+dev+test (target < 120 s).

    python benchmarks/preprocess.py                      # 20k and 200k records, 3 rounds (~15 min on 2 cores)
    python benchmarks/preprocess.py --sizes 5000,20000 --repeats 1 --skip-aeslc   # quicker
    python benchmarks/preprocess.py --sizes 20000,100000 --full-sizes 20000,100000 --repeats 1 --skip-aeslc
                                                         # the full job's memory at two sizes
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import statistics
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
    from configs.schema import CleanConfig
    from pipeline.clean import clean_record
    from contract.split import assign_split
    from contract.tfrecord import write_records
    from pipeline.tfrecords import tokenize_batch
    from contract.tokenizer import Tokenizer
    from configs.schema import SplitConfig

    tokenizer, clean, split = Tokenizer.load(model_path), CleanConfig(), SplitConfig()
    files = {s: open(f"{out}-{s}-{start}.tfrecord", "wb") for s in ("train", "validation", "test")}
    batch, n = [], 0

    def flush():
        by_split = {}
        for s, serialized, _, _ in tokenize_batch(tokenizer, batch):
            by_split.setdefault(s, []).append(serialized)
        for s, serialized in by_split.items():
            write_records(files[s], serialized)
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
    os.sync()  # the previous run's written files are flushed before, not during, this one
    start = time.perf_counter()
    # Fresh processes for every loop, one process included, so each pays its own start-up like the Beam job.
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        written = sum(pool.map(_loop, shares))
    elapsed = time.perf_counter() - start
    assert written == n, (written, n)
    return elapsed


def _tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc (children lists: no full /proc walk,
    so the sampling costs the measured job next to nothing)."""
    total, stack = 0, [pid]
    page = os.sysconf("SC_PAGE_SIZE")
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * page
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    stack.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            continue
    return total / 2**20


def run_job(args: list[str], extra_pids=()) -> tuple[float, float, str]:
    """Run `sumflow preprocess ARGS` in a subprocess: (seconds, peak RSS in MB of its process tree plus the
    trees of `extra_pids`, e.g. a Dask cluster's, stderr tail)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONPATH=REPO)
    os.sync()  # as in run_loops
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "jobs.cli", "preprocess", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0.0]

    def sample():
        while proc.poll() is None:
            peak[0] = max(peak[0], sum(_tree_rss_mb(pid) for pid in (proc.pid, *extra_pids)))
            time.sleep(0.25)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, err = proc.communicate()
    elapsed = time.perf_counter() - start
    sampler.join()
    if proc.returncode != 0:
        raise RuntimeError(f"sumflow preprocess failed:\n{err[-3000:]}")
    return elapsed, peak[0], err.strip().splitlines()[-1]


def _remove_outputs(tmp: str) -> None:
    """Delete the loops' and the jobs' outputs (keeps the disk small and the page cache comparable)."""
    for name in os.listdir(tmp):
        if name.startswith(("loop", "beam", "full")):
            subprocess.run(["rm", "-rf", os.path.join(tmp, name)], check=True)


def learn_vocab(path: str, tmp: str) -> str:
    from contract.tokenizer import train_sentencepiece

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
    parser.add_argument("--sizes", default="20000,200000",
                        help="input sizes (records); loops and Beam run side by side at each")
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds of loop-N then beam at each size; medians are reported")
    parser.add_argument("--full-sizes", default="",
                        help="sizes at which to also run the full job (dedup + vocabulary learning) once; "
                             "default: the smallest")
    parser.add_argument("--skip-aeslc", action="store_true")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.repeats < 1:
        parser.error("--repeats must be >= 1")
    full_sizes = {int(s) for s in args.full_sizes.split(",") if s} or {min(sizes)}
    if not full_sizes <= set(sizes):
        parser.error(f"--full-sizes {sorted(full_sizes)} must be among --sizes {sizes}")

    with tempfile.TemporaryDirectory() as tmp:
        vocab_data = os.path.join(tmp, "vocab.jsonl")
        synthetic_jsonl(vocab_data, 5000, seed=1)
        model_path = learn_vocab(vocab_data, tmp)
        print(f"synthetic records (400-word articles, 60-word summaries), {cores} cores; whole runs, start-up "
              f"included for all (fresh processes, imports, and for Beam its runner set-up); loop-{cores} and "
              f"beam take turns {args.repeats} times (this machine drifts), figures are medians")
        print(f"{'records':>8s} {'loop-1':>8s} {f'loop-{cores}':>8s} {'beam':>8s}  records/s   "
              f"{'beam/loop-' + str(cores):>12s}  beam peak RSS   per-round ratios (loop-N/beam records/s)")
        peaks, seconds_at = [], {}  # seconds_at[n] = (median loop-N seconds, median beam seconds)
        for n in sizes:
            data = os.path.join(tmp, f"pairs{n}.jsonl")
            synthetic_jsonl(data, n)
            loop1 = n / run_loops(data, n, model_path, tmp, 1)
            loops, beams, mbs = [], [], []
            for _ in range(args.repeats):
                loops.append(n / run_loops(data, n, model_path, tmp, cores))
                seconds, mb, _ = run_job(["-c", "jsonl", "--set", f"source.paths=[{data}]", "--set",
                                          f"tokenizer.model_path={model_path}", "--set", "dedup.exact=false",
                                          "--set", "dedup.near=false", "--force",
                                          "-o", os.path.join(tmp, f"beam{n}")])
                beams.append(n / seconds)
                mbs.append(mb)
                _remove_outputs(tmp)
            ratios = [b / loop for b, loop in zip(beams, loops)]
            peaks.append(max(mbs))
            seconds_at[n] = (n / statistics.median(loops), n / statistics.median(beams))
            print(f"{n:8d} {loop1:8.0f} {statistics.median(loops):8.0f} {statistics.median(beams):8.0f}"
                  f"              {statistics.median(ratios):12.2f}  {max(mbs):6.0f} MB      "
                  + " ".join(f"{r:.2f} ({loop:.0f}/{b:.0f})" for r, loop, b in zip(ratios, loops, beams)),
                  flush=True)
            if n in full_sizes:  # the full job (dedup + vocabulary learning) once
                full_s, full_mb, _ = run_job(["-c", "jsonl", "--set", f"source.paths=[{data}]", "--set",
                                              "tokenizer.vocab_size=8000", "-o", os.path.join(tmp, "full")])
                print(f"         full job (exact + MinHash dedup, vocabulary learning): {n / full_s:.0f} records/s "
                      f"({full_s:.1f}s), peak RSS {full_mb:.0f} MB", flush=True)
            _remove_outputs(tmp)
            os.remove(data)
        print("target: beam / loop-N >= 0.85")
        if len(seconds_at) >= 2:  # whole-run time = fixed start-up + records / steady rate, from two sizes
            (n1, (l1, b1)), (n2, (l2, b2)) = min(seconds_at.items()), max(seconds_at.items())
            loop_rate, beam_rate = (n2 - n1) / (l2 - l1), (n2 - n1) / (b2 - b1)
            print(f"from the {n1} and {n2} runs: steady records/s loop-{cores} {loop_rate:.0f}, beam {beam_rate:.0f} "
                  f"({beam_rate / loop_rate:.2f}x); fixed start-up loop-{cores} {l1 - n1 / loop_rate:.1f}s, "
                  f"beam {b1 - n1 / beam_rate:.1f}s")
        if len(peaks) >= 2:
            print(f"peak memory {sizes[-1]} vs {sizes[0]} records: {peaks[-1] / peaks[0]:.2f}x "
                  f"(input grew {sizes[-1] / sizes[0]:.0f}x; target: no growth)")

    aeslc = os.path.join(REPO, "..", "shared", "data", "aeslc")
    if not args.skip_aeslc and os.path.isdir(aeslc):
        with tempfile.TemporaryDirectory() as tmp:
            seconds, mb, line = run_job(["-c", "aeslc", "-o", os.path.join(tmp, "aeslc")])
            print(f"AESLC train+dev+test, whole job: {seconds:.1f}s (target < 120 s), peak RSS {mb:.0f} MB")
            print(f"  {line}")


if __name__ == "__main__":
    main()
