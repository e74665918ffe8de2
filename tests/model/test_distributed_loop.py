"""The distributed loop on one worker gives Keras fit's losses, history and stops, step for step; it skips the
empty batches a worker gets once its validation shard has run out."""

import warnings

import keras
import numpy as np
import pytest
import tensorflow as tf

from configs.load import load_config
from model import distributed_loop, trainer
from model.input import load_manifest, make_dataset
from tests.fixtures import TINY_MODEL, preprocessed


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return preprocessed(tmp_path_factory.mktemp("data"), n=100)


class StepLosses(keras.callbacks.Callback):
    def __init__(self, stop_after_epoch=None):
        super().__init__()
        self.losses, self.stop_after_epoch = [], stop_after_epoch

    def on_train_batch_end(self, batch, logs=None):
        self.losses.append(logs["loss"])

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.stop_after_epoch:
            self.model.stop_training = True


def train_both_ways(data_dir, *, epochs, stop_after_epoch):
    """(fit's, the loop's) (per-step losses, history) for the tiny model from the same weights on the same
    batches (read in file order, so that both see them in the same order)."""
    config = load_config([], TINY_MODEL + [f"train.data_dir={data_dir}", "train.validation_rouge_samples=0"])
    manifest = load_manifest(data_dir)

    def split(name, training):
        dataset = make_dataset(data_dir, manifest, name, train=config.train, model=config.model, training=False,
                               targets_in_inputs=True)
        return dataset.repeat() if training else dataset

    results = []
    for way in ("fit", "loop"):
        keras.utils.set_random_seed(7)
        _, fitted = trainer._compiled_model(config, manifest, split("train", True), steps_per_epoch=3, fast=True,
                                            jit=False)
        steps = StepLosses(stop_after_epoch)
        callbacks = [steps]
        if way == "fit":
            with warnings.catch_warnings():  # the validation set ends each epoch, as in sumflow train
                warnings.filterwarnings("ignore", message="Your input ran out of data")
                history = fitted.fit(split("train", True), validation_data=split("validation", False),
                                     epochs=epochs, steps_per_epoch=3, callbacks=callbacks, verbose=0, shuffle=False)
        else:
            history = distributed_loop.fit(fitted, tf.distribute.get_strategy(),
                                           train_input=lambda context: split("train", True),
                                           val_input=lambda context: split("validation", False), epochs=epochs,
                                           steps_per_epoch=3, callbacks=callbacks, verbose=0)
        results.append((steps.losses, history.history))
    return results


@pytest.mark.slow
def test_on_one_worker_the_loop_trains_and_stops_as_fit_does(data_dir):
    (fit_steps, fit_history), (loop_steps, loop_history) = train_both_ways(data_dir, epochs=3, stop_after_epoch=1)
    assert len(fit_steps) == len(loop_steps) == 6  # two epochs of 3 steps: a callback stopped the third
    np.testing.assert_allclose(loop_steps, fit_steps, rtol=1e-5)
    assert sorted(loop_history) == sorted(fit_history) == ["loss", "val_loss"]
    for name in fit_history:
        assert len(fit_history[name]) == 2
        np.testing.assert_allclose(loop_history[name], fit_history[name], rtol=1e-5)
    assert fit_steps[-1] < fit_steps[0]  # it trained


def test_an_empty_replica_batch_is_skipped_and_weighs_nothing(data_dir):
    config = load_config([], TINY_MODEL + [f"train.data_dir={data_dir}"])
    manifest = load_manifest(data_dir)
    batch = next(iter(make_dataset(data_dir, manifest, "validation", train=config.train, model=config.model,
                                   training=False, targets_in_inputs=True)))
    _, fitted = trainer._compiled_model(config, manifest, [batch], steps_per_epoch=1, fast=True, jit=False)
    step = tf.function(distributed_loop._unless_empty(fitted.test_step))
    empty = tf.zeros((0, 0), tf.int32)
    assert bool(step(batch))
    loss = float(fitted.get_metrics_result()["loss"])
    assert not bool(step(({"article_ids": empty, "summary_in": empty, "summary_out": empty}, empty)))
    assert float(fitted.get_metrics_result()["loss"]) == loss
