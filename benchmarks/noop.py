"""How long a scheduled rerun takes to find that its output is already complete: the wall time of the whole
`sumflow preprocess|train|summarize` command, side by side.

Builds complete outputs once, with the CLI: the built-in corpus (`-c default`, capped at --records docstrings),
a tiny model trained for a few steps, its export, and summaries of the test split (about two minutes on
2 cores; --workdir keeps them for the next run). Then runs each job's no-op as a scheduler would (a
subprocess of the CLI, timed from start to exit), taking turns for --repeats rounds, and prints the median and
range of each beside `sumflow --help` (Python start-up and the CLI: the floor) and, for scale, what a bare
`import apache_beam` and `import tensorflow` take. Every no-op is checked: exit 0 and "nothing to do" on
stderr (a run that did work would void the figures). That no Beam or TensorFlow module is loaded is tested
in tests/jobs/test_noop.py.

    python benchmarks/noop.py                          # 5 rounds
    python benchmarks/noop.py --repeats 9 --workdir /tmp/noop
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2")
TINY = ["model.embedding_dim=16", "model.encoder_units=16", "model.decoder_units=32", "model.attention_units=16",
        "model.max_source_tokens=40", "model.max_target_tokens=10", "train.batch_size=8", "train.epochs=1",
        "train.steps_per_epoch=4", "decode.max_length=8", "tokenizer.vocab_size=400"]


def sumflow_command() -> list[str]:
    """The installed console script beside this Python (what a user runs), else the module."""
    script = os.path.join(os.path.dirname(sys.executable), "sumflow")
    return [script] if os.path.exists(script) else [sys.executable, "-m", "jobs.cli"]


def job_args(workdir: str, records: int) -> dict[str, list[str]]:
    common = ["-c", "default", "--set", f"source.builtin_max_records={records}"]
    common += sum((["--set", o] for o in TINY), [])
    data, model = os.path.join(workdir, "data"), os.path.join(workdir, "model")
    export, summaries = os.path.join(workdir, "export"), os.path.join(workdir, "summaries")
    return {
        "preprocess": ["preprocess", *common, "-o", data],
        "train": ["train", *common, "--data-dir", data, "--model-dir", model],
        "export": ["export", *common, "--model-dir", model, "--export-dir", export],
        "summarize": ["summarize", *common, "-i", os.path.join(data, "data", "test-*.tfrecord"), "--format",
                      "tfrecord", "--model-dir", export, "-o", summaries],
    }


def run(args: list[str]) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    result = subprocess.run(args, env=ENV, capture_output=True, text=True, timeout=1800)
    return time.perf_counter() - start, result


def build(jobs: dict[str, list[str]], sumflow: list[str]) -> None:
    """Complete outputs for every job (a job whose output is already complete returns at once)."""
    for name in ("preprocess", "train", "export", "summarize"):
        seconds, result = run(sumflow + jobs[name])
        if result.returncode != 0:
            sys.exit(f"building the {name} output failed:\n{result.stderr[-3000:]}")
        print(f"built {name:<10} {seconds:6.1f} s", file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--records", type=int, default=600, help="docstrings of the built-in corpus to keep")
    parser.add_argument("--workdir", default="", help="where the outputs are built (default: a temporary folder)")
    parser.add_argument("--no-imports", action="store_true", help="skip timing the bare Beam and TF imports")
    opts = parser.parse_args()
    workdir = opts.workdir or tempfile.mkdtemp(prefix="sumflow-noop-")
    os.makedirs(workdir, exist_ok=True)
    sumflow = sumflow_command()
    jobs = job_args(os.path.abspath(workdir), opts.records)
    build(jobs, sumflow)

    timed = {f"{name} (no-op)": sumflow + jobs[name] for name in ("preprocess", "train", "summarize")}
    timed["sumflow --help"] = sumflow + ["--help"]
    if not opts.no_imports:
        timed["import apache_beam"] = [sys.executable, "-c", "import apache_beam"]
        timed["import tensorflow"] = [sys.executable, "-c", "import tensorflow"]
    times: dict[str, list[float]] = {name: [] for name in timed}
    for _ in range(opts.repeats):
        for name, args in timed.items():  # taking turns: the machine's drift hits every command alike
            seconds, result = run(args)
            if result.returncode != 0 or ("no-op" in name and "nothing to do" not in result.stderr):
                sys.exit(f"`{name}` did not end as a no-op (exit {result.returncode}):\n{result.stderr[-3000:]}")
            times[name].append(seconds)

    print(f"wall time of the whole command, {opts.repeats} rounds taken in turns (outputs in {workdir}):")
    print(f"{'command':<22} {'median':>8} {'min':>8} {'max':>8}")
    for name, values in times.items():
        print(f"{name:<22} {statistics.median(values):7.2f}s {min(values):7.2f}s {max(values):7.2f}s")


if __name__ == "__main__":
    main()
