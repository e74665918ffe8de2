"""Where a training process stands: its distribution strategy and, among several workers, whether it is the chief.

`train.strategy`:
  default       this process's default device;
  mirrored      every local GPU (or logical CPU device) of this host, in sync (`MirroredStrategy`, Keras `fit`);
  multi_worker  one replica per worker process listed in TF_CONFIG, in sync over gRPC
                (`MultiWorkerMirroredStrategy`, driven by model/distributed_loop.py since Keras `fit` fails
                under it); without TF_CONFIG, one worker;
  auto          mirrored when this host has several GPUs, else default.

Two workers on one machine (the same on several hosts, each with its own address and index):

    TF_CONFIG='{"cluster": {"worker": ["127.0.0.1:12345", "127.0.0.1:12346"]},
                "task": {"type": "worker", "index": 0}}' sumflow train --set train.strategy=multi_worker
    ... and the same command with "index": 1

The chief (the task of type "chief", else worker 0) writes the model directory. Every other worker runs the
same training and writes the same files into a scratch directory of its own, removed when it ends (every worker
saves, as TensorFlow advises, so that any save that reads distributed variables runs on all of them); it
resumes from the chief's backup, so the model directory must be one shared path (a network filesystem or
gs://) when the workers are on several hosts.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from typing import Iterator

import tensorflow as tf

from configs.schema import TrainConfig
from workspace.errors import UsageError


def choose_strategy(cfg: TrainConfig) -> tf.distribute.Strategy:
    """The strategy of `cfg.strategy`. Call it before any other TensorFlow work in the process: the
    multi-worker strategy configures collective ops, which TensorFlow accepts only at startup."""
    if cfg.strategy == "multi_worker":
        check_tf_config(os.environ.get("TF_CONFIG", ""))
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except RuntimeError as error:
            if "program startup" not in str(error):
                raise
            raise UsageError("train.strategy=multi_worker must start before any other TensorFlow work in its "
                             "process: run `sumflow train` (or trainer.train) in a fresh process") from None
    gpus = tf.config.list_physical_devices("GPU")
    if cfg.strategy == "mirrored" or (cfg.strategy == "auto" and len(gpus) > 1):
        return tf.distribute.MirroredStrategy()
    return tf.distribute.get_strategy()


def check_tf_config(text: str) -> None:
    """Refuse a TF_CONFIG that MultiWorkerMirroredStrategy would misread (UsageError); "" means one worker."""
    if not text.strip():
        return
    example = ('e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", '
               '"index": 0}}')
    try:
        tf_config = json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(f"TF_CONFIG is not JSON ({error.msg} at character {error.pos}); {example}") from None
    cluster = tf_config.get("cluster") if isinstance(tf_config, dict) else None
    task = tf_config.get("task") if isinstance(tf_config, dict) else None
    if not isinstance(cluster, dict) or not isinstance(task, dict):
        raise UsageError(f"TF_CONFIG needs a \"cluster\" and a \"task\"; {example}")
    kind, index = task.get("type"), task.get("index")
    hosts = cluster.get(kind)
    if not isinstance(hosts, list) or not isinstance(index, int) or not 0 <= index < len(hosts):
        raise UsageError(f"TF_CONFIG's task {kind!r} {index!r} is not in its cluster "
                         f"({ {name: len(v) for name, v in cluster.items() if isinstance(v, list)} } tasks); "
                         f"{example}")


def is_multi_worker(strategy: tf.distribute.Strategy) -> bool:
    """Whether `strategy` needs model/distributed_loop.py (Keras `fit` fails under it), even with one worker."""
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """Whether this process writes the model directory (always, outside a multi-worker cluster)."""
    return bool(strategy.extended.should_checkpoint)


def describe(strategy: tf.distribute.Strategy) -> str:
    """The strategy's class, with its replicas (and this process's task) when there are several workers or
    replicas: "MirroredStrategy (2 replicas)", "CollectiveAllReduceStrategy (2 replicas, worker 1)"."""
    name, replicas = type(strategy).__name__, strategy.num_replicas_in_sync
    counted = f"{replicas} replica{'s' if replicas > 1 else ''}"
    if is_multi_worker(strategy):
        return f"{name} ({counted}, {task_name(strategy)})"
    return f"{name} ({counted})" if replicas > 1 else name


def task_name(strategy: tf.distribute.Strategy) -> str:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return "worker 0"
    return f"{resolver.task_type} {resolver.task_id}"


@contextlib.contextmanager
def scratch_dir(task: str) -> Iterator[str]:
    """A private directory for a non-chief worker's copies of the chief's files, removed when the block ends."""
    path = tempfile.mkdtemp(prefix=f"sumflow-train-{task.replace(' ', '')}-")
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def per_replica_batch(batch_size: int, strategy: tf.distribute.Strategy) -> int:
    """train.batch_size is the global batch: each of the replicas in sync takes an equal share."""
    replicas = strategy.num_replicas_in_sync
    if batch_size % replicas:
        raise UsageError(f"train.batch_size ({batch_size}) must be a multiple of the {replicas} replicas training "
                         f"in sync (one per worker under multi_worker); e.g. --set train.batch_size="
                         f"{max(replicas, batch_size // replicas * replicas)}")
    return batch_size // replicas
