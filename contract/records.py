"""The TFRecord schema shared by preprocessing (writer) and training/summarization (readers).

One `tf.train.Example` per article/summary pair:
  id           bytes      the record id (stable; splits are derived from it)
  article      bytes      cleaned article text (UTF-8)
  summary      bytes      cleaned summary, one sentence a line (ROUGE-Lsum needs the newlines)
  article_ids  int64[]    SentencePiece ids of `article`, no BOS/EOS
  summary_ids  int64[]    SentencePiece ids of `summary`, no BOS/EOS

Readers check `SCHEMA_VERSION` in the manifest before parsing.
"""

from __future__ import annotations

import hashlib

from typing import Sequence

SCHEMA_VERSION = "sumflow.example/v1"
TEXT_FEATURES = ("id", "article", "summary")
ID_FEATURES = ("article_ids", "summary_ids")

# Reserved SentencePiece ids (the tokenizer is trained with these).
PAD_ID, UNK_ID, BOS_ID, EOS_ID = 0, 1, 2, 3


def encode_example(*, id: str, article: str, summary: str, article_ids: Sequence[int],
                   summary_ids: Sequence[int]) -> bytes:
    """Serialize one record. Builds the proto directly: 3x faster than going through tf.train.Feature helpers,
    and without importing TensorFlow (contract/example_proto.py)."""
    from contract.example_proto import Example

    example = Example()
    feature = example.features.feature
    feature["id"].bytes_list.value.append(id.encode("utf-8"))
    feature["article"].bytes_list.value.append(article.encode("utf-8"))
    feature["summary"].bytes_list.value.append(summary.encode("utf-8"))
    feature["article_ids"].int64_list.value.extend(article_ids)
    feature["summary_ids"].int64_list.value.extend(summary_ids)
    return example.SerializeToString()


def decode_example(serialized: bytes) -> dict:
    """Parse one record in Python (tests, inspection); training parses in tf.data with `feature_spec()`."""
    from contract.example_proto import Example

    example = Example.FromString(serialized)
    feature = example.features.feature
    out = {k: feature[k].bytes_list.value[0].decode("utf-8") for k in TEXT_FEATURES}
    out.update({k: list(feature[k].int64_list.value) for k in ID_FEATURES})
    return out


def feature_spec() -> dict:
    """The `tf.io.parse_example` spec for this schema."""
    import tensorflow as tf

    spec = {k: tf.io.FixedLenFeature([], tf.string) for k in TEXT_FEATURES}
    spec.update({k: tf.io.RaggedFeature(tf.int64) for k in ID_FEATURES})
    return spec


def content_id(*parts: str) -> str:
    """An id for records that have none: a hash of their content, stable across runs and machines."""
    return "sha1:" + hashlib.sha1("\x00".join(parts).encode("utf-8", "surrogatepass")).hexdigest()[:20]
