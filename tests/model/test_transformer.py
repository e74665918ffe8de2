"""The Transformer summarizer: distributions, cached decoding steps, losses, saving, a tiny task it learns."""

import keras
import numpy as np
import pytest

from configs.schema import ConfigError, ModelConfig
from model.build import build_model
from model.losses import MaskedNLL, coverage_loss, masked_nll
from model.transformer import TransformerSeq2Seq
from tests.model.tiny import VOCAB, tiny_config


def _config(**overrides) -> ModelConfig:
    return tiny_config(**{"architecture": "transformer", "heads": 2, "feed_forward_dim": 16, **overrides})


def test_call_gives_distributions_and_the_coverage_loss(tiny_batch):
    model = build_model(_config(), VOCAB, coverage_loss_weight=0.5)
    assert isinstance(model, TransformerSeq2Seq)
    assert model.encoder.embedding is model.decoder.embedding
    log_probs = model(tiny_batch)
    assert tuple(log_probs.shape) == (3, 7, VOCAB)
    np.testing.assert_allclose(np.exp(np.asarray(log_probs)).sum(-1), 1.0, atol=1e-5)
    out = model.forward(tiny_batch)
    attention = np.asarray(out["attention"])
    assert np.all(attention[0, :, 6:] == 0.0)  # padded source positions get exactly no attention (nor copies)
    np.testing.assert_allclose(attention.sum(-1), 1.0, atol=1e-5)
    mask = tiny_batch["summary_in"] != 0
    assert len(model.losses) == 1
    assert float(model.losses[0]) == pytest.approx(
        0.5 * float(coverage_loss(out["attention"], out["coverage"], mask)), abs=1e-6)
    model_without = build_model(_config(coverage=False), VOCAB, coverage_loss_weight=0.5)
    model_without(tiny_batch)
    assert model_without.losses == []


@pytest.mark.parametrize("overrides", [dict(), dict(pointer_generator=False, tie_embeddings=False, layers=1)])
@pytest.mark.parametrize("cache", [True, False])
def test_search_steps_match_the_whole_sequence(overrides, cache, tiny_batch):
    """Each cached step (one position against the key/value cache) gives call()'s distribution there; so does
    the uncached step that re-runs the prefix."""
    model = build_model(_config(**overrides), VOCAB)
    whole = np.asarray(model(tiny_batch))
    attention = np.asarray(model.forward(tiny_batch)["attention"])
    memory, state = model.init_search(tiny_batch["article_ids"], max_length=7, cache=cache)
    for t in range(7):
        log_probs, step_attention, state = model.search_step(tiny_batch["summary_in"][:, t], position=t,
                                                             memory=memory, state=state)
        np.testing.assert_allclose(np.asarray(log_probs), whole[:, t], atol=1e-5)
        np.testing.assert_allclose(np.asarray(step_attention), attention[:, t], atol=1e-6)


def test_later_positions_do_not_change_earlier_ones(tiny_batch):
    """The causal mask: changing the last target token leaves every earlier position's distribution as it was."""
    model = build_model(_config(), VOCAB)
    changed = dict(tiny_batch, summary_in=tiny_batch["summary_in"].copy())
    changed["summary_in"][:, -1] = 5
    np.testing.assert_allclose(np.asarray(model(changed))[:, :-1], np.asarray(model(tiny_batch))[:, :-1],
                               atol=1e-6)


def test_saved_model_loads_back_to_identical_outputs(tmp_path, tiny_batch):
    model = build_model(_config(), VOCAB, coverage_loss_weight=1.0)
    expected = np.asarray(model(tiny_batch))
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, TransformerSeq2Seq)
    assert loaded.encoder.embedding is loaded.decoder.embedding
    assert (loaded.decoder.num_layers, loaded.decoder.heads, loaded.coverage_loss_weight) == (2, 2, 1.0)
    np.testing.assert_array_equal(np.asarray(loaded(tiny_batch)), expected)


def test_config_round_trip_keeps_the_shared_embedding(tiny_batch):
    model = build_model(_config(tie_embeddings=False), VOCAB)
    clone = TransformerSeq2Seq.from_config(model.get_config())
    assert clone.encoder.embedding is clone.decoder.embedding
    clone.build({"article_ids": (None, None), "summary_in": (None, None)})
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(np.asarray(clone(tiny_batch)), np.asarray(model(tiny_batch)))


def test_sizes_are_checked():
    with pytest.raises(ConfigError, match="model.heads"):
        _config(embedding_dim=10, heads=4)
    with pytest.raises(ConfigError, match="model.architecture"):
        _config(architecture="mamba")
    small = build_model(_config(embedding_dim=4), VOCAB)
    large = build_model(_config(), VOCAB)
    with pytest.raises(ValueError, match="model.embedding_dim"):
        TransformerSeq2Seq(encoder=small.encoder, decoder=large.decoder)


def test_fit_learns_a_tiny_copy_task():
    """Copy a 6-token article: the pointer and the whole-sequence training get the loss down fast."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    articles = rng.integers(4, 20, (480, 6)).astype("int32")
    summary_in = np.concatenate([np.full((480, 1), 2, "int32"), articles], axis=1)  # BOS + article
    summary_out = np.concatenate([articles, np.full((480, 1), 3, "int32")], axis=1)  # article + EOS
    x = {"article_ids": articles, "summary_in": summary_in}
    model = build_model(_config(embedding_dim=16, feed_forward_dim=32), 20)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=MaskedNLL())
    before = model.evaluate({k: v[:64] for k, v in x.items()}, summary_out[:64], verbose=0)
    model.fit(x, summary_out, batch_size=16, epochs=2, verbose=0)  # 60 steps
    nll = float(masked_nll(summary_out[:64], model({k: v[:64] for k, v in x.items()})))
    assert nll < 0.5 * before and nll < float(np.log(20)) / 2


@pytest.mark.parametrize("architecture", ["rnn", "transformer"])
def test_mixed_precision_trains_and_decodes_with_float32_probabilities(architecture, tiny_batch):
    """Under mixed_bfloat16 (train.mixed_precision on a GPU): the training fast path and the cached decoding
    steps run, and probabilities stay float32."""
    from model.losses import TargetNLL
    from model.target_scorer import TargetScorer

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = build_model(_config(architecture=architecture), VOCAB, coverage_loss_weight=1.0)
        log_probs = model(tiny_batch)
        memory, state = model.init_search(tiny_batch["article_ids"], max_length=7)
        step_log_probs, _, _ = model.search_step(tiny_batch["summary_in"][:, 0], position=0, memory=memory,
                                                 state=state)
        scorer = TargetScorer(model)
        scorer.compile(optimizer="adam", loss=TargetNLL())
        scored = dict(tiny_batch, summary_out=tiny_batch["summary_in"])
        loss = scorer.train_on_batch(scored, scored["summary_out"])
    finally:
        keras.config.set_dtype_policy(previous)
    assert np.isfinite(float(np.asarray(loss).ravel()[0]))
    assert keras.backend.standardize_dtype(log_probs.dtype) == "float32"
    assert keras.backend.standardize_dtype(step_log_probs.dtype) == "float32"
    np.testing.assert_allclose(np.exp(np.asarray(log_probs)).sum(-1), 1.0, atol=1e-5)  # the mix is float32
    np.testing.assert_allclose(np.asarray(step_log_probs), np.asarray(log_probs)[:, 0], atol=0.05)
