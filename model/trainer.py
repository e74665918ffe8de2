"""Training: strategy, optimiser, callbacks and `fit`, for `sumflow train`.

The model directory's layout is contract/model_dir.py's. A run killed at any point resumes from its last backup when started again with the same model_dir.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import time
import warnings
from typing import Callable

import keras
import tensorflow as tf

from configs.load import config_yaml
from configs.schema import Config, TrainConfig
from model import cluster, distributed_loop
from model.input import input_fn, load_manifest, make_dataset
from contract import model_dir as layout
from contract.manifest import Manifest, vocab_path
# The "already finished?" check, TF-free so that `sumflow train` can decide before loading TensorFlow.
from contract.train_run import (RUN_FIELDS, TrainResult, best_value, completed_run, finished_run, lowest_loss,
                                nothing_to_do, read_history, result_line, run_fingerprint, selection,
                                trained_vocab)
from model.callbacks import AtomicBackupAndRestore, TrainingBudget
from model.losses import MaskedNLL, TargetNLL
from model.build import build_model
from model.schedule import WarmupSchedule  # model.keras files saved before model/schedule.py name this module
from model import warm_start
from model.target_scorer import TargetScorer
from workspace import allocator, outputs
from workspace.readers import shared_lock


_clock = time.monotonic  # the budget's clock (the tests simulate one)


def _previous_best(history_path: str, monitor: str) -> float:
    """The best `monitor` figure of the epochs before a resume (the worst value, -inf or inf, when none)."""
    return best_value(read_history(history_path), monitor)


def train(config: Config, *, force: bool = False, allow_nonempty: bool = False, callbacks: list | None = None,
          verbose: int | str = "auto", log: Callable[[str], None] = print) -> TrainResult:
    """Train (or resume training) the model of `config` on `config.train.data_dir`.

    A model_dir whose training already completed for the same data and config is left as it is (status
    message, quick return) unless `force`; an interrupted run of the same config resumes from its backup. The
    model directory is locked while training (a second run on it gets LockedError, exit 75), and training
    writes only the files of contract/model_dir.py there (a directory holding others needs `allow_nonempty`).
    Global state (the Keras dtype policy, TF op determinism) is as it was when this returns.
    Under train.strategy=multi_worker every worker calls this; only the chief writes model_dir, the others write
    the same files into a scratch directory they remove at the end (model/cluster.py).
    """
    strategy = cluster.choose_strategy(config.train)  # first: the multi-worker strategy must precede any other TF op
    # The data are read for the whole run: a preprocess run may not replace them meanwhile (it exits 75, and
    # a training run started while one writes them does too: workspace/readers.py).
    with shared_lock(config.train.data_dir, what="train.data_dir"):
        return _train(config, strategy, force=force, allow_nonempty=allow_nonempty, callbacks=callbacks,
                      verbose=verbose, log=log)


def _train(config: Config, strategy: tf.distribute.Strategy, *, force: bool, allow_nonempty: bool,
           callbacks: list | None, verbose: int | str, log: Callable[[str], None]) -> TrainResult:
    if not cluster.is_chief(strategy):
        with cluster.scratch_dir(cluster.task_name(strategy)) as scratch:
            result = _train_locked(config, strategy, out_dir=scratch, chief=False, force=force,
                                   callbacks=callbacks, verbose=verbose, log=log)
        log(f"train: {cluster.task_name(strategy)} done; the chief writes {config.train.model_dir}")
        return dataclasses.replace(result, model_path=os.path.join(config.train.model_dir, layout.MODEL_FILE))
    model_dir = config.train.model_dir
    names = [name.rstrip("/") for name in layout.FILES]
    outputs.claim(model_dir, job="train", names=names, allow_nonempty=allow_nonempty)
    with outputs.locked(model_dir):
        outputs.claim(model_dir, job="train", names=names, allow_nonempty=allow_nonempty)
        outputs.record(model_dir, job="train", files=layout.FILES)
        return _train_locked(config, strategy, out_dir=model_dir, chief=True, force=force, callbacks=callbacks,
                             verbose=verbose, log=log)


def _train_locked(config: Config, strategy: tf.distribute.Strategy, *, out_dir: str, chief: bool, force: bool,
                  callbacks: list | None, verbose: int | str, log: Callable[[str], None]) -> TrainResult:
    """Train, writing into `out_dir`: the model dir for the chief, a scratch directory for another worker
    (which only reads the model dir: whether the run is finished, the backup to resume from)."""
    start, clock_start = time.time(), _clock()
    cfg = config.train
    manifest = load_manifest(cfg.data_dir, expected_vocab_sha256=None if force else trained_vocab(cfg.model_dir))
    fingerprint = run_fingerprint(config, manifest.fingerprint)
    if chief:
        done = completed_run(cfg.model_dir, fingerprint, force=force, select_by=cfg.select_by)
    else:
        done = None if force else finished_run(cfg.model_dir, fingerprint, select_by=cfg.select_by)
    if done is not None:
        log(nothing_to_do(cfg.model_dir))
        return done
    if cfg.init_from:
        warm_start.check_compatible(cfg.init_from, config, manifest)
    if chief:
        _start_model_dir(config, manifest, fingerprint, log=log)
    if cluster.is_multi_worker(strategy):  # before any work: the global batch must split evenly
        per_replica_batch = cluster.per_replica_batch(cfg.batch_size, strategy)
    gpu = bool(tf.config.list_physical_devices("GPU"))
    with _precision(cfg, gpu), _determinism(cfg):
        fast = cfg.label_smoothing == 0.0  # the loss needs only log P(target): score the targets alone
        train_data, val_data = _datasets(config, manifest, targets_in_inputs=fast)
        steps_per_epoch = cfg.steps_per_epoch or max(1, math.ceil(manifest.splits["train"].num_records
                                                                  / cfg.batch_size))
        jit = cfg.jit_compile == "on" or (cfg.jit_compile == "auto" and gpu)  # XLA was slower on CPU
        with strategy.scope():  # the schedule's progress is a variable: mirrored like the model's
            schedule = _schedule(cfg, steps_per_epoch)
            model, fitted = _compiled_model(config, manifest, train_data, steps_per_epoch=steps_per_epoch,
                                            fast=fast, jit=jit, schedule=schedule)
            if cfg.init_from:  # a resumed run's backup, restored when fit begins, still wins
                warm_start.load_weights(model, cfg.init_from)
                log(f"train: starting from the weights of {cfg.init_from}")
        monitor, mode = selection(cfg.select_by, validation=val_data is not None)
        if cfg.select_by == "rouge" and val_data is None:
            log("train: no validation data, so train.select_by: rouge falls back to the training loss")
        budget = _budget(config, manifest, strategy, schedule, steps_per_epoch=steps_per_epoch,
                         validation=val_data is not None, origin=clock_start, log=log)
        log(f"train: {manifest.splits['train'].num_records} train records, {steps_per_epoch} steps/epoch, "
            f"{cfg.epochs} epochs, strategy {cluster.describe(strategy)}, jit {jit}, vocab {manifest.vocab.size}, "
            f"learning rate sized by {_sized_by(cfg, budget)}, {allocator.describe()}")
        all_callbacks = (_callbacks(config, manifest, val_data, out_dir=out_dir, monitor=monitor, mode=mode,
                                    steps_per_epoch=steps_per_epoch, budget=budget)
                         + list(callbacks or []) + [budget])  # the budget last: it times the others
        if cluster.is_multi_worker(strategy):  # Keras fit fails under it: our loop (model/distributed_loop.py)
            def inputs(split: str, training: bool):
                return input_fn(cfg.data_dir, manifest, split, train=cfg, model=config.model, training=training,
                                targets_in_inputs=fast, per_replica_batch=per_replica_batch)

            distributed_loop.fit(fitted, strategy, train_input=inputs("train", True),
                                 val_input=inputs("validation", False) if val_data is not None else None,
                                 epochs=cfg.epochs, steps_per_epoch=steps_per_epoch, callbacks=all_callbacks,
                                 verbose=verbose)
        else:
            _fit(fitted, train_data, val_data, cfg, steps_per_epoch=steps_per_epoch, verbose=verbose,
                 callbacks=all_callbacks)
        return _save_best(model, fitted, out_dir, fingerprint, monitor=monitor, start=start, budget=budget,
                          schedule=schedule, chief=chief, log=log if chief else lambda m: None)


def _budget(config: Config, manifest: Manifest, strategy: tf.distribute.Strategy, schedule: WarmupSchedule, *,
            steps_per_epoch: int, validation: bool, origin: float, log: Callable[[str], None]) -> TrainingBudget:
    """The run's clock and train.max_minutes' limit; it sizes `schedule` to the budget under schedule_by auto.

    Under multi_worker the curve stays sized by epochs: each worker's clock would move its own copy of the
    schedule's progress, and replicas must apply the same learning rate; the budget still stops every worker
    at the same step (model/distributed_loop.py agrees on stopping)."""
    cfg = config.train
    sized = bool(cfg.max_minutes) and cfg.schedule_by == "auto"
    if sized and cluster.is_multi_worker(strategy):
        log("train: under train.strategy=multi_worker the learning rate stays sized by epochs (the workers' "
            "clocks differ); train.max_minutes still stops training")
        sized = False
    batches = 0  # a validation's cost before one is measured: two training steps per validation batch
    if validation:
        batches = math.ceil(manifest.splits["validation"].num_records / cfg.batch_size) + \
            math.ceil(min(cfg.validation_rouge_samples, manifest.splits["validation"].num_records) / cfg.batch_size)
    return TrainingBudget(minutes=cfg.max_minutes, steps_per_epoch=steps_per_epoch, epochs=cfg.epochs,
                          schedule=schedule if sized else None, validation_prior_steps=2 * batches, clock=_clock,
                          origin=origin)


def _sized_by(cfg: TrainConfig, budget: TrainingBudget) -> str:
    if budget.schedule is not None:
        return f"the budget ({cfg.max_minutes:g} min, or {cfg.epochs} epochs if sooner)"
    limit = f", stopped at {cfg.max_minutes:g} min" if cfg.max_minutes else ""
    return f"{cfg.epochs} epochs{limit}"


def _start_model_dir(config: Config, manifest: Manifest, fingerprint: str, *, log: Callable[[str], None]) -> None:
    """Write train.json, the vocabulary and the config; drop a backup left by a run of another config (only the
    same run resumes)."""
    cfg = config.train
    info_path = os.path.join(cfg.model_dir, layout.TRAIN_INFO)
    backup = os.path.join(cfg.model_dir, layout.BACKUP_DIR)
    if os.path.isdir(backup):
        earlier = {}
        if os.path.exists(info_path):
            with open(info_path) as f:
                earlier = json.load(f)
        if earlier.get("run_fingerprint") != fingerprint:
            log(f"train: {backup} is from a run with other data or config; starting afresh")
            import shutil

            shutil.rmtree(backup)
    stale_choice = os.path.join(cfg.model_dir, layout.DECODING)
    if os.path.exists(stale_choice):  # tune-decoding's choice was for the model this run replaces
        os.remove(stale_choice)
        log(f"train: removed {stale_choice}, chosen for the earlier model; run `sumflow tune-decoding` again")
    with open(info_path, "w") as f:
        json.dump({"data_dir": cfg.data_dir, "data_fingerprint": manifest.fingerprint,
                   "vocab_sha256": manifest.vocab.sha256, "vocab_size": manifest.vocab.size,
                   "schema_version": manifest.schema_version, "run_fingerprint": fingerprint}, f, indent=2)
    tf.io.gfile.copy(vocab_path(cfg.data_dir, manifest), os.path.join(cfg.model_dir, layout.VOCAB), overwrite=True)
    with open(os.path.join(cfg.model_dir, layout.CONFIG), "w") as f:
        f.write(config_yaml(config))


@contextlib.contextmanager
def _precision(cfg: TrainConfig, gpu: bool):
    """mixed_bfloat16 while training on a GPU (train.mixed_precision=auto); the previous policy afterwards.
    The saved model keeps its layers' policies."""
    previous = keras.mixed_precision.global_policy()
    if cfg.mixed_precision == "auto" and gpu:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


