"""Training: strategy, optimiser, callbacks and `fit`, for `sumflow train`.

Model directory layout:
  model.keras               the best model (lowest validation loss), written at the end of training
  best.weights.h5           best weights so far (ModelCheckpoint on val_loss)
  backup/                   resume state (weights + optimizer + epoch), removed when training completes
  history.csv               every epoch's figures (appended across restarts)
  logs/                     TensorBoard
  vocab.model, train.json   the vocabulary and what the model was trained on (data manifest, vocab hash)
  config.yaml               the resolved config
A run killed at any point resumes from its last backup when started again with the same model_dir.
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
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
from model.input import load_manifest, make_dataset
from model.losses import MaskedNLL
from model.seq2seq import build_seq2seq
from pipeline import outputs
from pipeline.manifest import vocab_path

TRAIN_INFO = "train.json"
COMPLETE = "_COMPLETE"  # written last; holds the fingerprint of data + model/train config
# Everything training writes in a model directory (a folder as `name/`): recorded as sumflow's before it is
# written, so a rerun replaces only these and never a user's file (pipeline/outputs.py).
MODEL_DIR_FILES = ("model.keras", "best.weights.h5", "backup/", "history.csv", "logs/", "vocab.model",
                   TRAIN_INFO, "config.yaml", COMPLETE)


@dataclasses.dataclass(frozen=True)
class TrainResult:
    model_path: str
    epochs_run: int
    best_val_loss: float
    history: list[dict]
    seconds: float


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
    in the middle of a save leaves the previous backup whole."""

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


def choose_strategy(cfg: TrainConfig) -> tf.distribute.Strategy:
    gpus = tf.config.list_physical_devices("GPU")
    if cfg.strategy == "multi_worker":  # hosts listed in TF_CONFIG
        return tf.distribute.MultiWorkerMirroredStrategy()
    if cfg.strategy == "mirrored" or (cfg.strategy == "auto" and len(gpus) > 1):
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def _previous_best(history_path: str) -> float:
    if not os.path.exists(history_path):
        return math.inf
    with open(history_path) as f:
        losses = [float(row["val_loss"]) for row in csv.DictReader(f) if row.get("val_loss")]
    return min(losses, default=math.inf)


def _read_history(history_path: str) -> list[dict]:
    if not os.path.exists(history_path):
        return []
    with open(history_path) as f:
        return [{k: float(v) for k, v in row.items() if v != ""} for row in csv.DictReader(f)]


def _run_fingerprint(config: Config, data_fingerprint: str) -> str:
    payload = json.dumps({"model": dataclasses.asdict(config.model), "train": dataclasses.asdict(config.train),
                          "data": data_fingerprint}, sort_keys=True, default=list)
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def train(config: Config, *, force: bool = False, allow_nonempty: bool = False, callbacks: list | None = None,
          verbose: int | str = "auto", log: Callable[[str], None] = print) -> TrainResult:
    """Train (or resume training) the model of `config` on `config.train.data_dir`.

    A model_dir whose training already completed for the same data and config is left as it is (status
    message, quick return) unless `force`; an interrupted one resumes from its backup. The model directory
    is locked while training (a second run on it gets LockedError, exit 75), and training writes only the
    files of MODEL_DIR_FILES there (a directory holding other files needs `allow_nonempty`).
    """
    model_dir = config.train.model_dir
    names = [name.rstrip("/") for name in MODEL_DIR_FILES]
    outputs.claim(model_dir, job="train", names=names, allow_nonempty=allow_nonempty)
    with outputs.locked(model_dir):
        outputs.claim(model_dir, job="train", names=names, allow_nonempty=allow_nonempty)
        outputs.record(model_dir, job="train", files=MODEL_DIR_FILES)
        return _train_locked(config, force=force, callbacks=callbacks, verbose=verbose, log=log)


