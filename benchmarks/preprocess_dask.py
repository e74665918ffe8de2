"""The full preprocess job (exact + MinHash dedup, vocabulary learning) on the local runner vs a Dask
LocalCluster of worker processes, side by side at each input size: seconds, records/s and peak memory.

Memory is the resident memory of the process trees, sampled every 0.25 s: for the local runner the `sumflow`
process and its workers; for Dask the `sumflow` process (the client) plus the cluster's process (scheduler,
nanny and worker processes), measured while the job runs and summed at each sample. The cluster is started
fresh for each size (its idle memory is counted: it is what the job occupies), with one thread per worker.
The two runs at a size read the same synthetic input (benchmarks/preprocess.py's CNN/DM-like records) and
their outputs are compared record for record (tests/jobs/job_outputs.py).

    python benchmarks/preprocess_dask.py                        # 20k and 200k records (~30 min on 2 cores)
    python benchmarks/preprocess_dask.py --sizes 2000           # a quick look
    python benchmarks/preprocess_dask.py --memory-limit 2GB     # per worker: Dask spills to disk above ~60%
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
sys.path.insert(0, os.path.join(REPO, "benchmarks"))

from preprocess import run_job, synthetic_jsonl  # noqa: E402  (benchmarks/preprocess.py)

CLUSTER = """
import sys
from dask import distributed
if __name__ == "__main__":
    workers, limit = int(sys.argv[1]), sys.argv[2]
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=":0", memory_limit=limit) as cluster:
        print(cluster.scheduler_address, flush=True)
        sys.stdin.read()  # until the benchmark closes our stdin
"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="20000,200000", help="input sizes (records)")
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes (one thread each)")
    parser.add_argument("--memory-limit", default="auto",
                        help="per Dask worker ('auto': the machine's memory / workers); a worker spills to disk "
                             "above 60%% of it, pauses at 80%%")
    args = parser.parse_args()
    from tests.jobs.job_outputs import preprocess_output

    sizes = [int(s) for s in args.sizes.split(",") if s]
    print(f"full preprocess job (exact + MinHash dedup, vocabulary learning), {os.cpu_count()} cores; local runner "
          f"(FnApiRunner, one worker process per core) vs Dask LocalCluster ({args.workers} worker processes, "
          f"memory limit {args.memory_limit})")
    print(f"{'records':>8s} {'local s':>8s} {'dask s':>8s} {'local rec/s':>11s} {'dask rec/s':>10s} "
          f"{'local peak':>10s} {'dask peak':>10s}  identical output")
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            data = os.path.join(tmp, f"pairs{n}.jsonl")
            synthetic_jsonl(data, n)
            job = ["-c", "jsonl", "--set", f"source.paths=[{data}]", "--set", "tokenizer.vocab_size=8000"]
            local_s, local_mb, _ = run_job(job + ["-o", os.path.join(tmp, "local")])
            cluster = subprocess.Popen([sys.executable, "-c", CLUSTER, str(args.workers), args.memory_limit],
                                       stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                       text=True, cwd=tmp)
            try:
                address = cluster.stdout.readline().strip()
                dask_s, dask_mb, _ = run_job(job + ["-o", os.path.join(tmp, "dask"), "--", "--runner", "dask",
                                                 "--dask_client_address", address], extra_pids=(cluster.pid,))
            finally:
                cluster.stdin.close()
                cluster.wait(timeout=120)
            same = preprocess_output(os.path.join(tmp, "local")) == preprocess_output(os.path.join(tmp, "dask"))
            print(f"{n:8d} {local_s:8.1f} {dask_s:8.1f} {n / local_s:11.0f} {n / dask_s:10.0f} "
                  f"{local_mb:7.0f} MB {dask_mb:7.0f} MB  {'yes' if same else 'NO'}", flush=True)
            subprocess.run(["rm", "-rf", os.path.join(tmp, "local"), os.path.join(tmp, "dask"), data], check=True)


if __name__ == "__main__":
    main()
