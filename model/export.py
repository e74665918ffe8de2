"""`export`: a trained model -> a SavedModel that takes raw strings and returns summary strings.

The format (signatures, output names, `sumflow_export.json`) is contract/export_format.py's.
The SentencePiece model of the preprocessing job tokenizes and detokenizes inside the graph
(`tensorflow_text`, the same `.model` bytes: contract/tokenizer.py), sources are cut to
`model.max_source_tokens`, and decoding is model/decode.py's in-graph greedy or beam search.
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
from model.word_repeats import piece_table
from contract import export_format as fmt, model_dir as layout
from contract.records import EOS_ID, PAD_ID
from contract.tokenizer import Tokenizer, tf_tokenizer
from workspace import outputs
from workspace.errors import InputError


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
        self._pieces = piece_table(Tokenizer(vocab_proto))  # (3, vocab) for the word-level bans
        self._decode_cfg = decode_cfg
        self._max_source_tokens = max_source_tokens

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=fmt.INPUT)])
    def count_tokens(self, texts):
        return {fmt.TOKENS: tf.cast(self.tokenizer.tokenize(texts).row_lengths(), tf.int32)}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=fmt.INPUT)])
    def summarize(self, texts):
        pieces = self.tokenizer.tokenize(texts)  # ragged (batch, tokens)
        source_tokens = tf.cast(pieces.row_lengths(), tf.int32)
        ids = pieces[:, : self._max_source_tokens].to_tensor(default_value=PAD_ID)
        ids = tf.pad(ids, [[0, 0], [0, tf.maximum(1 - tf.shape(ids)[1], 0)]])  # at least one column
        tokens = tf.cast(decode(self.model, ids, self._decode_cfg, pieces=self._pieces), tf.int32)  # (batch, max_length)
        keep = tf.logical_and(tf.not_equal(tokens, PAD_ID), tf.not_equal(tokens, EOS_ID))
        keep = tf.logical_and(keep, tf.equal(tf.cumsum(tf.cast(tf.equal(tokens, EOS_ID), tf.int32), axis=1), 0))
        summary_ids = tf.ragged.boolean_mask(tokens, keep)
        return {fmt.SUMMARY: self.tokenizer.detokenize(summary_ids),
                fmt.SOURCE_TOKENS: source_tokens,
                fmt.SUMMARY_TOKENS: tf.cast(summary_ids.row_lengths(), tf.int32),
                fmt.TRUNCATED: source_tokens > self._max_source_tokens}


def check_model_dir(model_dir: str) -> dict:
    """The model directory's train.json, after checking that training there finished and that its vocabulary
    is the one the model was trained with; raises InputError (exit 3) saying what to do."""
    from contract.tokenizer import Tokenizer

    if not os.path.isdir(model_dir):
        raise InputError(f"model directory {model_dir} does not exist; run `sumflow train` first or give "
                         f"--model-dir")
    missing = [n for n in layout.FINISHED if not os.path.exists(os.path.join(model_dir, n))]
    if missing:
        raise InputError(f"{model_dir} holds no finished training run (missing {', '.join(missing)}); run "
                         f"`sumflow train` to completion first")
    with open(os.path.join(model_dir, layout.TRAIN_INFO)) as f:
        trained_on = json.load(f)
    actual = Tokenizer.load(os.path.join(model_dir, layout.VOCAB)).vocab_sha256()
    if actual != trained_on.get("vocab_sha256"):
        raise InputError(f"{model_dir}/{layout.VOCAB} ({actual[:12]}) is not the vocabulary the model was trained "
                         f"with ({str(trained_on.get('vocab_sha256'))[:12]}); retrain with `sumflow train --force`")
    return trained_on


def export(*, model_dir: str, export_dir: str, decode_cfg: DecodeConfig, max_source_tokens: int,
           allow_nonempty: bool = False) -> fmt.ExportInfo:
    """Write the SavedModel and its info file (staged, then moved into place); returns the info."""
    import model.build  # noqa: F401  (registers the layers of every architecture for loading)

    trained_on = check_model_dir(model_dir)
    with outputs.staged(export_dir, job="export", names=list(fmt.FILES), allow_nonempty=allow_nonempty,
                        inputs=[model_dir]) as staging:
        trained = keras.saving.load_model(os.path.join(model_dir, layout.MODEL_FILE), compile=False)
        with tf.io.gfile.GFile(os.path.join(model_dir, layout.VOCAB), "rb") as f:
            vocab_proto = f.read()
        module = Summarizer(trained, vocab_proto, decode_cfg, max_source_tokens)
        tf.saved_model.save(module, staging, signatures={fmt.SUMMARIZE_SIGNATURE: module.summarize,
                                                         fmt.COUNT_SIGNATURE: module.count_tokens})
        info = fmt.ExportInfo(fingerprint=weights_fingerprint(trained), max_source_tokens=max_source_tokens,
                              decode=dataclasses.asdict(decode_cfg), vocab_sha256=trained_on["vocab_sha256"],
                              data_fingerprint=trained_on.get("data_fingerprint"))
        outputs.write_text(os.path.join(staging, fmt.INFO_FILE), info.to_json())
        outputs.commit(staging, export_dir, job="export", marker=info.fingerprint)
    return info
