"""The callbacks of `sumflow train` beside Keras' own: a backup that a kill cannot tear, and the budget.

`TrainingBudget` is the run's clock (minutes used, validation time) and, with train.max_minutes, its limit:
it stops training early enough that the last epoch is validated before the budget ends, and (schedule
sized by the budget) it sizes model/schedule.py's curve to end at the last step the budget allows.
"""

from __future__ import annotations

import json
import math
import os
import time
from typing import Callable

import keras

from model.schedule import WarmupSchedule


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' BackupAndRestore, but each file is written beside its target and renamed into place, so a kill
    in the middle of a save leaves the previous backup whole; it restores from `restore_dir` (default: the
    backup_dir), so that a worker that saves into a scratch directory resumes from the chief's backup; and it
    keeps `budget`'s state (time spent, estimates, schedule progress) in its metadata, so a resumed run
    continues the same budget."""

    def __init__(self, backup_dir: str, *, restore_dir: str | None = None, budget: TrainingBudget | None = None,
                 **kwargs):
        super().__init__(backup_dir, **kwargs)
        self.restore_dir = restore_dir or backup_dir
        self.budget = budget

    def _load_model(self):  # Keras' own, reading restore_dir
        weights = os.path.join(self.restore_dir, os.path.basename(self._weights_path))
        metadata = os.path.join(self.restore_dir, os.path.basename(self._training_metadata_path))
        if os.path.exists(weights):
            if self.model.optimizer is not None and not self.model.optimizer.built:
                self.model.optimizer.build(self.model.trainable_variables)
            self.model.load_weights(weights)
        if os.path.exists(metadata):
            with open(metadata) as f:
                saved = json.load(f)
            self.model._initial_epoch = saved["epoch"]
            if self.budget is not None and "budget" in saved:
                self.budget.set_state(saved["budget"])

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        tmp = self._weights_path.replace(".weights.h5", ".tmp.weights.h5")
        self.model.save_weights(tmp, overwrite=True)
        os.replace(tmp, self._weights_path)
        saved = {"epoch": self._current_epoch, "batch": self._last_batch_seen}
        if self.budget is not None:
            saved["budget"] = self.budget.get_state()
        with open(self._training_metadata_path + ".tmp", "w") as f:
            json.dump(saved, f)
        os.replace(self._training_metadata_path + ".tmp", self._training_metadata_path)


def steps_possible(*, seconds_left: float, step_seconds: float, validation_seconds: float, left_in_epoch: int,
                   steps_per_epoch: int, left_in_plan: int) -> int:
    """How many more training steps fit in `seconds_left` when every epoch that training enters (the current
    one, `left_in_epoch` steps from its end, 0 = at an epoch boundary) ends with a validation: the last
    epoch, full or cut, is validated inside the time. At most `left_in_plan` (the epochs' steps)."""
    done, chunk = 0, left_in_epoch or steps_per_epoch
    while done < left_in_plan:
        chunk = min(chunk, left_in_plan - done)
        fit = math.floor((seconds_left - validation_seconds) / step_seconds + 1e-9)
        if fit < chunk:
            return done + max(fit, 0)
        done += chunk
        seconds_left -= chunk * step_seconds + validation_seconds
        chunk = steps_per_epoch
    return done


class TrainingBudget(keras.callbacks.Callback):
    """The run's clock and, with `minutes` > 0, its budget (place it last: it times the other callbacks).

    Time counts from `origin` (a `clock()` reading; default: when training begins) plus what earlier runs of
    the same model dir spent (`set_state`, from the backup). Training time is measured between batch ends;
    an epoch's validation time from its last batch's end to the end of its epoch (validation loss, validation
    ROUGE, checkpoint and history writes). After every step it decides whether one more step and the
    validation it leads to still fit; if not, training stops (Keras then validates the cut epoch). Until an
    epoch has been validated, a validation is taken to cost `validation_prior_steps` training steps.

    With `schedule`, it sizes the learning-rate curve to the budget: before each step, the schedule's progress
    becomes (steps done + 1) / (steps done + steps that still fit), so the last step that fits runs at the
    curve's end. Step time is the mean of the last 50 step intervals of this run, the first one (tracing)
    left out; the curve is not moved before `min_samples` of them.
    """

    def __init__(self, *, minutes: float, steps_per_epoch: int, epochs: int,
                 schedule: WarmupSchedule | None = None, validation_prior_steps: int = 0,
                 clock: Callable[[], float] = time.monotonic, origin: float | None = None, min_samples: int = 3):
        super().__init__()
        self.minutes, self.steps_per_epoch, self.epochs = minutes, steps_per_epoch, epochs
        self.schedule, self.validation_prior_steps = schedule, validation_prior_steps
        self.clock, self.origin, self.min_samples = clock, origin, min_samples
        self.spent_before = 0.0  # seconds of earlier runs (the backup's)
        self.validation_seconds = 0.0  # all epochs' validation time, earlier runs included
        self.validation_estimate: float | None = None  # one epoch's validation, as last measured
        self.progress = 0.0  # the schedule's progress (budget-sized), mirrored here
        self.progress_used = 0.0  # the progress the last step ran at
        self.stopped_by_budget = False
        self._intervals: list[float] = []
        self._last_mark: float | None = None
        self._epoch = 0
        self._validations_this_run = 0

    # -- state kept in the backup ------------------------------------------------------------------------
    def get_state(self) -> dict:
        return {"spent_seconds": self.elapsed(), "validation_seconds": self.validation_seconds,
                "validation_estimate": self.validation_estimate, "progress": self.progress}

    def set_state(self, state: dict) -> None:
        self.spent_before = float(state["spent_seconds"])
        self.validation_seconds = float(state["validation_seconds"])
        self.validation_estimate = state["validation_estimate"]
        self.progress = self.progress_used = float(state["progress"])
        if self.schedule is not None:
            self.schedule.progress.assign(self.progress)

    # -- the clock -----------------------------------------------------------------------------------------
    def elapsed(self) -> float:
        """Seconds of the budget used so far (earlier runs included)."""
        if self.origin is None:
            return self.spent_before
        return self.spent_before + self.clock() - self.origin

    def step_seconds(self) -> float | None:
        recent = self._intervals[-50:]
        return sum(recent) / len(recent) if recent else None

    # -- Keras hooks ---------------------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        if self.origin is None:
            self.origin = self.clock()
        self._first_interval = True

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._last_mark = self.clock()

    def on_train_batch_begin(self, batch, logs=None):
        self.progress_used = self.progress

    def on_train_batch_end(self, batch, logs=None):
        now = self.clock()
        if self._last_mark is not None:
            if self._first_interval:
                self._first_interval = False  # this run's first step traces the train function
            else:
                self._intervals.append(now - self._last_mark)
        self._last_mark = now
        left_in_epoch = self.steps_per_epoch - (batch + 1)
        if left_in_epoch > 0:  # at an epoch's end, on_epoch_end decides after the validation
            self._decide(left_in_epoch)

    def on_epoch_end(self, epoch, logs=None):
        if self._last_mark is not None:
            seconds = self.clock() - self._last_mark
            self.validation_seconds += seconds
            self._validations_this_run += 1
            # a run's first validation also traces the evaluation and decoding functions: the estimate is
            # that one until a later one is measured (or an earlier run's), then the longest of the later ones
            if self._validations_this_run == 1:
                if self.validation_estimate is None:
                    self.validation_estimate = seconds
            elif self._validations_this_run == 2:
                self.validation_estimate = seconds
            else:
                self.validation_estimate = max(self.validation_estimate, seconds)
        self._last_mark = None
        if epoch + 1 < self.epochs and not self.model.stop_training:
            self._decide(0)

    # -- the decision --------------------------------------------------------------------------------------
    def _decide(self, left_in_epoch: int) -> None:
        """Stop when no further step fits; else move the schedule's progress for the next step."""
        if not self.minutes:
            return
        step = self.step_seconds()
        if step is None:
            return  # not one step measured yet (the first traces): nothing to estimate from
        validation = self.validation_estimate
        if validation is None:
            validation = self.validation_prior_steps * step
        done = int(keras.ops.convert_to_numpy(self.model.optimizer.iterations)) if self.model is not None else 0
        left_in_plan = (self.epochs - self._epoch - 1) * self.steps_per_epoch + left_in_epoch
        fit = steps_possible(seconds_left=self.minutes * 60 - self.elapsed(), step_seconds=step,
                             validation_seconds=validation, left_in_epoch=left_in_epoch,
                             steps_per_epoch=self.steps_per_epoch, left_in_plan=left_in_plan)
        if fit <= 0:
            self.stopped_by_budget = True
            self.model.stop_training = True
            return
        if self.schedule is not None and len(self._intervals) >= self.min_samples:
            self.progress = min(1.0, max(self.progress, (done + 1) / (done + fit)))
            self.schedule.progress.assign(self.progress)
