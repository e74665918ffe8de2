import keras
import numpy as np
import pytest

from model.rnn_attention import BahdanauAttention, LuongAttention
from model.rnn_decoder import AttentionDecoder
from model.pointer import PointerGenerator

VOCAB, MEMORY_DIM = 50, 12
CASES = [  # cell, attention, coverage, pointer, tied
    ("gru", "bahdanau", True, True, True),
    ("lstm", "luong", False, False, False),
    ("gru", "luong", True, False, True),
    ("lstm", "bahdanau", False, True, False),
]


def _decoder(cell, attention, coverage, pointer, tied):
    embedding = keras.layers.Embedding(VOCAB, 8)
    attention = (BahdanauAttention(units=10, coverage=coverage) if attention == "bahdanau"
                 else LuongAttention(coverage=coverage))
    decoder = AttentionDecoder(embedding=embedding, attention=attention, units=12, cell=cell, tie_embeddings=tied,
                               dropout=0.0, pointer=PointerGenerator() if pointer else None)
    decoder.build((None, None), (None, None, MEMORY_DIM))
    if attention.coverage and isinstance(attention, LuongAttention):
        attention.coverage_weight.assign(0.5)
    return decoder


def _inputs(decoder, tiny_batch):
    rng = np.random.default_rng(4)
    encoder_outputs = rng.normal(size=(3, 9, MEMORY_DIM)).astype("float32")
    state = rng.normal(size=(3, decoder.state_size)).astype("float32")
    return encoder_outputs, state


@pytest.mark.parametrize("case", CASES)
def test_shapes_and_normalised_distributions(case, tiny_batch):
    decoder = _decoder(*case)
    encoder_outputs, state = _inputs(decoder, tiny_batch)
    out = decoder(tiny_batch["summary_in"], initial_state=state, encoder_outputs=encoder_outputs,
                  source_ids=tiny_batch["article_ids"])
    assert tuple(out["log_probs"].shape) == (3, 7, VOCAB)
    assert tuple(out["attention"].shape) == tuple(out["coverage"].shape) == (3, 7, 9)
    np.testing.assert_allclose(np.exp(np.asarray(out["log_probs"])).sum(-1), 1.0, atol=1e-5)
    attention = np.asarray(out["attention"])
    assert np.all(attention[0, :, 6:] == 0.0)  # article 0 is padded from position 6
    np.testing.assert_allclose(np.asarray(out["coverage"]), np.cumsum(attention, 1) - attention, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_stepwise_matches_the_whole_sequence(case, tiny_batch):
    decoder = _decoder(*case)
    encoder_outputs, state = _inputs(decoder, tiny_batch)
    source_ids, summary_in = tiny_batch["article_ids"], tiny_batch["summary_in"]
    keys = decoder.precompute_keys(encoder_outputs)
    whole = decoder(summary_in, initial_state=state, encoder_outputs=encoder_outputs, source_ids=source_ids,
                    keys=keys)
    coverage = None
    for t in range(summary_in.shape[1]):
        log_probs, state, attention, new_coverage = decoder.step(
            summary_in[:, t], state=state, encoder_outputs=encoder_outputs, keys=keys, source_ids=source_ids,
            coverage=coverage)
        np.testing.assert_allclose(np.asarray(log_probs), np.asarray(whole["log_probs"][:, t]), atol=1e-5)
        np.testing.assert_allclose(np.asarray(attention), np.asarray(whole["attention"][:, t]), atol=1e-6)
        if coverage is not None:
            np.testing.assert_allclose(np.asarray(coverage), np.asarray(whole["coverage"][:, t]), atol=1e-6)
        coverage = new_coverage
    assert tuple(state.shape) == (3, decoder.state_size)


def test_coverage_in_the_scores_changes_the_attention(tiny_batch):
    decoder = _decoder("gru", "luong", True, False, True)
    encoder_outputs, state = _inputs(decoder, tiny_batch)
    kwargs = dict(initial_state=state, encoder_outputs=encoder_outputs, source_ids=tiny_batch["article_ids"])
    with_coverage = np.asarray(decoder(tiny_batch["summary_in"], **kwargs)["attention"])
    decoder.attention.coverage_weight.assign(0.0)
    without = np.asarray(decoder(tiny_batch["summary_in"], **kwargs)["attention"])
    np.testing.assert_allclose(with_coverage[:, 0], without[:, 0], atol=1e-6)  # no coverage yet at t=0
    assert np.abs(with_coverage[:, 1:] - without[:, 1:]).max() > 1e-3


@pytest.mark.parametrize("case", CASES[:2])
def test_config_round_trip(case, tiny_batch):
    decoder = _decoder(*case)
    clone = AttentionDecoder.from_config(decoder.get_config())
    clone.build((None, None), (None, None, MEMORY_DIM))
    clone.set_weights(decoder.get_weights())
    assert clone.get_config() == decoder.get_config()
    encoder_outputs, state = _inputs(decoder, tiny_batch)
    kwargs = dict(initial_state=state, encoder_outputs=encoder_outputs, source_ids=tiny_batch["article_ids"])
    np.testing.assert_array_equal(np.asarray(decoder(tiny_batch["summary_in"], **kwargs)["log_probs"]),
                                  np.asarray(clone(tiny_batch["summary_in"], **kwargs)["log_probs"]))