@contextlib.contextmanager
def _determinism(cfg: TrainConfig):
    """Seeded, deterministic ops while training with train.deterministic; TF's previous setting afterwards."""
    from tensorflow.python.framework import config as tf_config  # is/disable_op_determinism are not public

    was = tf_config.is_op_determinism_enabled()
    if cfg.deterministic:
        keras.utils.set_random_seed(cfg.seed)
        tf.config.experimental.enable_op_determinism()
    try:
        yield
    finally:
        if not was:
            tf_config.disable_op_determinism()


def _datasets(config: Config, manifest: Manifest, *, targets_in_inputs: bool):
    """(train: shuffled and repeated, validation: read once per epoch, or None when the split is empty)."""
    cfg = config.train
    train_data = make_dataset(cfg.data_dir, manifest, "train", train=cfg, model=config.model, training=True,
                              targets_in_inputs=targets_in_inputs)
    if manifest.splits["validation"].num_records == 0:
        return train_data, None
    return train_data, make_dataset(cfg.data_dir, manifest, "validation", train=cfg, model=config.model,
                                    training=False, targets_in_inputs=targets_in_inputs)


def _schedule(cfg: TrainConfig, steps_per_epoch: int) -> WarmupSchedule:
    """The learning-rate curve over train.epochs x steps_per_epoch (a budget may re-size it: model/callbacks.py)."""
    return WarmupSchedule(peak=cfg.learning_rate, warmup_steps=cfg.warmup_steps,
                          total_steps=steps_per_epoch * cfg.epochs, decay=cfg.decay)


