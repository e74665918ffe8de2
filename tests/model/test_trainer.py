"""The trainer on a tiny model: loss falls, outputs land in the model dir, a killed run resumes."""

import csv
import os
import signal
import subprocess
import sys
import time

import pytest

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

    import model.seq2seq  # noqa: F401  (registers the layers)

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
