"""`WarmupSchedule`: the learning rate of `sumflow train`, sized by epochs or by a budget in minutes.

The schedule is one curve over `total_steps` (train.epochs x steps per epoch): linear warmup over
`warmup_steps`, then cosine decay to 10% of the peak (its floor), constant, or inverse square root. Where a
run stands on that curve is `max(optimizer step, progress x total_steps)`:

- sized by epochs (no budget), `progress` stays 0 and the curve follows the optimizer's step, as before;
- sized by a budget (train.max_minutes), model/callbacks.py's `TrainingBudget` raises `progress` (a
  variable in [0, 1]) after every step from the steps done and the steps the time left allows, so that the
  curve ends at the budget's last step on a slow machine and at the last epoch's on a fast one, warmup and
  decay keeping their shares of it.
"""

from __future__ import annotations

import math

import keras


@keras.saving.register_keras_serializable(package="sumflow")
class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup, then cosine decay to 10% / constant / inverse square root.

    `progress` (not serialized: a loaded schedule starts at 0) is the share of the curve reached by the
    budget; model.keras files saved before it existed load unchanged (same config).
    """

    def __init__(self, *, peak: float, warmup_steps: int, total_steps: int, decay: str):
        self.peak, self.warmup_steps, self.total_steps, self.decay = peak, warmup_steps, total_steps, decay
        self.progress = keras.Variable(0.0, dtype="float32", trainable=False, name="schedule_progress")

    def __call__(self, step):
        step = keras.ops.maximum(keras.ops.cast(step, "float32") + 1.0,
                                 keras.ops.convert_to_tensor(self.progress) * float(self.total_steps))
        return self.at(step)

    def at(self, step):
        """The learning rate at `step` (counted from 1) of the curve."""
        warmup = keras.ops.minimum(1.0, step / max(self.warmup_steps, 1))
        after = keras.ops.maximum(step - self.warmup_steps, 0.0)
        if self.decay == "cosine":
            progress = keras.ops.minimum(1.0, after / max(self.total_steps - self.warmup_steps, 1))
            factor = 0.1 + 0.9 * 0.5 * (1.0 + keras.ops.cos(math.pi * progress))
        elif self.decay == "rsqrt":
            factor = keras.ops.sqrt(max(self.warmup_steps, 1) / keras.ops.maximum(step, max(self.warmup_steps, 1)))
        else:
            factor = 1.0
        return self.peak * warmup * factor

    def share(self, step: int) -> float:
        """The share of the curve reached after `step` optimizer steps: 1.0 at its end (the floor)."""
        return min(1.0, max((step) / max(self.total_steps, 1), float(keras.ops.convert_to_numpy(self.progress))))

    def floor(self) -> float:
        """The learning rate at the end of the curve."""
        return float(keras.ops.convert_to_numpy(self.at(float(self.total_steps))))

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps, "total_steps": self.total_steps,
                "decay": self.decay}
