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
from contract.train_run import (TrainResult, best_value as _best_value, completed_run as _completed_run,
                                finished_run, lowest_loss as _lowest_loss, nothing_to_do,
                                read_history as _read_history, run_fingerprint as _run_fingerprint,
                                selection as _selection, trained_vocab as _trained_vocab)
from model.losses import MaskedNLL, TargetNLL
from model.build import build_model
from model.target_scorer import TargetScorer
from workspace import outputs


@keras.saving.register_keras_serializable(package="sumflow")
class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warmup, then cosine decay to 10% / constant / inverse square root."""

    def __init__(self, *, peak: float, warmup_steps: int, total_steps: int, decay: str):
        self.peak, self.warmup_steps, self.total_steps, self.decay = peak, warmup_steps, total_steps, decay

    def __call__(self, step):
        step = keras.ops.cast(step, "float32") + 1.0
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

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps, "total_steps": self.total_steps,
                "decay": self.decay}


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' BackupAndRestore, but each file is written beside its target and renamed into place, so a kill
    in the middle of a save leaves the previous backup whole; and it restores from `restore_dir` (default: the
    backup_dir), so that a worker that saves into a scratch directory resumes from the chief's backup."""

    def __init__(self, backup_dir: str, *, restore_dir: str | None = None, **kwargs):
        super().__init__(backup_dir, **kwargs)
        self.restore_dir = restore_dir or backup_dir

    def _load_model(self):  # Keras' own, reading restore_dir
        weights = os.path.join(self.restore_dir, os.path.basename(self._weights_path))
        metadata = os.path.join(self.restore_dir, os.path.basename(self._training_metadata_path))
        if os.path.exists(weights):
            if self.model.optimizer is not None and not self.model.optimizer.built:
                self.model.optimizer.build(self.model.trainable_variables)
            self.model.load_weights(weights)
        if os.path.exists(metadata):
            with open(metadata) as f:
                self.model._initial_epoch = json.load(f)["epoch"]

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        tmp = self._weights_path.replace(".weights.h5", ".tmp.weights.h5")
        self.model.save_weights(tmp, overwrite=True)
        os.replace(tmp, self._weights_path)
        with open(self._training_metadata_path + ".tmp", "w") as f:
            json.dump({"epoch": self._current_epoch, "batch": self._last_batch_seen}, f)
        os.replace(self._training_metadata_path + ".tmp", self._training_metadata_path)


class TimeLimit(keras.callbacks.Callback):
    """Stops training (cleanly, at the end of a batch) after `minutes`."""

    def __init__(self, minutes: float):
        super().__init__()
        self.minutes = minutes
        self._start = time.time()

    def on_train_batch_end(self, batch, logs=None):
        if self.minutes and time.time() - self._start > self.minutes * 60:
            self.model.stop_training = True


def _previous_best(history_path: str, monitor: str) -> float:
    """The best `monitor` figure of the epochs before a resume (the worst value, -inf or inf, when none)."""
    return _best_value(_read_history(history_path), monitor)


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
    start = time.time()
    cfg = config.train
    manifest = load_manifest(cfg.data_dir, expected_vocab_sha256=None if force else _trained_vocab(cfg.model_dir))
    fingerprint = _run_fingerprint(config, manifest.fingerprint)
    if chief:
        done = _completed_run(cfg.model_dir, fingerprint, force=force)
    else:
        done = None if force else finished_run(cfg.model_dir, fingerprint)
    if done is not None:
        log(nothing_to_do(cfg.model_dir))
        return done
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
        with strategy.scope():
            model, fitted = _compiled_model(config, manifest, train_data, steps_per_epoch=steps_per_epoch,
                                            fast=fast, jit=jit)
        monitor, mode = _selection(cfg.select_by, validation=val_data is not None)
        if cfg.select_by == "rouge" and val_data is None:
            log("train: no validation data, so train.select_by: rouge falls back to the training loss")
        log(f"train: {manifest.splits['train'].num_records} train records, {steps_per_epoch} steps/epoch, "
            f"{cfg.epochs} epochs, strategy {cluster.describe(strategy)}, jit {jit}, vocab {manifest.vocab.size}")
        all_callbacks = _callbacks(config, manifest, val_data, out_dir=out_dir, monitor=monitor, mode=mode,
                                   steps_per_epoch=steps_per_epoch) + list(callbacks or [])
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
        return _save_best(model, fitted, out_dir, fingerprint, monitor=monitor, start=start,
                          log=log if chief else lambda m: None)


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


def _compiled_model(config: Config, manifest: Manifest, train_data, *, steps_per_epoch: int, fast: bool,
                    jit: bool):
    """(the Seq2Seq, the model `fit` trains: a TargetScorer over it on the fast path), compiled and built."""
    cfg = config.train
    model = build_model(config.model, manifest.vocab.size, coverage_loss_weight=cfg.coverage_loss_weight)
    fitted = TargetScorer(model, name="target_scorer") if fast else model
    schedule = WarmupSchedule(peak=cfg.learning_rate, warmup_steps=cfg.warmup_steps,
                              total_steps=steps_per_epoch * cfg.epochs, decay=cfg.decay)
    fitted.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=cfg.clip_norm),
                   loss=TargetNLL() if fast else MaskedNLL(label_smoothing=cfg.label_smoothing), jit_compile=jit)
    inputs, _ = next(iter(train_data))
    fitted(inputs)  # build before restoring a backup
    fitted.optimizer.build(fitted.trainable_variables)
    return model, fitted


def _callbacks(config: Config, manifest: Manifest, val_data, *, out_dir: str, monitor: str, mode: str,
               steps_per_epoch: int) -> list:
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
                               restore_dir=os.path.join(cfg.model_dir, layout.BACKUP_DIR),
                               save_freq=max(1, min(200, steps_per_epoch // 2))),
        keras.callbacks.ModelCheckpoint(os.path.join(out_dir, layout.BEST_WEIGHTS), monitor=monitor, mode=mode,
                                        save_best_only=True, save_weights_only=True,
                                        initial_value_threshold=_previous_best(history_path, monitor)
                                        if val_data is not None else None),
        keras.callbacks.EarlyStopping(monitor=monitor, mode=mode, patience=cfg.early_stopping_patience),
        keras.callbacks.CSVLogger(history_path, append=True),
        keras.callbacks.TensorBoard(os.path.join(out_dir, layout.LOGS_DIR), update_freq="epoch"),
        TimeLimit(cfg.max_minutes),
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
               start: float, log: Callable[[str], None]) -> TrainResult:
    """Load the best weights, save the Seq2Seq as model.keras, then mark the run complete (last)."""
    best_path = os.path.join(model_dir, layout.BEST_WEIGHTS)
    if os.path.exists(best_path):
        fitted.load_weights(best_path)
    model_path = os.path.join(model_dir, layout.MODEL_FILE)
    model.save(model_path)
    with open(os.path.join(model_dir, layout.COMPLETE), "w") as f:
        f.write(fingerprint + "\n")
    history = _read_history(os.path.join(model_dir, layout.HISTORY))
    result = TrainResult(model_path=model_path, epochs_run=len(history), best_val_loss=_lowest_loss(history),
                         history=history, seconds=time.time() - start, monitor=monitor)
    log(f"train: best {monitor} {result.best:.4f} over {len(history)} epochs -> {model_path}")
    return result
