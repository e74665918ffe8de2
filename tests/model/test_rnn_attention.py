import numpy as np
import pytest
from keras import ops

from model.rnn_attention import BahdanauAttention, LuongAttention

BATCH, TGT, SRC, QDIM, MDIM = 2, 3, 5, 4, 6


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    query = rng.normal(size=(BATCH, TGT, QDIM)).astype("float32")
    memory = rng.normal(size=(BATCH, SRC, MDIM)).astype("float32")
    mask = np.ones((BATCH, SRC), bool)
    mask[0, 3:] = False
    coverage = rng.uniform(0, 2, size=(BATCH, TGT, SRC)).astype("float32")
    return query, memory, mask, coverage


def _make(kind, coverage):
    layer = BahdanauAttention(units=7, coverage=coverage) if kind == "bahdanau" else LuongAttention(coverage=coverage)
    layer.build((None, None, QDIM), (None, None, MDIM))
    if kind == "luong" and coverage:  # the scalar starts at 0; make the coverage term visible
        layer.coverage_weight.assign(0.7)
    return layer


def _softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
@pytest.mark.parametrize("coverage", [False, True])
def test_shapes_and_pad_positions_get_zero_weight(kind, coverage):
    query, memory, mask, cov = _inputs()
    layer = _make(kind, coverage)
    context, weights = layer(query, memory, source_mask=mask, coverage=cov if coverage else None)
    assert tuple(context.shape) == (BATCH, TGT, MDIM)
    assert tuple(weights.shape) == (BATCH, TGT, SRC)
    weights = np.asarray(weights)
    assert np.all(weights[0, :, 3:] == 0.0)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)
    np.testing.assert_allclose(np.asarray(context), np.einsum("bts,bsm->btm", weights, memory), atol=1e-5)


def test_bahdanau_matches_the_formula():
    query, memory, mask, cov = _inputs()
    layer = _make("bahdanau", True)
    wq, wk, b, v, wc = (np.asarray(w) for w in (layer.query_kernel, layer.key_kernel, layer.key_bias,
                                                  layer.score_vector, layer.coverage_vector))
    features = (query @ wq)[:, :, None, :] + (memory @ wk + b)[:, None, :, :] + cov[..., None] * wc
    scores = np.tanh(features) @ v
    expected = _softmax(np.where(mask[:, None, :], scores, -np.inf))
    _, weights = layer(query, memory, source_mask=mask, coverage=cov)
    np.testing.assert_allclose(np.asarray(weights), expected, atol=1e-6)


def test_luong_matches_the_formula():
    query, memory, mask, cov = _inputs()
    layer = _make("luong", True)
    w = np.asarray(layer.kernel)
    scores = np.einsum("btq,bsq->bts", query, memory @ w) + 0.7 * cov
    expected = _softmax(np.where(mask[:, None, :], scores, -np.inf))
    _, weights = layer(query, memory, source_mask=mask, coverage=cov)
    np.testing.assert_allclose(np.asarray(weights), expected, atol=1e-6)


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_precomputed_keys_give_the_same_result(kind):
    query, memory, mask, _ = _inputs()
    layer = _make(kind, False)
    keys = layer.precompute_keys(memory)
    with_keys = layer(query, memory, keys=keys, source_mask=mask)
    without = layer(query, memory, source_mask=mask)
    for a, b in zip(with_keys, without):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-6)


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_attend_with_coverage_matches_a_loop_over_positions(kind):
    query, memory, mask, _ = _inputs()
    layer = _make(kind, True)
    keys = layer.precompute_keys(memory)
    context, weights, coverage = layer.attend_with_coverage(query, memory, keys=keys, source_mask=mask)
    running = np.zeros((BATCH, SRC), "float32")
    for t in range(TGT):
        step_context, step_weights = layer(query[:, t:t + 1], memory, keys=keys, source_mask=mask,
                                           coverage=running[:, None, :])
        np.testing.assert_allclose(np.asarray(coverage)[:, t], running, atol=1e-6)
        np.testing.assert_allclose(np.asarray(weights)[:, t], np.asarray(step_weights)[:, 0], atol=1e-6)
        np.testing.assert_allclose(np.asarray(context)[:, t], np.asarray(step_context)[:, 0], atol=1e-5)
        running = running + np.asarray(step_weights)[:, 0]
    assert np.all(np.asarray(weights)[0, :, 3:] == 0.0)
    with pytest.raises(ValueError, match="coverage=True"):
        _make(kind, False).attend_with_coverage(query, memory, keys=keys, source_mask=mask)


def test_coverage_must_match_the_layer():
    query, memory, mask, cov = _inputs()
    with pytest.raises(ValueError, match="coverage=True"):
        _make("bahdanau", True)(query, memory, source_mask=mask)
    with pytest.raises(ValueError, match="coverage=False"):
        _make("luong", False)(query, memory, source_mask=mask, coverage=cov)


@pytest.mark.parametrize("kind", ["bahdanau", "luong"])
def test_config_round_trip(kind):
    query, memory, mask, cov = _inputs()
    layer = _make(kind, True)
    clone = type(layer).from_config(layer.get_config())
    clone.build((None, None, QDIM), (None, None, MDIM))
    clone.set_weights(layer.get_weights())
    assert clone.get_config() == layer.get_config()
    a = layer(query, memory, source_mask=mask, coverage=cov)[1]
    b = clone(query, memory, source_mask=mask, coverage=cov)[1]
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert ops.shape(b) == (BATCH, TGT, SRC)
