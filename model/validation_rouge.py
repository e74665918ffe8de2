"""`ValidationRouge`: greedy-decode a fixed sample of the validation split each epoch and log its ROUGE.

The figures (`val_rouge1`, `val_rouge2`, `val_rougeLsum`, F1 x 100) land in the epoch logs, so history.csv,
TensorBoard and the progress line show them next to `val_loss`; `val_rouge1` selects the saved model under
train.select_by: rouge (val_loss otherwise).
"""

from __future__ import annotations

import keras
import numpy as np

from configs.schema import DecodeConfig
from contract.records import EOS_ID

METRICS = ("rouge1", "rouge2", "rougeLsum")


def _strip(ids) -> list[int]:
    ids = [int(i) for i in ids]
    return ids[: ids.index(EOS_ID)] if EOS_ID in ids else ids


class ValidationRouge(keras.callbacks.Callback):
    """Args: batches - a list of (article_ids, summary_out) numpy pairs (the fixed sample); tokenizer - a
    `contract.tokenizer.Tokenizer`; decode_cfg - its method is forced to greedy."""

    def __init__(self, *, batches: list, tokenizer, decode_cfg: DecodeConfig):
        super().__init__()
        self._batches = batches
        self._tokenizer = tokenizer
        self._cfg = DecodeConfig(method="greedy", min_length=decode_cfg.min_length,
                                 max_length=decode_cfg.max_length, no_repeat_ngram=decode_cfg.no_repeat_ngram)
        self._references = [[tokenizer.decode(_strip(row))] for _, out in batches for row in out]
        self._decode = None

    def on_epoch_end(self, epoch, logs=None):
        from model.decode import greedy_decode
        from evaluation.rouge import score_documents

        if self._decode is None:
            import tensorflow as tf

            seq2seq = getattr(self.model, "seq2seq", self.model)  # fit may train a TargetScorer over it
            self._decode = tf.function(lambda ids: greedy_decode(seq2seq, ids, self._cfg), reduce_retracing=True)
        predictions = [self._tokenizer.decode(_strip(row)) for ids, _ in self._batches
                       for row in np.asarray(self._decode(ids))]
        scores = score_documents(predictions=predictions, references=self._references, metrics=METRICS, workers=1)
        if logs is not None:
            for i, metric in enumerate(METRICS):
                logs[f"val_{metric}"] = float(scores[:, i, 2].mean() * 100)  # F1


def sample_batches(dataset, n: int) -> list:
    """The first `n` examples of a (finite, deterministic) validation dataset, as numpy batches."""
    out, seen = [], 0
    for inputs, summary_out in dataset:
        if seen >= n:
            break
        take = min(n - seen, int(inputs["article_ids"].shape[0]))
        out.append((inputs["article_ids"].numpy()[:take], summary_out.numpy()[:take]))
        seen += take
    return out
