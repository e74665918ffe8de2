"""The learning-rate curve: by the optimizer's step, or moved along by the budget's progress; serialization."""

import math

import keras
import numpy as np
import pytest

from model.schedule import WarmupSchedule


def lr(schedule, step) -> float:
    return float(keras.ops.convert_to_numpy(schedule(step)))


def test_sized_by_epochs_it_warms_up_then_decays_to_its_floor_at_the_last_step():
    schedule = WarmupSchedule(peak=0.01, warmup_steps=10, total_steps=110, decay="cosine")
    assert lr(schedule, 0) == pytest.approx(0.001)  # step 1 of 10 warmup steps
    assert lr(schedule, 9) == pytest.approx(0.01)  # the peak at the warmup's end
    assert lr(schedule, 59) == pytest.approx(0.01 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 0.5))))
    assert lr(schedule, 109) == pytest.approx(0.001)  # the floor, 10% of the peak, at the last step
    assert lr(schedule, 500) == pytest.approx(0.001)  # and after it
    assert schedule.floor() == pytest.approx(0.001)
    assert schedule.share(55) == pytest.approx(0.5)


def test_the_budgets_progress_moves_the_curve_ahead_of_the_step():
    schedule = WarmupSchedule(peak=0.01, warmup_steps=10, total_steps=110, decay="cosine")
    schedule.progress.assign(60 / 110)
    assert lr(schedule, 3) == pytest.approx(lr(schedule, 59))  # where the budget says the run is
    by_step = WarmupSchedule(peak=0.01, warmup_steps=10, total_steps=110, decay="cosine")
    assert lr(schedule, 80) == pytest.approx(lr(by_step, 80)) != lr(schedule, 3)  # the step, once ahead
    assert schedule.share(3) == pytest.approx(60 / 110)
    schedule.progress.assign(1.0)
    assert lr(schedule, 3) == pytest.approx(0.001)  # the floor, after 4 steps
    assert schedule.share(3) == 1.0
    rsqrt = WarmupSchedule(peak=0.01, warmup_steps=10, total_steps=40, decay="rsqrt")
    rsqrt.progress.assign(1.0)
    assert lr(rsqrt, 0) == pytest.approx(0.01 * math.sqrt(10 / 40)) == pytest.approx(rsqrt.floor())


def test_the_config_round_trips_and_a_model_keras_saved_before_the_move_still_loads(tmp_path):
    config = {"peak": 0.002, "warmup_steps": 50, "total_steps": 450, "decay": "cosine"}
    schedule = WarmupSchedule(**config)
    assert schedule.get_config() == config  # progress is not part of it: files stay as they were
    again = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(schedule))
    assert isinstance(again, WarmupSchedule) and again.get_config() == config
    # as a model.keras written when the class lived in model/trainer.py names it
    old = {"module": "model.trainer", "class_name": "WarmupSchedule", "config": config,
           "registered_name": "sumflow>WarmupSchedule"}
    assert keras.saving.deserialize_keras_object(old).get_config() == config

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(schedule), loss="mse")
    model.fit(np.ones((4, 3)), np.zeros((4, 2)), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")  # compiled: the optimizer's schedule is rebuilt
    assert loaded.optimizer.learning_rate.numpy() == pytest.approx(lr(schedule, 1))
