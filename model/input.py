"""tf.data input: a preprocess output (found through its manifest) -> padded, length-bucketed batches.

Each step is a small `Dataset -> Dataset` function used with `.apply`, composed by `make_dataset`:

    files -> interleave TFRecords -> [shuffle] -> parse -> truncate + BOS/EOS -> bucket by length -> prefetch

Elements are `({"article_ids": (batch, src), "summary_in": (batch, tgt)}, summary_out (batch, tgt))`, int32,
padded with 0: the contract of `model.encoder_decoder.EncoderDecoder`.
"""

from __future__ import annotations

import dataclasses

import tensorflow as tf

from configs.schema import ModelConfig, TrainConfig
from contract.manifest import Manifest, ManifestError, load_manifest, split_paths  # load_manifest re-exported
from contract.records import BOS_ID, EOS_ID, feature_spec

AUTOTUNE = tf.data.AUTOTUNE


def interleave_files(files: list[str], *, shuffle: bool, seed: int, deterministic: bool):
    def apply(_):
        dataset = tf.data.Dataset.from_tensor_slices(files)
        if shuffle:
            dataset = dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
        return dataset.interleave(tf.data.TFRecordDataset, cycle_length=min(len(files), 8),
                                  num_parallel_calls=AUTOTUNE, deterministic=deterministic)
    return apply


def parse(dataset: tf.data.Dataset) -> tf.data.Dataset:
    spec = {k: v for k, v in feature_spec().items() if k in ("article_ids", "summary_ids")}
    return dataset.map(lambda s: tf.io.parse_single_example(s, spec), num_parallel_calls=AUTOTUNE)


def to_model_inputs(max_source_tokens: int, max_target_tokens: int):
    """Truncate, then summary_in = BOS + y (cut to max_target_tokens), summary_out = y + EOS (same length)."""

    def convert(features):
        article = tf.cast(features["article_ids"][:max_source_tokens], tf.int32)
        summary = tf.cast(features["summary_ids"][:max_target_tokens - 1], tf.int32)
        summary_in = tf.concat([[BOS_ID], summary], axis=0)
        summary_out = tf.concat([summary, [EOS_ID]], axis=0)
        return {"article_ids": article, "summary_in": summary_in}, summary_out

    return lambda dataset: dataset.map(convert, num_parallel_calls=AUTOTUNE)


def bucket_by_length(batch_size: int, boundaries: tuple[int, ...], *, drop_remainder: bool = False):
    """Batch articles of similar length together (little padding); pad with 0."""

    def apply(dataset):
        if not boundaries:
            return dataset.padded_batch(batch_size, drop_remainder=drop_remainder)
        return dataset.bucket_by_sequence_length(
            element_length_func=lambda inputs, _: tf.shape(inputs["article_ids"])[0],
            bucket_boundaries=list(boundaries), bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            drop_remainder=drop_remainder)

    return apply


def make_dataset(data_dir: str, manifest: Manifest, split: str, *, train: TrainConfig, model: ModelConfig,
                 training: bool, targets_in_inputs: bool = False, shard: tuple[int, int] = (1, 0)
                 ) -> tf.data.Dataset:
    """Batches (of train.batch_size) of one split. `training` shuffles (seeded) and repeats; evaluation reads
    each record once.

    targets_in_inputs: also put summary_out among the inputs, so the model scores the targets only
    (the training fast path of model/encoder_decoder.py).
    shard: (count, index) - read only this share of the split, for one of `count` input pipelines: its files
    when there are at least `count`, else every count-th record (the files then read in a fixed order, so that
    the shares partition the split).
    """
    files = split_paths(data_dir, manifest, split)
    if not files or manifest.splits[split].num_records == 0:
        raise ManifestError(f"{data_dir}: split {split!r} has no records; check the preprocess counts in "
                            f"its manifest.json")
    count, index = shard
    by_record = count > 1 and len(files) < count
    if count > 1 and not by_record:
        files = files[index::count]
    boundaries = tuple(b for b in train.bucket_boundaries if b < model.max_source_tokens)
    dataset = (tf.data.Dataset.range(1)
               .apply(interleave_files(files, shuffle=training, seed=train.seed,
                                       deterministic=train.deterministic or not training or by_record)))
    if by_record:
        dataset = dataset.shard(count, index)
    if training:
        dataset = dataset.shuffle(train.shuffle_buffer, seed=train.seed, reshuffle_each_iteration=True)
    dataset = (dataset.apply(parse)
               .apply(to_model_inputs(model.max_source_tokens, model.max_target_tokens))
               .apply(bucket_by_length(train.batch_size, boundaries)))
    if targets_in_inputs:
        dataset = dataset.map(lambda inputs, targets: ({**inputs, "summary_out": targets}, targets),
                              num_parallel_calls=AUTOTUNE, deterministic=True)
    if training:
        dataset = dataset.repeat()
    options = tf.data.Options()
    options.deterministic = bool(train.deterministic or not training)
    return dataset.with_options(options).prefetch(AUTOTUNE)


def input_fn(data_dir: str, manifest: Manifest, split: str, *, train: TrainConfig, model: ModelConfig,
             training: bool, targets_in_inputs: bool = False, per_replica_batch: int):
    """`make_dataset` for one input pipeline of a distributed run (`strategy.distribute_datasets_from_function`):
    its shard of the split, in batches of `per_replica_batch` (each replica takes its own batch)."""
    per_replica = dataclasses.replace(train, batch_size=per_replica_batch)

    def build(context: tf.distribute.InputContext) -> tf.data.Dataset:
        return make_dataset(data_dir, manifest, split, train=per_replica, model=model, training=training,
                            targets_in_inputs=targets_in_inputs,
                            shard=(context.num_input_pipelines, context.input_pipeline_id))

    return build
