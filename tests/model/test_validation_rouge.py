"""ValidationRouge: greedy summaries of a fixed sample, cut at EOS, scored against the references into the logs."""

import numpy as np
import pytest
import tensorflow as tf

import model.decode
from configs.schema import DecodeConfig
from model.validation_rouge import ValidationRouge, sample_batches


class _WordTokenizer:
    """id i -> the word wi (ids below 4 are specials and print nothing)."""

    def decode(self, ids):
        return " ".join(f"w{i}" for i in ids if i >= 4)


def test_logs_rouge_of_the_greedy_summaries_against_the_references(monkeypatch):
    # references: "w4 w5 w6 w7" and "w8 w9" (EOS = 3 ends each, padding after it)
    batches = [(np.zeros((2, 5), "int32"), np.array([[4, 5, 6, 7, 3], [8, 9, 3, 0, 0]], "int32"))]
    decoded = np.array([[4, 5, 6, 7, 3, 11], [10, 11, 3, 8, 9, 0]], "int32")  # 1st exact, 2nd shares nothing
    seen = {}

    def fake_greedy(seq2seq, ids, cfg):
        seen["cfg"] = cfg
        return tf.constant(decoded)

    monkeypatch.setattr(model.decode, "greedy_decode", fake_greedy)
    callback = ValidationRouge(batches=batches, tokenizer=_WordTokenizer(),
                               decode_cfg=DecodeConfig(method="beam", beam_size=4, min_length=2, max_length=6))
    callback.set_model(object())
    logs = {"val_loss": 1.0}
    callback.on_epoch_end(0, logs)
    assert seen["cfg"].method == "greedy" and (seen["cfg"].min_length, seen["cfg"].max_length) == (2, 6)
    assert logs["val_loss"] == 1.0
    assert logs["val_rouge1"] == pytest.approx(50.0)  # mean of F1 1.0 and 0.0, x 100
    assert logs["val_rouge2"] == pytest.approx(50.0)
    assert logs["val_rougeLsum"] == pytest.approx(50.0)


def test_sample_batches_takes_the_first_n_examples_across_batches():
    articles = np.arange(5 * 3, dtype="int32").reshape(5, 3)
    targets = np.arange(5 * 2, dtype="int32").reshape(5, 2)
    dataset = tf.data.Dataset.from_tensor_slices(({"article_ids": articles}, targets)).batch(2)
    batches = sample_batches(dataset, 3)
    assert [b[0].shape for b in batches] == [(2, 3), (1, 3)]
    np.testing.assert_array_equal(np.concatenate([b[0] for b in batches]), articles[:3])
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), targets[:3])
