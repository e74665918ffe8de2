"""The memory allocator under sumflow's jobs (issue 27, ../shared/ENVIRONMENT.md pitfall 19): the same
`sumflow train` and `sumflow preprocess` runs with each allocator, taken in turns, side by side: wall time,
the training step time Keras reports, user and system CPU seconds and minor page faults of the whole process
tree (the Beam workers included).

    python benchmarks/allocator.py [--data DIR] [--rounds 2] [--steps 80] [--skip-preprocess]

Variants, each set in the job's environment before it starts (SUMFLOW_ALLOCATOR=system, so that sumflow's own
choice, tcmalloc for train where installed: workspace/allocator.py, stays out of the way):
  glibc          glibc's malloc as it comes;
  glibc-tuned    glibc's malloc with a fixed mmap threshold (its maximum, 32 MiB) and a 1 GiB trim threshold, so
                 that freed blocks might stay in the heap (GLIBC_TUNABLES; measured: no gain);
  tcmalloc       Debian's libtcmalloc-minimal4 by LD_PRELOAD (left out where it is not installed).
--data: a preprocess output of the default config (default: made first, ~40 s).
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from workspace import allocator  # noqa: E402  (plain Python)

GLIBC_TUNABLES = "glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824"


def variants() -> dict[str, dict[str, str]]:
    found = {"glibc": {}, "glibc-tuned": {"GLIBC_TUNABLES": GLIBC_TUNABLES}}
    tcmalloc = allocator.find_tcmalloc()
    if tcmalloc:
        found["tcmalloc"] = {"LD_PRELOAD": tcmalloc}
    return found


def timed(args: list[str], env: dict[str, str]) -> dict:
    """Run `sumflow ARGS` with `env` added; wall seconds, CPU seconds and page faults of its process tree."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([os.path.join(os.path.dirname(sys.executable), "sumflow"), *args], cwd=REPO,
                          capture_output=True, text=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", SUMFLOW_ALLOCATOR="system", **env))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        sys.exit(f"sumflow {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    steps = [int(ms) for ms in re.findall(r" (\d+)ms/step", done.stdout + done.stderr)]
    return {"wall": wall, "user": after.ru_utime - before.ru_utime, "system": after.ru_stime - before.ru_stime,
            "faults": after.ru_minflt - before.ru_minflt, "ms_per_step": steps[-1] if steps else None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--steps", type=int, default=80)
    parser.add_argument("--skip-preprocess", action="store_true", help="time training only")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="sumflow-allocator-")
    data = args.data or os.path.join(work, "data")
    if not args.data:
        timed(["preprocess", "-c", "default", "-o", data], {})
    jobs = {"train": lambda: ["train", "-c", "default", "--data-dir", data, "--model-dir",
                              os.path.join(work, "model"), "--force", "--set", "train.epochs=1", "--set",
                              f"train.steps_per_epoch={args.steps}", "--set", "train.max_minutes=0",
                              "--set", "train.validation_rouge_samples=0"]}
    if not args.skip_preprocess:
        jobs["preprocess"] = lambda: ["preprocess", "-c", "default", "-o", os.path.join(work, "again"), "--force"]
    found = variants()
    results: dict[tuple[str, str], list[dict]] = {}
    for round_ in range(1, args.rounds + 1):
        for job, command in jobs.items():
            for name, env in found.items():
                result = timed(command(), env)
                results.setdefault((job, name), []).append(result)
                print(f"  round {round_} {job} {name}: {result['wall']:.1f} s, system {result['system']:.1f} s, "
                      f"{result['faults']:,} faults, {result['ms_per_step']} ms/step", flush=True)
    print(f"\nmedians of {args.rounds} rounds taken in turns (train: -c default, 1 epoch of {args.steps} steps, "
          "no validation ROUGE; preprocess: -c default, the whole job):")
    print("| job | allocator | wall s | ms/step | user s | system s | minor faults | wall vs glibc |")
    print("|---|---|---|---|---|---|---|---|")
    for job in jobs:
        base = statistics.median(r["wall"] for r in results[(job, "glibc")])
        for name in found:
            rows = results[(job, name)]
            med = {k: statistics.median(r[k] for r in rows) for k in ("wall", "user", "system", "faults")}
            steps = [r["ms_per_step"] for r in rows if r["ms_per_step"] is not None]
            step = f"{statistics.median(steps):.0f}" if steps else "-"
            print(f"| {job} | {name} | {med['wall']:.1f} | {step} | {med['user']:.1f} | {med['system']:.1f} | "
                  f"{med['faults']:,.0f} | {med['wall'] / base:.2f}x |")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
