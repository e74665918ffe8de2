"""The trainer on a tiny model: loss falls, outputs land in the model dir, a killed run resumes."""

import csv
import math
import os
import signal
import subprocess
import sys
import time

import pytest

from contract.train_run import selection

from configs.load import load_config
from model import trainer
from tests.fixtures import preprocessed

TINY = ["model.embedding_dim=16", "model.encoder_units=16", "model.decoder_units=32", "model.attention_units=16",
        "model.max_source_tokens=40", "model.max_target_tokens=10", "train.batch_size=8",
        "train.warmup_steps=5", "train.learning_rate=0.01"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return preprocessed(tmp_path_factory.mktemp("data"), n=160)


def test_short_training_run_lowers_the_loss(data_dir, tmp_path):
    config = load_config([], TINY + [f"train.data_dir={data_dir}", f"train.model_dir={tmp_path / 'm'}",
                                     "train.epochs=4", "train.steps_per_epoch=12", "train.decay=constant"])
    result = trainer.train(config, verbose=0, log=lambda m: None)
    losses = [h["loss"] for h in result.history]
    assert len(losses) == 4 and losses[-1] < losses[0] - 0.5, losses
    # validation ROUGE of a greedily decoded sample, every epoch, next to val_loss
    assert all(0.0 <= h["val_rouge1"] <= 100.0 and "val_rougeLsum" in h and "val_loss" in h
               for h in result.history)
    for name in ("model.keras", "history.csv", "vocab.model", "train.json", "config.yaml", "best.weights.h5"):
        assert os.path.exists(tmp_path / "m" / name), name
    assert not os.path.exists(tmp_path / "m" / "backup")  # removed once training completed
    again = trainer.train(config, verbose=0, log=lambda m: None)  # complete for this data + config: skipped
    assert again.seconds == 0.0 and again.history == result.history

    import keras

    import model.rnn_seq2seq  # noqa: F401  (registers the layers)

    loaded = keras.saving.load_model(str(tmp_path / "m" / "model.keras"))
    assert loaded.count_params() > 0


@pytest.mark.slow
def test_a_killed_run_resumes_and_finishes(data_dir, tmp_path):
    model_dir = tmp_path / "m"
    args = [sys.executable, "-m", "jobs.cli", "train"] + sum((["--set", s] for s in TINY), []) + [
        "--data-dir", data_dir, "--model-dir", str(model_dir), "--set", "train.epochs=4",
        "--set", "train.steps_per_epoch=40", "--set", "train.early_stopping_patience=10"]
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    first = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    metadata = model_dir / "backup" / "training_metadata.json"
    deadline = time.time() + 300
    while time.time() < deadline and first.poll() is None:
        if metadata.exists() and '"epoch": 1' in metadata.read_text():
            break
        time.sleep(0.2)
    assert first.poll() is None, "training finished before it could be interrupted"
    first.send_signal(signal.SIGKILL)
    first.wait()
    with open(model_dir / "history.csv") as f:
        epochs_before = [int(r["epoch"]) for r in csv.DictReader(f)]
    assert epochs_before and max(epochs_before) < 3

    second = subprocess.run(args, env=env, capture_output=True, text=True, timeout=600)
    assert second.returncode == 0, second.stderr[-3000:]
    with open(model_dir / "history.csv") as f:
        epochs = [int(r["epoch"]) for r in csv.DictReader(f)]
    resumed = epochs[len(epochs_before):]
    assert resumed and resumed[0] >= 1 and resumed[-1] == 3  # picked up from the backup, not from epoch 0
    assert (model_dir / "model.keras").exists()


def test_training_leaves_the_global_dtype_policy_and_op_determinism_as_they_were():
    import dataclasses

    import keras
    from tensorflow.python.framework import config as tf_config

    from configs.schema import TrainConfig

    cfg = dataclasses.replace(TrainConfig(), mixed_precision="auto", deterministic=True)
    assert keras.mixed_precision.global_policy().name == "float32"
    assert not tf_config.is_op_determinism_enabled()
    with trainer._precision(cfg, gpu=True), trainer._determinism(cfg):
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
        assert tf_config.is_op_determinism_enabled()
    assert keras.mixed_precision.global_policy().name == "float32"
    assert not tf_config.is_op_determinism_enabled()
    with pytest.raises(RuntimeError, match="boom"), trainer._precision(cfg, gpu=True):
        raise RuntimeError("boom")  # restored on the way out of a failed run too
    assert keras.mixed_precision.global_policy().name == "float32"


def test_select_by_gives_the_monitored_figure_and_its_direction():
    assert selection("loss", validation=True) == ("val_loss", "min")
    assert selection("rouge", validation=True) == ("val_rouge1", "max")
    # without validation data only the training loss is there (the trainer logs the fallback)
    assert selection("loss", validation=False) == ("loss", "min")
    assert selection("rouge", validation=False) == ("loss", "min")


def test_previous_best_reads_the_monitored_column_in_its_direction(tmp_path):
    history = tmp_path / "history.csv"
    assert trainer._previous_best(str(history), "val_rouge1") == -math.inf  # no earlier epochs
    assert trainer._previous_best(str(history), "val_loss") == math.inf
    history.write_text("epoch,loss,val_loss,val_rouge1\n0,5.0,4.5,12.5\n1,4.0,3.25,21.75\n2,3.5,3.0,\n"
                       "3,3.25,3.5,17.0\n")
    assert trainer._previous_best(str(history), "val_rouge1") == 21.75
    assert trainer._previous_best(str(history), "val_loss") == 3.0
    assert trainer._previous_best(str(history), "val_rouge2") == -math.inf  # a column it does not have


def test_select_by_rouge_keeps_and_early_stops_on_the_highest_val_rouge1(data_dir, tmp_path, monkeypatch):
    import keras
    import numpy as np

    import model.rnn_seq2seq  # noqa: F401  (registers the layers)
    from model.validation_rouge import ValidationRouge

    scripted = [10.0, 30.0, 20.0, 25.0, 40.0]  # epoch 1 is the best; epoch 4 never runs (early stopping)

    def fake_rouge(self, epoch, logs=None):  # known figures instead of decoding: the selection is under test
        logs["val_rouge1"] = scripted[epoch]

    monkeypatch.setattr(ValidationRouge, "on_epoch_end", fake_rouge)

    snapshots = []

    class Snapshots(keras.callbacks.Callback):  # each epoch's Seq2Seq weights (fit trains a TargetScorer over it)
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(getattr(self.model, "seq2seq", self.model).get_weights())

    messages = []
    config = load_config([], TINY + [f"train.data_dir={data_dir}", f"train.model_dir={tmp_path / 'm'}",
                                     "train.epochs=5", "train.steps_per_epoch=3", "train.decay=constant",
                                     "train.early_stopping_patience=2", "train.select_by=rouge"])
    result = trainer.train(config, callbacks=[Snapshots()], verbose=0, log=messages.append)
    # EarlyStopping maximises: epochs 2 and 3 fall short of epoch 1's 30 (mode min would stop after 3 epochs)
    assert [h["val_rouge1"] for h in result.history] == [10.0, 30.0, 20.0, 25.0]
    assert (result.monitor, result.best, result.epochs_run) == ("val_rouge1", 30.0, 4)
    assert result.best_val_loss == min(h["val_loss"] for h in result.history)
    assert messages[-1].startswith("train: best val_rouge1 30.0000 over 4 epochs, 12 steps in ")
    saved = keras.saving.load_model(str(tmp_path / "m" / "model.keras")).get_weights()
    assert len(snapshots) == 4
    assert all(np.array_equal(a, b) for a, b in zip(saved, snapshots[1], strict=True))  # epoch 1's weights
    assert not all(np.array_equal(a, b) for a, b in zip(saved, snapshots[3], strict=True))
    again = trainer.train(config, verbose=0, log=lambda m: None)  # finished: the same figure from config.yaml
    assert (again.monitor, again.best, again.best_val_loss) == ("val_rouge1", 30.0, result.best_val_loss)


@pytest.mark.parametrize("schedule_by", ["auto", "epochs"])
def test_a_budget_in_minutes_sizes_the_schedule_and_train_json_says_what_the_run_did(data_dir, tmp_path, monkeypatch,
                                                                                    schedule_by):
    import json

    import keras

    class Clock:  # the budget's clock, simulated: 2 s a training step, 5 s a validation, no real waiting
        now = 0.0

        def __call__(self):
            return self.now

    clock = Clock()

    class SimulatedTime(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            clock.now += 2.0

        def on_test_end(self, logs=None):
            clock.now += 5.0

    monkeypatch.setattr(trainer, "_clock", clock)
    messages = []
    # the epochs' plan: 10 x 5 steps of 2 s and 10 validations of 5 s = 150 s, against a budget of 60 s
    config = load_config([], TINY + [f"train.data_dir={data_dir}", f"train.model_dir={tmp_path / 'm'}",
                                     "train.epochs=10", "train.steps_per_epoch=5", "train.max_minutes=1",
                                     "train.early_stopping_patience=20", f"train.schedule_by={schedule_by}"])
    result = trainer.train(config, callbacks=[SimulatedTime()], verbose=0, log=messages.append)
    # 4 epochs of 5 steps and a validation (15 s each) fill the 60 s: the 4th is validated at the budget's end
    assert (result.epochs_run, result.steps, result.minutes, result.validation_minutes) == (4, 20, 1.0, 20 / 60)
    assert all("val_loss" in h for h in result.history)
    peak, floor = 0.01, 0.001  # TINY's learning rate; the cosine curve ends at 10% of it
    if schedule_by == "auto":  # the curve ends with the budget
        assert (result.schedule_by, result.schedule_share) == ("budget", 1.0)
        assert result.final_learning_rate == pytest.approx(floor, rel=1e-5)
        assert "learning rate sized by the budget (1 min, or 10 epochs if sooner)" in messages[0]
    else:  # the epochs' curve, cut at 20 of its 50 steps
        assert (result.schedule_by, result.schedule_share) == ("epochs", 0.4)
        cosine = floor + (peak - floor) * 0.5 * (1 + math.cos(math.pi * 15 / 45))  # 15 of its 45 decay steps
        assert result.final_learning_rate == pytest.approx(cosine, rel=1e-5)
        assert "learning rate sized by 10 epochs, stopped at 1 min" in messages[0]
    info = json.loads((tmp_path / "m" / "train.json").read_text())
    assert {k: info[k] for k in ("minutes", "validation_minutes", "budget_minutes", "steps", "epochs_run",
                                 "schedule_by", "schedule_share", "final_learning_rate")} == {
        "minutes": 1.0, "validation_minutes": 20 / 60, "budget_minutes": 1.0, "steps": 20, "epochs_run": 4,
        "schedule_by": result.schedule_by, "schedule_share": result.schedule_share,
        "final_learning_rate": result.final_learning_rate}
    assert messages[-1] == (
        f"train: best val_loss {result.best:.4f} over 4 epochs, 20 steps in 1.0 of 1 min (0.3 validating), "
        f"{result.schedule_share:.0%} of the learning-rate schedule (sized by {result.schedule_by}), "
        f"final learning rate {result.final_learning_rate:.3g} -> {tmp_path / 'm' / 'model.keras'}")
    again = trainer.train(config, verbose=0, log=lambda m: None)  # finished: the figures from train.json
    assert (again.steps, again.minutes, again.schedule_share, again.final_learning_rate) == (
        20, 1.0, result.schedule_share, result.final_learning_rate)
