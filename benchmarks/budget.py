"""A training budget in minutes on a fast and a slow machine (issue 27): the same config trained with the same
`train.max_minutes` on 2 cores and on 1 core (`taskset -c 0`, the slower machine), once with the learning-rate
curve sized by epochs (`train.schedule_by: epochs`, the behaviour before budgets) and once sized by the budget
(`auto`), side by side: steps run, share of the schedule completed, final learning rate (the cosine curve's
floor is 10% of the peak), minutes used (validation apart) and the validation ROUGE-1 of the kept epoch.

    python benchmarks/budget.py [--data DIR] [--minutes 2] [--set KEY=VALUE ...]

--data: a preprocess output of the default config (default: made first into a temporary folder, ~40 s).
Each run is `sumflow train` in its own process with the default config (4 epochs of 150 steps at most;
`--set train.epochs=3` is the setting the README's first figures were measured with).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def sumflow(args: list[str], *, cores: str | None = None) -> subprocess.CompletedProcess:
    command = [os.path.join(os.path.dirname(sys.executable), "sumflow"), *args]
    if cores:
        command = ["taskset", "-c", cores, *command]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True,
                            env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    if result.returncode:
        sys.exit(f"sumflow {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result


def train(data: str, model_dir: str, *, minutes: float, schedule_by: str, cores: str | None,
          overrides: list[str]) -> dict:
    shutil.rmtree(model_dir, ignore_errors=True)
    sets = [f"train.data_dir={data}", f"train.model_dir={model_dir}", f"train.max_minutes={minutes}",
            f"train.schedule_by={schedule_by}", *overrides]
    sumflow(["train", "-c", "default", *[a for s in sets for a in ("--set", s)]], cores=cores)
    with open(os.path.join(model_dir, "train.json")) as f:
        info = json.load(f)
    with open(os.path.join(model_dir, "history.csv")) as f:
        history = list(csv.DictReader(f))
    kept = min(history, key=lambda h: float(h["val_loss"]))
    return {**info, "kept_epoch": int(kept["epoch"]) + 1, "val_rouge1": float(kept.get("val_rouge1") or 0),
            "val_loss": float(kept["val_loss"])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data")
    parser.add_argument("--minutes", type=float, default=2.0)
    parser.add_argument("--set", dest="overrides", action="append", default=[])
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="sumflow-budget-")
    data = args.data or os.path.join(work, "data")
    if not args.data:
        sumflow(["preprocess", "-c", "default", "-o", data])
    rows = []
    for cores, machine in ((None, "2 cores"), ("0", "1 core")):
        for schedule_by in ("epochs", "auto"):
            result = train(data, os.path.join(work, "model"), minutes=args.minutes, schedule_by=schedule_by,
                           cores=cores, overrides=args.overrides)
            rows.append((machine, schedule_by, result))
            print(f"  {machine}, schedule by {schedule_by}: {result['steps']} steps, "
                  f"{result['schedule_share']:.0%} of the schedule", flush=True)
    print(f"\ntrain -c default, train.max_minutes={args.minutes:g}, overrides {args.overrides or 'none'}:")
    print("| machine | schedule sized by | steps | epochs | schedule done | final learning rate | minutes "
          "(validating) | kept epoch | its val R-1 | its val loss |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for machine, schedule_by, r in rows:
        print(f"| {machine} | {'epochs' if schedule_by == 'epochs' else 'the budget'} | {r['steps']} | "
              f"{r['epochs_run']} | {r['schedule_share']:.0%} | {r['final_learning_rate']:.2e} | "
              f"{r['minutes']:.2f} ({r['validation_minutes']:.2f}) | {r['kept_epoch']} | {r['val_rouge1']:.2f} | "
              f"{r['val_loss']:.3f} |")
    by = {(m, s): r for m, s, r in rows}
    for schedule_by in ("epochs", "auto"):
        gap = by[("2 cores", schedule_by)]["val_rouge1"] - by[("1 core", schedule_by)]["val_rouge1"]
        print(f"val R-1, 2 cores minus 1 core, schedule sized by {schedule_by}: {gap:+.2f}")
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
