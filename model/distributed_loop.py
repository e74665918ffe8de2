"""`fit` for the strategy Keras cannot drive: a training loop over `strategy.run` and distributed datasets.

Keras 3.15.1's `Model.fit` under `MultiWorkerMirroredStrategy` (TensorFlow 2.21) fails before its first step:
it reduces the first input batch (a dict of int `PerReplica` tensors) to build the model symbolically, and it
reduces the scalar logs of each step along an axis they do not have. This loop does what `fit` does with the
model's own pieces, so its figures are `fit`'s:

- each replica runs the compiled model's `train_step` / `test_step` (same losses, coverage loss, optimizer and
  its gradient all-reduce, loss tracker) inside `strategy.run`, one `tf.function` per step;
- the logs are the model's metrics read across replicas (`get_metrics_result` in cross-replica context: summed
  over every worker), as `fit` logs them;
- inputs come from `strategy.distribute_datasets_from_function`: each worker builds its own pipeline over its
  shard, batched per replica (the caller's `input_fn(input_context)`); a finite validation set may end on one
  worker before another (the strategy hands the finished worker empty batches, which weigh nothing);
- the Keras callbacks are called as `fit` calls them (train/epoch/test hooks, the same logs, `model.history`,
  `model._initial_epoch` from BackupAndRestore, `model.stop_training`);
- all workers agree on stopping after every step and epoch (EarlyStopping, a time limit that fired on one
  worker's clock), so none is left waiting in a collective for a step the others will not run;
- a worker whose peer died stops with one line (SumflowError): start every worker again to resume.

On one worker it gives `fit`'s losses (tests/model/test_distributed_loop.py). Checkpoints are the callbacks'
business: the caller gives each worker its own paths (model/cluster.py).
"""

from __future__ import annotations

from typing import Callable

import keras
import tensorflow as tf

from workspace.errors import SumflowError

InputFn = Callable[[tf.distribute.InputContext], tf.data.Dataset]


def fit(model: keras.Model, strategy: tf.distribute.Strategy, *, train_input: InputFn, val_input: InputFn | None,
        epochs: int, steps_per_epoch: int, callbacks: list, verbose: int | str = "auto"
        ) -> keras.callbacks.History:
    """Train the compiled, built `model` (its variables created under `strategy.scope()`).

    train_input: a repeating dataset of one input pipeline, batched per replica; val_input: a finite one (read
    whole every epoch), or None. Returns the History (also `model.history`).
    """
    train_iterator = iter(strategy.distribute_datasets_from_function(train_input))
    val_dataset = strategy.distribute_datasets_from_function(val_input) if val_input is not None else None
    callback_list = keras.callbacks.CallbackList(callbacks, add_history=True, add_progbar=verbose != 0,
                                                 verbose=verbose, epochs=epochs, steps=steps_per_epoch, model=model)
    train_step = _step_function(strategy, model, model.train_step, from_iterator=True)
    test_step = _step_function(strategy, model, _unless_empty(model.test_step), from_iterator=False)
    agree = _agreement(strategy)

    model.stop_training = False
    epoch_logs: dict = {}
    try:
        agree(False)  # a barrier: the chief has prepared its model directory before any worker restores from it
        callback_list.on_train_begin()
        for epoch in range(model._initial_epoch or 0, epochs):  # BackupAndRestore sets it, as for fit
            model.reset_metrics()
            callback_list.on_epoch_begin(epoch)
            for step in range(steps_per_epoch):
                callback_list.on_train_batch_begin(step)
                logs = _floats(train_step(train_iterator))
                callback_list.on_train_batch_end(step, logs)
                if _stop(model, agree):
                    break
            epoch_logs = _floats(model.get_metrics_result())
            if val_dataset is not None:
                val_logs = _evaluate(model, val_dataset, test_step, callback_list)
                epoch_logs.update({f"val_{name}": value for name, value in val_logs.items()})
            callback_list.on_epoch_end(epoch, epoch_logs)
            if _stop(model, agree):
                break
    except (tf.errors.UnavailableError, tf.errors.AbortedError, tf.errors.DeadlineExceededError) as error:
        raise SumflowError(f"another worker of the cluster stopped ({type(error).__name__}); start every "
                           f"worker again with the same command: training resumes from the last backup") from error
    model.optimizer.finalize_variable_values(model.trainable_weights)
    callback_list.on_train_end(logs=epoch_logs)
    return model.history


def _stop(model: keras.Model, agree: Callable[[bool], bool]) -> bool:
    """Whether to stop now: any worker's callbacks asked for it (then every worker's model says so)."""
    model.stop_training = agree(model.stop_training)
    return model.stop_training


def _evaluate(model: keras.Model, dataset, test_step, callbacks: keras.callbacks.CallbackList) -> dict:
    """One pass over the distributed validation set, as `Model.evaluate` inside `fit`: metrics reset first."""
    model.reset_metrics()
    callbacks.on_test_begin()
    for step, data in enumerate(dataset):  # every worker steps until the last one has run out of batches
        callbacks.on_test_batch_begin(step)
        callbacks.on_test_batch_end(step, _floats(test_step(data)))
    logs = _floats(model.get_metrics_result())
    callbacks.on_test_end(logs)
    return logs


def _step_function(strategy: tf.distribute.Strategy, model: keras.Model, step: Callable, *, from_iterator: bool):
    """A tf.function: `step` on every replica's batch (the next of an iterator, or the batch given), then the
    model's metrics summed over every replica of every worker. XLA (model.jit_compile) covers the replicated
    step alone, as in `fit`: the iterator stays outside it."""

    def replicated(data):
        strategy.run(step, args=(data,))

    replicated = tf.function(replicated, jit_compile=bool(model.jit_compile), reduce_retracing=True)

    def run(data_or_iterator):
        replicated(next(data_or_iterator) if from_iterator else data_or_iterator)
        return model.get_metrics_result()

    return tf.function(run, reduce_retracing=True)


def _unless_empty(step: Callable) -> Callable:
    """`step` on a replica's batch unless it is empty: a worker whose validation shard ran out gets empty
    (0, 0) batches while the others finish, and the recurrent layers cannot run on those."""

    def guarded(data):
        rows = tf.shape(tf.nest.flatten(data)[0])[0]
        data = tf.nest.map_structure(_unknown_shape, data)  # a (0, 0) batch's static shape fails tracing
        return tf.cond(rows > 0, lambda: _then_true(step, data), lambda: tf.constant(False))

    return guarded


def _unknown_shape(tensor):
    return tf.compat.v1.placeholder_with_default(tensor, [None] * tensor.shape.rank)


def _then_true(step: Callable, data):
    step(data)  # its effect is on the model's metrics, which the caller reads across replicas
    return tf.constant(True)


def _agreement(strategy: tf.distribute.Strategy) -> Callable[[bool], bool]:
    """A function of this worker's wish to stop -> whether any worker wishes it (a collective: every worker
    calls it at the same points)."""

    @tf.function
    def any_worker(flag):
        # a tensor that is not per-replica is this worker's own value: the strategy sums it over the workers
        return strategy.reduce(tf.distribute.ReduceOp.SUM, flag, axis=None) > 0

    return lambda wish: bool(any_worker(tf.constant(1.0 if wish else 0.0)))


def _floats(logs) -> dict:
    return {name: float(value) for name, value in logs.items()}
