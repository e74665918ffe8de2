"""`export`: a trained model -> a SavedModel that takes raw strings and returns summary strings.

Signatures:
  serving_default(texts: string[batch]) -> {summary: string[batch], source_tokens: int32[batch],
                                            summary_tokens: int32[batch], truncated: bool[batch]}
  count_tokens(texts: string[batch]) -> {tokens: int32[batch]}
The SentencePiece model of the preprocessing job tokenizes and detokenizes inside the graph
(`tensorflow_text`, the same `.model` bytes: pipeline/tokenizer.py), sources are cut to
`model.max_source_tokens`, and decoding is model/decode.py's in-graph greedy or beam search.
Loading it needs `import tensorflow_text` first (it registers the SentencePiece ops).

`sumflow_export.json` beside it records the decode settings, the source limit and a fingerprint of the
weights, which the summarize job writes next to every summary.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os

import keras
import tensorflow as tf

from configs.schema import DecodeConfig
from model.decode import decode
from pipeline import outputs
from pipeline.errors import InputError
from pipeline.records import EOS_ID, PAD_ID
from pipeline.tokenizer import tf_tokenizer

EXPORT_INFO = "sumflow_export.json"  # the name pipeline/summarize.py reads


def weights_fingerprint(model: keras.Model) -> str:
    h = hashlib.sha256()
    for w in model.weights:
        h.update(w.path.encode())
        h.update(keras.ops.convert_to_numpy(w).tobytes())
    return h.hexdigest()[:16]


class Summarizer(tf.Module):
    def __init__(self, model: keras.Model, vocab_proto: bytes, decode_cfg: DecodeConfig, max_source_tokens: int):
        super().__init__()
        self.model = model
        self.tokenizer = tf_tokenizer(vocab_proto)
        self._decode_cfg = decode_cfg
        self._max_source_tokens = max_source_tokens

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def count_tokens(self, texts):
        return {"tokens": tf.cast(self.tokenizer.tokenize(texts).row_lengths(), tf.int32)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="texts")])
    def summarize(self, texts):
        pieces = self.tokenizer.tokenize(texts)  # ragged (batch, tokens)
        source_tokens = tf.cast(pieces.row_lengths(), tf.int32)
        ids = pieces[:, : self._max_source_tokens].to_tensor(default_value=PAD_ID)
        ids = tf.pad(ids, [[0, 0], [0, tf.maximum(1 - tf.shape(ids)[1], 0)]])  # at least one column
        tokens = tf.cast(decode(self.model, ids, self._decode_cfg), tf.int32)  # (batch, max_length)
        keep = tf.logical_and(tf.not_equal(tokens, PAD_ID), tf.not_equal(tokens, EOS_ID))
        keep = tf.logical_and(keep, tf.equal(tf.cumsum(tf.cast(tf.equal(tokens, EOS_ID), tf.int32), axis=1), 0))
        summary_ids = tf.ragged.boolean_mask(tokens, keep)
        return {"summary": self.tokenizer.detokenize(summary_ids),
                "source_tokens": source_tokens,
                "summary_tokens": tf.cast(summary_ids.row_lengths(), tf.int32),
                "truncated": source_tokens > self._max_source_tokens}


EXPORT_NAMES = ["saved_model.pb", "fingerprint.pb", "variables", "assets", EXPORT_INFO, outputs.SUCCESS_NAME]


def check_model_dir(model_dir: str) -> dict:
    """The model directory's train.json, after checking that training there finished and that its vocabulary
    is the one the model was trained with; raises InputError (exit 3) saying what to do."""
    from model.trainer import COMPLETE, TRAIN_INFO
    from pipeline.tokenizer import Tokenizer

    if not os.path.isdir(model_dir):
        raise InputError(f"model directory {model_dir} does not exist; run `sumflow train` first or give "
                         f"--model-dir")
    missing = [n for n in ("model.keras", "vocab.model", TRAIN_INFO, COMPLETE)
               if not os.path.exists(os.path.join(model_dir, n))]
    if missing:
        raise InputError(f"{model_dir} holds no finished training run (missing {', '.join(missing)}); run "
                         f"`sumflow train` to completion first")
    with open(os.path.join(model_dir, TRAIN_INFO)) as f:
        trained_on = json.load(f)
    actual = Tokenizer.load(os.path.join(model_dir, "vocab.model")).vocab_sha256()
    if actual != trained_on.get("vocab_sha256"):
        raise InputError(f"{model_dir}/vocab.model ({actual[:12]}) is not the vocabulary the model was trained "
                         f"with ({str(trained_on.get('vocab_sha256'))[:12]}); retrain with `sumflow train --force`")
    return trained_on


def export(*, model_dir: str, export_dir: str, decode_cfg: DecodeConfig, max_source_tokens: int,
           allow_nonempty: bool = False) -> dict:
    """Write the SavedModel and its info file (staged, then moved into place); returns the info."""
    import model.seq2seq  # noqa: F401  (registers the layers for loading)

    trained_on = check_model_dir(model_dir)
    with outputs.staged(export_dir, job="export", names=EXPORT_NAMES, allow_nonempty=allow_nonempty,
                        inputs=[model_dir]) as staging:
        model = keras.saving.load_model(os.path.join(model_dir, "model.keras"), compile=False)
        with tf.io.gfile.GFile(os.path.join(model_dir, "vocab.model"), "rb") as f:
            vocab_proto = f.read()
        module = Summarizer(model, vocab_proto, decode_cfg, max_source_tokens)
        tf.saved_model.save(module, staging, signatures={"serving_default": module.summarize,
                                                         "count_tokens": module.count_tokens})
        info = {"fingerprint": weights_fingerprint(model), "max_source_tokens": max_source_tokens,
                "decode": dataclasses.asdict(decode_cfg), "vocab_sha256": trained_on["vocab_sha256"],
                "data_fingerprint": trained_on.get("data_fingerprint")}
        outputs.write_text(os.path.join(staging, EXPORT_INFO), json.dumps(info, indent=2))
        outputs.commit(staging, export_dir, job="export", marker=info["fingerprint"])
    return info
