"""TargetScorer: the training fast path gives the Seq2Seq's log P(targets), loss and gradients."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from model.losses import masked_nll, target_nll
from model.build import build_model
from model.target_scorer import TargetScorer
from tests.model.tiny import VOCAB, tiny_config as _config



@pytest.mark.parametrize("overrides", [
    dict(), dict(pointer_generator=False, attention="luong"),
    dict(architecture="transformer", heads=2), dict(architecture="transformer", heads=2, pointer_generator=False),
])
def test_scoring_the_targets_alone_matches_the_whole_distribution(overrides, tiny_batch):
    """The training fast path (TargetScorer, summary_out among the inputs): same log P(y), loss and gradients."""
    model = build_model(_config(**overrides), VOCAB, coverage_loss_weight=1.0)
    scorer = TargetScorer(model)
    rng = np.random.default_rng(1)
    targets = rng.integers(4, VOCAB, tiny_batch["summary_in"].shape).astype("int32")
    targets[:, 0] = tiny_batch["article_ids"][:, 2]  # a token that is also in the source: the copy term counts
    targets[2, 5:] = 0
    scored = dict(tiny_batch, summary_out=targets)

    def loss_and_grads(loss_fn, scoring_model, inputs):
        with tf.GradientTape() as tape:
            loss = loss_fn(targets, scoring_model(inputs, training=False))
        return float(loss), tape.gradient(loss, model.trainable_variables)

    full = np.asarray(model(tiny_batch))
    assert np.asarray(model(scored)).shape == full.shape  # the Seq2Seq's output has one rank, whatever the inputs
    fast = np.asarray(scorer(scored))
    assert fast.shape == targets.shape
    np.testing.assert_allclose(fast, np.take_along_axis(full, targets[:, :, None], axis=-1)[:, :, 0], atol=1e-5)
    loss_full, grads_full = loss_and_grads(masked_nll, model, tiny_batch)
    loss_fast, grads_fast = loss_and_grads(target_nll, scorer, scored)
    assert loss_fast == pytest.approx(loss_full, abs=1e-5)
    for a, b in zip(grads_full, grads_fast):
        np.testing.assert_allclose(np.asarray(tf.convert_to_tensor(b)), np.asarray(tf.convert_to_tensor(a)),
                                   atol=1e-5)
    with pytest.raises(ValueError, match="target_nll"):
        masked_nll(targets, fast, label_smoothing=0.1)
    with pytest.raises(ValueError, match="summary_out"):
        scorer(tiny_batch)


def test_scorer_round_trips_through_its_config_sharing_the_seq2seq_weights(tiny_batch):
    scorer = TargetScorer(build_model(_config(), VOCAB))
    scored = dict(tiny_batch, summary_out=tiny_batch["summary_in"])
    expected = np.asarray(scorer(scored))
    clone = TargetScorer.from_config(scorer.get_config())
    clone(scored)
    clone.seq2seq.set_weights(scorer.seq2seq.get_weights())
    assert isinstance(clone, keras.Model) and clone.seq2seq is not scorer.seq2seq
    np.testing.assert_allclose(np.asarray(clone(scored)), expected, atol=1e-6)
