"""The budget on a simulated clock (Keras `fit` on a tiny model, no real waiting), and the backup keeping it."""

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from model.callbacks import AtomicBackupAndRestore, TrainingBudget, steps_possible
from model.schedule import WarmupSchedule

PEAK, FLOOR = 0.01, 0.001  # cosine decay ends at 10% of the peak
SPE, EPOCHS = 10, 20  # the epoch plan: 200 steps


class Clock:
    def __init__(self, now: float = 0.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


class SimulatedTime(keras.callbacks.Callback):
    """Advances the clock by `step(i)` seconds for the i-th step of this run and `validation` per validation."""

    def __init__(self, clock: Clock, *, step, validation: float):
        super().__init__()
        self.clock, self.step, self.validation, self.steps = clock, step, validation, 0

    def on_train_batch_end(self, batch, logs=None):
        self.clock.now += self.step(self.steps)
        self.steps += 1

    def on_test_end(self, logs=None):
        self.clock.now += self.validation


class Rates(keras.callbacks.Callback):
    """The learning rate each step runs at."""

    def __init__(self):
        super().__init__()
        self.rates = []

    def on_train_batch_begin(self, batch, logs=None):
        self.rates.append(float(self.model.optimizer.learning_rate))


def tiny_model(schedule):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    return model


def data():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 3)).astype("float32"), rng.normal(size=(40, 1)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, y)).batch(4).repeat(), \
        tf.data.Dataset.from_tensor_slices((x[:8], y[:8])).batch(4)


def run(*, minutes: float, step, validation: float, sized: bool = True, clock: Clock | None = None,
        extra: list = (), backup_dir=None, origin: float | None = 0.0):
    """Train the tiny model under a budget on a simulated clock; returns (budget, rates, history, clock)."""
    clock = clock or Clock()
    schedule = WarmupSchedule(peak=PEAK, warmup_steps=20, total_steps=SPE * EPOCHS, decay="cosine")
    budget = TrainingBudget(minutes=minutes, steps_per_epoch=SPE, epochs=EPOCHS,
                            schedule=schedule if sized else None, validation_prior_steps=2, clock=clock,
                            origin=origin)
    model = tiny_model(schedule)
    train, val = data()
    model(np.zeros((1, 3)))
    rates = Rates()
    backup = [] if backup_dir is None else [AtomicBackupAndRestore(str(backup_dir), budget=budget, save_freq=5)]
    history = model.fit(train, validation_data=val, epochs=EPOCHS, steps_per_epoch=SPE, verbose=0, shuffle=False,
                        callbacks=[SimulatedTime(clock, step=step, validation=validation), rates, *backup,
                                   *extra, budget])
    return budget, rates.rates, history.history, clock


def test_steps_possible_counts_the_validation_of_every_epoch_entered():
    kw = dict(step_seconds=1.0, validation_seconds=5.0, steps_per_epoch=10, left_in_plan=100)
    assert steps_possible(seconds_left=100.0, left_in_epoch=4, **kw) == 4 + 6 * 10  # 7 validations: 99 s
    assert steps_possible(seconds_left=98.0, left_in_epoch=4, **kw) == 4 + 5 * 10 + 9  # the 7th epoch cut
    assert steps_possible(seconds_left=8.0, left_in_epoch=4, **kw) == 3  # cut: 3 steps, then its validation
    assert steps_possible(seconds_left=5.5, left_in_epoch=4, **kw) == 0  # only the validation still fits
    assert steps_possible(seconds_left=20.0, left_in_epoch=0, **kw) == 10  # a whole epoch and its validation
    assert steps_possible(seconds_left=1e6, left_in_epoch=0, **kw) == 100  # the plan's end