def _compiled_model(config: Config, manifest: Manifest, train_data, *, steps_per_epoch: int, fast: bool,
                    jit: bool, schedule: WarmupSchedule | None = None):
    """(the Seq2Seq, the model `fit` trains: a TargetScorer over it on the fast path), compiled and built.
    `schedule`: the learning rate (default: sized by train.epochs x steps_per_epoch)."""
    cfg = config.train
    model = build_model(config.model, manifest.vocab.size, coverage_loss_weight=cfg.coverage_loss_weight)
    fitted = TargetScorer(model, name="target_scorer") if fast else model
    schedule = schedule if schedule is not None else _schedule(cfg, steps_per_epoch)
    fitted.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=cfg.clip_norm),
                   loss=TargetNLL() if fast else MaskedNLL(label_smoothing=cfg.label_smoothing), jit_compile=jit)
    inputs, _ = next(iter(train_data))
    fitted(inputs)  # build before restoring a backup
    fitted.optimizer.build(fitted.trainable_variables)
    return model, fitted


def _callbacks(config: Config, manifest: Manifest, val_data, *, out_dir: str, monitor: str, mode: str,
               steps_per_epoch: int, budget: TrainingBudget) -> list:
    """The callbacks of a run writing into `out_dir`; the backup is restored from the model dir's."""
    cfg = config.train
    history_path = os.path.join(out_dir, layout.HISTORY)
    rouge = []
    if val_data is not None and cfg.validation_rouge_samples:
        from contract.tokenizer import Tokenizer
        from model.validation_rouge import ValidationRouge, sample_batches

        rouge.append(ValidationRouge(
            batches=sample_batches(val_data, cfg.validation_rouge_samples),
            tokenizer=Tokenizer.load(vocab_path(cfg.data_dir, manifest)), decode_cfg=config.decode))
    return [
        *rouge,  # first, so the checkpoint (select_by: rouge), CSV and TensorBoard callbacks see its figures
        AtomicBackupAndRestore(os.path.join(out_dir, layout.BACKUP_DIR),
                               restore_dir=os.path.join(cfg.model_dir, layout.BACKUP_DIR), budget=budget,
                               save_freq=max(1, min(200, steps_per_epoch // 2))),
        keras.callbacks.ModelCheckpoint(os.path.join(out_dir, layout.BEST_WEIGHTS), monitor=monitor, mode=mode,
                                        save_best_only=True, save_weights_only=True,
                                        initial_value_threshold=_previous_best(history_path, monitor)
                                        if val_data is not None else None),
        keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=cfg.early_stopping_patience),
        keras.callbacks.CSVLogger(history_path, append=True),
        keras.callbacks.TensorBoard(os.path.join(out_dir, layout.LOGS_DIR), update_freq="epoch"),
    ]


def _fit(fitted: keras.Model, train_data, val_data, cfg: TrainConfig, *, steps_per_epoch: int,
         verbose: int | str, callbacks: list) -> None:
    with warnings.catch_warnings():
        # The validation set is finite by design (read once per epoch, its batch count unknown to Keras until
        # the end); Keras warns that it "ran out of data" when it ends. The train set repeats.
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        fitted.fit(train_data, validation_data=val_data, epochs=cfg.epochs, steps_per_epoch=steps_per_epoch,
                   callbacks=callbacks, verbose=verbose, shuffle=False)  # tf.data shuffles (seeded)


def _save_best(model: keras.Model, fitted: keras.Model, model_dir: str, fingerprint: str, *, monitor: str,
               start: float, budget: TrainingBudget, schedule: WarmupSchedule, chief: bool,
               log: Callable[[str], None]) -> TrainResult:
    """Load the best weights, save the Seq2Seq as model.keras, add what the run did to train.json, then mark
    the run complete (last). Another worker than the chief saves into its scratch directory and stops there:
    train.json and the completion marker are the chief's."""
    steps = int(keras.ops.convert_to_numpy(fitted.optimizer.iterations))  # before the best weights reset it
    best_path = os.path.join(model_dir, layout.BEST_WEIGHTS)
    if os.path.exists(best_path):
        fitted.load_weights(best_path)
    model_path = os.path.join(model_dir, layout.MODEL_FILE)
    model.save(model_path)
    history = read_history(os.path.join(model_dir, layout.HISTORY))
    # where the last step ran on the curve (model/schedule.py): its step, or the budget's progress
    position = max(float(steps), budget.progress_used * schedule.total_steps)
    result = TrainResult(model_path=model_path, epochs_run=len(history), best_val_loss=lowest_loss(history),
                         history=history, seconds=time.time() - start, monitor=monitor, steps=steps,
                         schedule_share=min(1.0, position / max(schedule.total_steps, 1)),
                         final_learning_rate=float(keras.ops.convert_to_numpy(schedule.at(max(position, 1.0)))),
                         minutes=budget.elapsed() / 60, validation_minutes=budget.validation_seconds / 60,
                         budget_minutes=float(budget.minutes),
                         schedule_by="budget" if budget.schedule is not None else "epochs")
    if not chief:
        return result
    _record_run(os.path.join(model_dir, layout.TRAIN_INFO), result)
    with open(os.path.join(model_dir, layout.COMPLETE), "w") as f:
        f.write(fingerprint + "\n")
    log(result_line(result))
    return result


def _record_run(info_path: str, result: TrainResult) -> None:
    """Add the run's figures (contract/train_run.RUN_FIELDS) to train.json, atomically."""
    with open(info_path) as f:
        info = json.load(f)
    info.update({name: getattr(result, name) for name in RUN_FIELDS})
    with open(info_path + ".tmp", "w") as f:
        json.dump(info, f, indent=2)
    os.replace(info_path + ".tmp", info_path)