def _train_locked(config: Config, *, force: bool, callbacks: list | None, verbose: int | str,
                  log: Callable[[str], None]) -> TrainResult:
    start = time.time()
    cfg = config.train
    model_dir = cfg.model_dir
    info_path = os.path.join(model_dir, TRAIN_INFO)
    complete_path = os.path.join(model_dir, COMPLETE)
    expected_vocab = None
    if os.path.exists(info_path):  # resuming: the data must use the same vocabulary
        with open(info_path) as f:
            expected_vocab = json.load(f)["vocab_sha256"]
    manifest = load_manifest(cfg.data_dir, expected_vocab_sha256=None if force else expected_vocab)
    fingerprint = _run_fingerprint(config, manifest.fingerprint)
    history_path = os.path.join(model_dir, "history.csv")
    if os.path.exists(complete_path):
        with open(complete_path) as f:
            done = f.read().strip() == fingerprint
        if done and not force:
            history = _read_history(history_path)
            monitor = "val_loss" if any("val_loss" in h for h in history) else "loss"
            log(f"train: {model_dir} already holds a model trained on these data with this config; nothing "
                f"to do. Use --force to train again.")
            return TrainResult(os.path.join(model_dir, "model.keras"), len(history),
                               min((h.get(monitor, math.inf) for h in history), default=math.inf), history, 0.0)
        os.remove(complete_path)
        for stale in (history_path, os.path.join(model_dir, "best.weights.h5")):  # a new run starts afresh
            if os.path.exists(stale):
                os.remove(stale)
    with open(info_path, "w") as f:
        json.dump({"data_dir": cfg.data_dir, "data_fingerprint": manifest.fingerprint,
                   "vocab_sha256": manifest.vocab.sha256, "vocab_size": manifest.vocab.size,
                   "schema_version": manifest.schema_version}, f, indent=2)
    tf.io.gfile.copy(vocab_path(cfg.data_dir, manifest), os.path.join(model_dir, "vocab.model"), overwrite=True)
    with open(os.path.join(model_dir, "config.yaml"), "w") as f:
        f.write(config_yaml(config))

    gpu = bool(tf.config.list_physical_devices("GPU"))
    if cfg.mixed_precision == "auto" and gpu:
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
    if cfg.deterministic:
        keras.utils.set_random_seed(cfg.seed)
        tf.config.experimental.enable_op_determinism()
    jit = cfg.jit_compile == "on" or (cfg.jit_compile == "auto" and gpu)  # XLA was slower on CPU

    steps_per_epoch = cfg.steps_per_epoch or max(1, math.ceil(manifest.splits["train"].num_records
                                                              / cfg.batch_size))
    # Without label smoothing the loss needs only log P(target): the model scores the targets alone (fast path).
    fast = cfg.label_smoothing == 0.0
    train_data = make_dataset(cfg.data_dir, manifest, "train", train=cfg, model=config.model, training=True,
                              targets_in_inputs=fast)
    has_validation = manifest.splits["validation"].num_records > 0
    val_data = (make_dataset(cfg.data_dir, manifest, "validation", train=cfg, model=config.model,
                             training=False, targets_in_inputs=fast) if has_validation else None)

    strategy = choose_strategy(cfg)
    with strategy.scope():
        model = build_seq2seq(config.model, manifest.vocab.size, coverage_loss_weight=cfg.coverage_loss_weight)
        schedule = WarmupSchedule(peak=cfg.learning_rate, warmup_steps=cfg.warmup_steps,
                                  total_steps=steps_per_epoch * cfg.epochs, decay=cfg.decay)
        model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=cfg.clip_norm),
                      loss=MaskedNLL(label_smoothing=cfg.label_smoothing), jit_compile=jit)
        inputs, _ = next(iter(train_data))
        model(inputs)  # build before restoring a backup
        model.optimizer.build(model.trainable_variables)

    best_path = os.path.join(model_dir, "best.weights.h5")
    monitor = "val_loss" if has_validation else "loss"
    rouge_callbacks = []
    if has_validation and cfg.validation_rouge_samples:
        from model.validation_rouge import ValidationRouge, sample_batches
        from pipeline.tokenizer import Tokenizer

        rouge_callbacks.append(ValidationRouge(
            batches=sample_batches(val_data, cfg.validation_rouge_samples),
            tokenizer=Tokenizer.load(vocab_path(cfg.data_dir, manifest)), decode_cfg=config.decode))
    all_callbacks = [
        *rouge_callbacks,  # first, so the checkpoint, CSV and TensorBoard callbacks see its figures
        AtomicBackupAndRestore(os.path.join(model_dir, "backup"), save_freq=max(1, min(200, steps_per_epoch // 2))),
        keras.callbacks.ModelCheckpoint(best_path, monitor=monitor, save_best_only=True, save_weights_only=True,
                                        initial_value_threshold=_previous_best(history_path)
                                        if has_validation else None),
        keras.callbacks.EarlyStopping(monitor=monitor, patience=cfg.early_stopping_patience),
        keras.callbacks.CSVLogger(history_path, append=True),
        keras.callbacks.TensorBoard(os.path.join(model_dir, "logs"), update_freq="epoch"),
        TimeLimit(cfg.max_minutes),
        *(callbacks or []),
    ]
    log(f"train: {manifest.splits['train'].num_records} train records, {steps_per_epoch} steps/epoch, "
        f"{cfg.epochs} epochs, strategy {type(strategy).__name__}, jit {jit}, vocab {manifest.vocab.size}")
    with warnings.catch_warnings():
        # The validation set is finite by design (read once per epoch, its batch count unknown to Keras until
        # the end); Keras warns that it "ran out of data" when it ends. The train set repeats.
        warnings.filterwarnings("ignore", message="Your input ran out of data")
        model.fit(train_data, validation_data=val_data, epochs=cfg.epochs, steps_per_epoch=steps_per_epoch,
                  callbacks=all_callbacks, verbose=verbose, shuffle=False)  # tf.data shuffles (seeded)

    if os.path.exists(best_path):
        model.load_weights(best_path)
    model_path = os.path.join(model_dir, "model.keras")
    model.save(model_path)
    with open(complete_path, "w") as f:
        f.write(fingerprint + "\n")
    history = _read_history(history_path)
    best = min((h.get(monitor, math.inf) for h in history), default=math.inf)
    log(f"train: best {monitor} {best:.4f} over {len(history)} epochs -> {model_path}")
    return TrainResult(model_path=model_path, epochs_run=len(history), best_val_loss=best, history=history,
                       seconds=time.time() - start)