@pytest.mark.parametrize("step, bound_by", [(1.0, "budget"), (0.1, "epochs")])
def test_the_budget_sized_curve_ends_at_its_floor_on_a_slow_and_a_fast_machine(step, bound_by):
    budget, rates, history, clock = run(minutes=2, step=lambda i: step, validation=3.0)
    assert rates[-1] == pytest.approx(FLOOR, rel=1e-5)  # the last step ran at the end of the curve
    assert max(rates) == pytest.approx(PEAK, rel=0.02)  # warmup then decay: the curve's shape, stretched
    assert all(a >= b - 1e-9 for a, b in zip(rates[rates.index(max(rates)):], rates[rates.index(max(rates)) + 1:]))
    assert "val_loss" in history and len(history["val_loss"]) == len(history["loss"])  # every epoch validated
    if bound_by == "budget":  # 200 steps of 1 s and 20 validations of 3 s would take 260 s
        assert budget.stopped_by_budget and len(rates) < SPE * EPOCHS
        # the last epoch validated inside the budget, less than a step and a validation short of it
        assert 120 - (step + 3.0) < clock.now <= 120
        assert budget.progress_used == 1.0
    else:  # 20 s of steps and 60 s of validation: the epochs end first, the curve with them
        assert not budget.stopped_by_budget and len(rates) == SPE * EPOCHS and clock.now == pytest.approx(80)
    assert budget.elapsed() == clock.now and budget.validation_seconds == pytest.approx(3.0 * len(history["loss"]))


def test_a_machine_that_slows_down_still_ends_at_the_floor_inside_the_budget():
    budget, rates, _, clock = run(minutes=2, step=lambda i: 0.5 if i < 60 else 1.5, validation=2.0)
    assert budget.stopped_by_budget and rates[-1] == pytest.approx(FLOOR, rel=1e-5)
    assert 120 - (1.5 + 2.0) < clock.now <= 120


def test_sized_by_epochs_the_budget_stops_training_with_the_rate_still_high():
    budget, rates, history, clock = run(minutes=2, step=lambda i: 1.0, validation=3.0, sized=False)
    assert budget.stopped_by_budget and 120 - 4 < clock.now <= 120
    assert rates[-1] > 5 * FLOOR  # a quarter of the way or so along the 200-step curve
    assert len(history["val_loss"]) == len(history["loss"])


def test_no_budget_only_keeps_time():
    budget, rates, history, clock = run(minutes=0, step=lambda i: 1.0, validation=3.0)
    assert len(rates) == SPE * EPOCHS and not budget.stopped_by_budget and budget.progress == 0.0
    assert budget.elapsed() == clock.now == pytest.approx(200 + 60)


class Kill(keras.callbacks.Callback):
    def __init__(self, at: int):
        super().__init__()
        self.at, self.seen = at, 0

    def on_train_batch_end(self, batch, logs=None):
        self.seen += 1
        if self.seen == self.at:
            raise KeyboardInterrupt("killed")


def test_a_resumed_run_keeps_its_budget_and_continues_the_same_curve(tmp_path):
    with pytest.raises(KeyboardInterrupt):
        run(minutes=2, step=lambda i: 1.0, validation=3.0, extra=[Kill(at=45)], backup_dir=tmp_path / "b")
    saved = json.loads((tmp_path / "b" / "training_metadata.json").read_text())
    assert saved["budget"]["spent_seconds"] == pytest.approx(45 + 4 * 3.0)  # the backup after step 45
    assert 0 < saved["budget"]["progress"] < 1

    # a new process: its clock reads something else; what the first run spent counts
    budget, rates, _, clock = run(minutes=2, step=lambda i: 1.0, validation=3.0, backup_dir=tmp_path / "b",
                                  clock=Clock(5000.0), origin=None)
    assert budget.spent_before == pytest.approx(57.0)
    assert PEAK * 0.5 < rates[0] < PEAK  # past the warmup, where the first run was: not warming up again
    assert rates[-1] == pytest.approx(FLOOR, rel=1e-5) and budget.stopped_by_budget
    assert 120 - 4 < budget.elapsed() <= 120 and budget.elapsed() == pytest.approx(57 + clock.now - 5000)
