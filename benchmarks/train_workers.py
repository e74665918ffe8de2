"""Training on one worker vs two, side by side in one run: the same data, config and seed.

Runs `sumflow train` (the default config's model on the built-in default corpus, or --data-dir) as
  fit-1    train.strategy=default: Keras `fit` in one process;
  loop-1   train.strategy=multi_worker without TF_CONFIG: model/distributed_loop.py on one worker (its cost and
           its losses next to fit's);
  loop-2   two workers on 127.0.0.1 (TF_CONFIG, train.strategy=multi_worker): each takes half of every global
           batch from its own half of the records, gradients summed over gRPC;
and prints for each the wall time of the whole command (start-up and tracing included), the time of the last
epoch (its progress line: training, validation and validation ROUGE, whole seconds) with training examples/s,
and the loss and val_loss of every epoch (history.csv) with the largest relative gap to fit-1. With --repeats
the variants take turns (fit-1, loop-1, loop-2, fit-1, ...) and the times are medians (the losses are the
same every round: train.deterministic). loop-1 and fit-1 read the same batches in the same
order only within the first pass over the data (fit's shuffle depends on how often the dataset was iterated),
so the figures compare training runs, not steps; tests/model/test_distributed_loop.py compares steps.

On a 2-core machine two workers share the same two cores: expect no speed-up there, only the cost of the
collectives; the run shows that two processes train the model to fit's loss.

    python benchmarks/train_workers.py                                  # 2 epochs of 25 steps, batch 32
    python benchmarks/train_workers.py --repeats 3                      # the same, 3 rounds in turns
    python benchmarks/train_workers.py --epochs 1 --steps 6 --batch 8   # a smoke run
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VARIANTS = ("fit-1", "loop-1", "loop-2")
PROGRESS = re.compile(r"^(\d+)/\d+ - (\d+)s - ")


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def sumflow_env(**more) -> dict:
    return dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2", **more)


def train(variant: str, data_dir: str, model_dir: str, overrides: list[str]) -> dict:
    """Run one variant; {wall_s, epoch_s, history} (the chief's history for loop-2)."""
    strategy = "default" if variant == "fit-1" else "multi_worker"
    args = [sys.executable, "-m", "jobs.cli", "train", "--data-dir", data_dir, "--model-dir", model_dir]
    args += sum((["--set", s] for s in overrides + [f"train.strategy={strategy}"]), [])
    workers = 2 if variant == "loop-2" else 1
    ports = free_ports(workers)
    start = time.time()
    processes = []
    for index in range(workers):
        env = sumflow_env()
        if variant == "loop-2":
            env["TF_CONFIG"] = json.dumps({"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
                                           "task": {"type": "worker", "index": index}})
        processes.append(subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                          text=True))
    outputs = [p.communicate()[0] for p in processes]
    wall = time.time() - start
    for p, out in zip(processes, outputs):
        if p.returncode != 0:
            raise SystemExit(f"{variant} failed:\n{out[-3000:]}")
    steps, epoch_s = _last_progress(outputs[0])
    with open(os.path.join(model_dir, "history.csv")) as f:
        history = [{k: float(v) for k, v in row.items() if v} for row in csv.DictReader(f)]
    return {"wall_s": wall, "epoch_s": epoch_s, "steps": steps, "history": history}


def _last_progress(output: str) -> tuple[int, float]:
    """(steps, seconds) of the last epoch's progress line ("25/25 - 16s - 640ms/step - loss: ...")."""
    found = [PROGRESS.match(line.strip()) for line in output.splitlines()]
    found = [match for match in found if match]
    if not found:
        raise SystemExit(f"no progress line in:\n{output[-2000:]}")
    return int(found[-1].group(1)), float(found[-1].group(2))


def _losses(result: dict) -> list:
    return [(h["loss"], h.get("val_loss")) for h in result["history"]]


def preprocess(root: str) -> str:
    out = os.path.join(root, "data")
    done = subprocess.run([sys.executable, "-m", "jobs.cli", "preprocess", "-c", "default", "-o", out],
                          env=sumflow_env(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"preprocess failed:\n{done.stderr[-3000:]}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", help="a preprocess output (default: the built-in corpus, preprocessed)")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--steps", type=int, default=25, help="steps per epoch")
    parser.add_argument("--batch", type=int, default=32, help="the global batch (split over the workers)")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    parser.add_argument("--repeats", type=int, default=1, help="rounds, the variants taking turns")
    opts = parser.parse_args()
    overrides = [f"train.epochs={opts.epochs}", f"train.steps_per_epoch={opts.steps}",
                 f"train.batch_size={opts.batch}", "train.deterministic=true", "train.early_stopping_patience=100"]
    with tempfile.TemporaryDirectory() as root:
        data_dir = opts.data_dir or preprocess(root)
        rounds: dict[str, list[dict]] = {}
        for round_ in range(opts.repeats):
            for variant in opts.variants.split(","):
                model_dir = os.path.join(root, f"{variant}-{round_}")
                rounds.setdefault(variant, []).append(train(variant, data_dir, model_dir, overrides))
    results = {variant: {"wall_s": statistics.median(r["wall_s"] for r in runs),
                         "epoch_s": statistics.median(r["epoch_s"] for r in runs), "steps": runs[0]["steps"],
                         "history": runs[0]["history"], "rounds": [(r["wall_s"], r["epoch_s"]) for r in runs],
                         "same_losses_every_round": all(_losses(r) == _losses(runs[0]) for r in runs)}
               for variant, runs in rounds.items()}
    print(f"{opts.epochs} epochs x {opts.steps} steps, global batch {opts.batch}, {os.cpu_count()} cores, "
          f"{opts.repeats} round(s) (medians)")
    print(f"{'variant':8} {'wall s':>7} {'epoch s':>8} {'ex/s':>7}  losses (loss / val_loss per epoch)   gap to fit-1")
    base = results.get("fit-1")
    for variant, result in results.items():
        losses = "  ".join(f"{h['loss']:.4f}/{h.get('val_loss', float('nan')):.4f}" for h in result["history"])
        gap = ""
        if base is not None and variant != "fit-1":
            gaps = [abs(h[k] - b[k]) / b[k] for h, b in zip(result["history"], base["history"])
                    for k in ("loss", "val_loss") if k in h and k in b]
            gap = f"{max(gaps) * 100:.2f}%"
        rate = result["steps"] * opts.batch / result["epoch_s"]
        print(f"{variant:8} {result['wall_s']:7.1f} {result['epoch_s']:8.1f} {rate:7.1f}  {losses}   {gap}")
    print("the same losses in every round: " + ", ".join(f"{v} {'yes' if r['same_losses_every_round'] else 'NO'}"
                                                        for v, r in results.items()))
    print(json.dumps({v: {k: r[k] for k in ("wall_s", "epoch_s", "rounds", "history")} for v, r in results.items()}))


if __name__ == "__main__":
    main()
