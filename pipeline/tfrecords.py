"""`TokenizeAndSerialize` and `WriteSplits`: cleaned records -> tf.train.Example bytes -> sharded TFRecords.

Serialized Examples travel in batches (one element per tokenized batch and split): Beam's write path costs
several microseconds per element (WriteImpl's WindowInto and write step), paid once per batch this way.
"""

from __future__ import annotations

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io import filebasedsink
from apache_beam.transforms.window import GlobalWindows

from configs.schema import SPLITS
from pipeline import stats as stats_lib
from contract.records import encode_example
from contract.tfrecord import write_records
from contract.tokenizer import Tokenizer

STATS = "stats"


def tokenize_batch(tokenizer: Tokenizer, records: list[dict]) -> list[tuple[str, bytes, int, int]]:
    """(split, serialized Example, article tokens, summary tokens) for each record; one batched encode call.

    Plain Python: the benchmark's plain loop calls it too.
    """
    article_ids = tokenizer.encode([r["article"] for r in records])
    summary_ids = tokenizer.encode([r["summary"] for r in records])
    return [(r["split"], encode_example(id=r["id"], article=r["article"], summary=r["summary"],
                                        article_ids=a, summary_ids=s), len(a), len(s))
            for r, a, s in zip(records, article_ids, summary_ids)]


class _TokenizeBatch(beam.DoFn):
    """Loads the SentencePiece model once per worker (setup) and tokenizes whole batches."""

    def __init__(self, model_path: str):
        self._model_path = model_path

    def setup(self):
        self._tokenizer = Tokenizer.load(self._model_path)

    def start_bundle(self):
        self._stats = stats_lib.empty_stats()

    def process(self, batch):
        by_split: dict[str, list[bytes]] = {}
        for split, serialized, article_len, summary_len in tokenize_batch(self._tokenizer, batch):
            stats_lib.add_lengths(self._stats, split, article_len, summary_len)
            by_split.setdefault(split, []).append(serialized)
        for split, serialized in by_split.items():
            yield pvalue.TaggedOutput(split, serialized)

    def finish_bundle(self):
        # One small dict per bundle instead of one tuple per record.
        if self._stats:
            yield pvalue.TaggedOutput(STATS, GlobalWindows.windowed_value(self._stats))


class TokenizeAndSerialize(beam.PTransform):
    """cleaned records -> {split: lists of serialized Examples, ..., "stats": per-bundle length statistics}."""

    def __init__(self, model_path: str):
        super().__init__()
        self._model_path = model_path

    def expand(self, records):
        result = (records
                  # Batches amortise the per-element framework cost and feed SentencePiece's batch encoder.
                  | "Batch" >> beam.BatchElements(min_batch_size=32, max_batch_size=256)
                  | "Tokenize" >> beam.ParDo(_TokenizeBatch(self._model_path)).with_outputs(*SPLITS, STATS))
        return {name: result[name] for name in (*SPLITS, STATS)}


class _TFRecordBatchSink(filebasedsink.FileBasedSink):
    """TFRecord files whose elements are lists of serialized records (FileBasedSink.write_record is the
    documented place to change how an element is written); the framing is contract/tfrecord.py's (TFRecord's:
    length, masked CRC of the length, data, masked CRC of the data), which the readers check."""

    def __init__(self, file_path_prefix: str):
        super().__init__(file_path_prefix, coder=None, file_name_suffix=".tfrecord",
                         mime_type="application/octet-stream")

    def write_record(self, file_handle, value: list[bytes]) -> None:
        write_records(file_handle, value)


class WriteSplits(beam.PTransform):
    """{split: lists of serialized Examples} -> `{prefix}/{split}-SSSSS-of-NNNNN.tfrecord` (files named by the
    runner).

    Shard count is left to the runner (num_shards=0): a fixed count would add a shuffle that holds every
    record in memory on the local runner. The manifest lists the files actually written.
    """

    def __init__(self, prefix: str, name: str = ""):
        super().__init__()
        self._prefix, self._name = prefix, name  # name: a second writer's files, `{split}-{name}-SSSSS-of-NNNNN`

    def expand(self, by_split):
        from apache_beam.io.filesystems import FileSystems

        return {split: (pcoll | f"Write{split.title()}" >> beam.io.Write(_TFRecordBatchSink(
            FileSystems.join(self._prefix, f"{split}-{self._name}" if self._name else split))))
            for split, pcoll in by_split.items() if split in SPLITS}
