import math

import numpy as np
import pytest

from model.pointer import PointerGenerator, copy_distribution

VOCAB = 6


def _pointer(p_gen: float, dims=(3, 2, 4)):
    """A pointer whose p_gen is the constant `p_gen` (zero weights, bias = logit(p_gen))."""
    layer = PointerGenerator()
    layer.build((None, None, dims[0]), (None, None, dims[1]), (None, None, dims[2]))
    layer.set_weights([np.zeros(d, "float32") for d in dims] + [np.float32(math.log(p_gen / (1 - p_gen)))])
    return layer


def _call(layer, logits, attention, source_ids, dims=(3, 2, 4)):
    batch, tgt = attention.shape[:2]
    rng = np.random.default_rng(1)
    context, state, embedded = (rng.normal(size=(batch, tgt, d)).astype("float32") for d in dims)
    return layer(logits, attention=attention, context=context, state=state, embedded=embedded,
                 source_ids=source_ids)


def test_copy_gives_probability_to_a_token_the_vocabulary_cannot_produce():
    # The vocabulary softmax gives token 5 exactly zero (logit -1e9) and 1/5 to each of tokens 0..4.
    logits = np.zeros((1, 1, VOCAB), "float32")
    logits[..., 5] = -1e9
    source_ids = np.array([[5, 2, 5, 0]], "int32")  # token 5 twice, a pad at the end
    attention = np.array([[[0.5, 0.25, 0.25, 0.0]]], "float32")
    log_probs = _call(_pointer(0.75), logits, attention, source_ids)
    probs = np.exp(np.asarray(log_probs))[0, 0]
    expected = np.full(VOCAB, 0.75 * 0.2)
    expected[5] = 0.25 * (0.5 + 0.25)  # (1 - p_gen) * attention on both copies of token 5
    expected[2] = 0.75 * 0.2 + 0.25 * 0.25
    np.testing.assert_allclose(probs, expected, atol=1e-6)
    assert probs[5] == pytest.approx(0.1875, abs=1e-6)
    assert probs.sum() == pytest.approx(1.0, abs=1e-6)


def test_generation_probability_formula():
    dims = (3, 2, 4)
    layer = PointerGenerator()
    layer.build((None, None, 3), (None, None, 2), (None, None, 4))
    rng = np.random.default_rng(2)
    context, state, embedded = (rng.normal(size=(2, 3, d)).astype("float32") for d in dims)
    wh, ws, wx = (np.asarray(w) for w in (layer.context_weight, layer.state_weight, layer.input_weight))
    layer.bias.assign(0.3)
    expected = 1 / (1 + np.exp(-(context @ wh + state @ ws + embedded @ wx + 0.3)))
    p_gen = layer.generation_probability(context=context, state=state, embedded=embedded)
    assert tuple(p_gen.shape) == (2, 3, 1)
    np.testing.assert_allclose(np.asarray(p_gen)[..., 0], expected, atol=1e-6)


def test_copy_distribution_sums_repeated_ids_per_position():
    attention = np.array([[[0.1, 0.2, 0.7], [0.5, 0.5, 0.0]],
                          [[1.0, 0.0, 0.0], [0.3, 0.3, 0.4]]], "float32")  # (2, 2, 3)
    source_ids = np.array([[4, 1, 4], [2, 3, 0]], "int32")
    got = np.asarray(copy_distribution(attention, source_ids, VOCAB))
    expected = np.zeros((2, 2, VOCAB), "float32")
    for b in range(2):
        for t in range(2):
            for i in range(3):
                expected[b, t, source_ids[b, i]] += attention[b, t, i]
    np.testing.assert_allclose(got, expected, atol=1e-7)


def test_log_stays_finite_for_impossible_tokens():
    logits = np.zeros((1, 1, VOCAB), "float32")
    logits[..., 3] = -1e9  # not generated, and not in the source below
    log_probs = np.asarray(_call(_pointer(0.5), logits, np.array([[[1.0]]], "float32"), np.array([[4]], "int32")))
    assert np.all(np.isfinite(log_probs))
    assert log_probs[0, 0, 3] == pytest.approx(math.log(1e-10), rel=1e-4)


def test_config_round_trip():
    layer = _pointer(0.6)
    clone = PointerGenerator.from_config(layer.get_config())
    clone.build((None, None, 3), (None, None, 2), (None, None, 4))
    clone.set_weights(layer.get_weights())
    assert clone.get_config() == layer.get_config()
    logits = np.random.default_rng(3).normal(size=(2, 3, VOCAB)).astype("float32")
    attention = np.full((2, 3, 4), 0.25, "float32")
    source_ids = np.array([[1, 2, 3, 4], [5, 5, 0, 1]], "int32")
    np.testing.assert_array_equal(np.asarray(_call(layer, logits, attention, source_ids)),
                                  np.asarray(_call(clone, logits, attention, source_ids)))
