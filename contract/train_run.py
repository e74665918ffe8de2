"""Whether a model directory already holds a finished training run of a config, decided without TensorFlow.

A training run is identified by its fingerprint: the preprocess output's fingerprint (data, their config and
code) and the `model` and `train` config sections. Training writes it to `_COMPLETE` last
(contract/model_dir.py). model/trainer.py decides with these functions under the model directory's lock, and
`sumflow train` calls `already_trained` before it loads TensorFlow (~4 s): one definition of "finished".
"""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os

from configs.load import fingerprint
from configs.schema import Config
from contract import model_dir as layout
from contract.manifest import load_manifest
from workspace import outputs
from workspace.errors import LockedError


MAXIMISED = ("val_rouge1", "val_rouge2", "val_rougeLsum")  # the epoch figures where higher is better


@dataclasses.dataclass(frozen=True)
class TrainResult:
    model_path: str
    epochs_run: int
    best_val_loss: float  # the lowest val_loss (loss without validation data), whatever selected the model
    history: list[dict]
    seconds: float
    monitor: str = "val_loss"  # the figure that selected the saved model (train.select_by)
    # What the run did (train.json holds them too; a resumed run's earlier parts included):
    steps: int = 0  # optimizer steps
    schedule_share: float = 0.0  # how far along its learning-rate curve training ended (1.0 = its end)
    final_learning_rate: float = 0.0  # the learning rate of the last step
    minutes: float = 0.0  # wall time used, validation included
    validation_minutes: float = 0.0  # of which validation: val_loss, validation ROUGE, checkpoint writes
    budget_minutes: float = 0.0  # train.max_minutes (0 = none)
    schedule_by: str = "epochs"  # what sized the learning-rate curve: epochs | budget

    @property
    def best(self) -> float:
        """The saved model's `monitor` figure: the best of the history."""
        return best_value(self.history, self.monitor)


RUN_FIELDS = ("minutes", "validation_minutes", "budget_minutes", "steps", "epochs_run", "schedule_by",
              "schedule_share", "final_learning_rate")  # what train.json records of a finished run


def result_line(result: TrainResult) -> str:
    """The last line of `sumflow train`: the kept model and what the run did."""
    budget = f" of {result.budget_minutes:g}" if result.budget_minutes else ""
    return (f"train: best {result.monitor} {result.best:.4f} over {result.epochs_run} epochs, {result.steps} steps "
            f"in {result.minutes:.1f}{budget} min ({result.validation_minutes:.1f} validating), "
            f"{result.schedule_share:.0%} of the learning-rate schedule (sized by {result.schedule_by}), "
            f"final learning rate {result.final_learning_rate:.3g} -> {result.model_path}")


def selection(select_by: str, *, validation: bool) -> tuple[str, str]:
    """(the figure that selects the saved model, "min" or "max") for train.select_by; without validation data
    only the training loss is there to select by."""
    monitor = "loss" if not validation else "val_rouge1" if select_by == "rouge" else "val_loss"
    return monitor, "max" if monitor in MAXIMISED else "min"


def best_value(history: list[dict], monitor: str) -> float:
    """The best `monitor` figure of `history` (-inf or inf, the worst, when it has none)."""
    values = [h[monitor] for h in history if monitor in h]
    if monitor in MAXIMISED:
        return max(values, default=-math.inf)
    return min(values, default=math.inf)


def lowest_loss(history: list[dict]) -> float:
    """TrainResult.best_val_loss: the lowest val_loss of `history`, its lowest loss when it has no val_loss."""
    return best_value(history, "val_loss" if any("val_loss" in h for h in history) else "loss")


def run_fingerprint(config: Config, data_fingerprint: str) -> str:
    return fingerprint({"model": config.model, "train": config.train, "data": data_fingerprint})


def read_history(history_path: str) -> list[dict]:
    if not os.path.exists(history_path):
        return []
    with open(history_path) as f:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]


def trained_vocab(model_dir: str) -> str | None:
    """The vocabulary hash an earlier run in `model_dir` trained with (resuming must use the same), or None."""
    info_path = os.path.join(model_dir, layout.TRAIN_INFO)
    if not os.path.exists(info_path):
        return None
    with open(info_path) as f:
        return json.load(f)["vocab_sha256"]


def finished_run(model_dir: str, fingerprint: str, *, select_by: str) -> TrainResult | None:
    """The result of a run that finished in `model_dir` with this fingerprint, else None. Reads only.
    select_by: the run's train.select_by (the fingerprint covers the train section: the config's is the run's)."""
    complete_path = os.path.join(model_dir, layout.COMPLETE)
    if not os.path.exists(complete_path):
        return None
    with open(complete_path) as f:
        if f.read().strip() != fingerprint:
            return None
    history = read_history(os.path.join(model_dir, layout.HISTORY))
    monitor, _ = selection(select_by, validation=any("val_loss" in h for h in history))
    info = {}
    if os.path.exists(os.path.join(model_dir, layout.TRAIN_INFO)):
        with open(os.path.join(model_dir, layout.TRAIN_INFO)) as f:
            info = json.load(f)
    run = {name: info[name] for name in RUN_FIELDS if name in info and name != "epochs_run"}  # older: absent
    return TrainResult(os.path.join(model_dir, layout.MODEL_FILE), len(history), lowest_loss(history), history,
                       0.0, monitor, **run)


def completed_run(model_dir: str, fingerprint: str, *, force: bool, select_by: str) -> TrainResult | None:
    """The result of a run that already completed with this fingerprint (unless `force`), else None after
    removing the outputs of a different completed run (a new run starts afresh)."""
    done = None if force else finished_run(model_dir, fingerprint, select_by=select_by)
    complete_path = os.path.join(model_dir, layout.COMPLETE)
    if done is None and os.path.exists(complete_path):
        for stale in (complete_path, os.path.join(model_dir, layout.HISTORY),
                      os.path.join(model_dir, layout.BEST_WEIGHTS)):
            if os.path.exists(stale):
                os.remove(stale)
    return done


def already_trained(config: Config, *, allow_nonempty: bool = False) -> TrainResult | None:
    """The finished run of `config` in `train.model_dir`, or None when training must (re)start or resume.

    The same checks as model/trainer.py's, in its order, and nothing written: the model directory must be
    one training may write (UsageError), the data must pass `load_manifest` with the vocabulary the model was
    trained with (ManifestError), and `_COMPLETE` must hold this run's fingerprint, read under the directory's
    lock. When another run holds the lock this says None and leaves the answer to training (the chief's lock
    is not a non-chief worker's business: model/cluster.py).
    """
    model_dir = config.train.model_dir
    if not os.path.exists(os.path.join(model_dir, layout.COMPLETE)):
        return None  # nothing finished there: training decides the rest
    names = [name.rstrip("/") for name in layout.FILES]
    outputs.claim(model_dir, job="train", names=names, allow_nonempty=allow_nonempty)
    try:
        with outputs.locked(model_dir):
            outputs.claim(model_dir, job="train", names=names, allow_nonempty=allow_nonempty)
            manifest = load_manifest(config.train.data_dir, expected_vocab_sha256=trained_vocab(model_dir))
            return finished_run(model_dir, run_fingerprint(config, manifest.fingerprint),
                                select_by=config.train.select_by)
    except LockedError:
        return None


def nothing_to_do(model_dir: str) -> str:
    return (f"train: {model_dir} already holds a model trained on these data with this config; nothing to do. "
            f"Use --force to train again.")
