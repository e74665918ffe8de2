import keras
import numpy as np
import pytest

from configs.schema import ModelConfig
from model.losses import MaskedNLL, coverage_loss, masked_nll
from model.seq2seq import Seq2Seq, build_seq2seq

VOCAB = 50  # as in conftest.tiny_batch


def _config(**overrides):
    values = dict(embedding_dim=8, encoder_units=8, decoder_units=12, attention_units=10, max_source_tokens=9,
                  max_target_tokens=7)
    values.update(overrides)
    return ModelConfig(**values)


def test_build_from_config_and_call(tiny_batch):
    model = build_seq2seq(_config(), VOCAB, coverage_loss_weight=0.5)
    assert model.built and model.encoder.embedding is model.decoder.embedding
    log_probs = model(tiny_batch)
    assert tuple(log_probs.shape) == (3, 7, VOCAB)
    np.testing.assert_allclose(np.exp(np.asarray(log_probs)).sum(-1), 1.0, atol=1e-5)
    out = model.forward(tiny_batch)
    mask = tiny_batch["summary_in"] != 0
    assert len(model.losses) == 1
    assert float(model.losses[0]) == pytest.approx(
        0.5 * float(coverage_loss(out["attention"], out["coverage"], mask)), abs=1e-6)


@pytest.mark.parametrize("overrides", [dict(coverage=False), dict(coverage=True)])
def test_no_coverage_loss_without_coverage_or_weight(overrides, tiny_batch):
    weight = 0.0 if overrides["coverage"] else 1.0
    model = build_seq2seq(_config(**overrides), VOCAB, coverage_loss_weight=weight)
    model(tiny_batch)
    assert model.losses == []


@pytest.mark.parametrize("overrides", [
    dict(),  # gru, bahdanau, pointer, coverage, tied
    dict(cell="lstm", attention="luong", pointer_generator=False, coverage=False, tie_embeddings=False),
])
def test_encode_and_decode_step_match_call(overrides, tiny_batch):
    model = build_seq2seq(_config(**overrides), VOCAB)
    whole = np.asarray(model(tiny_batch))
    memory = model.encode(tiny_batch["article_ids"])
    for t in range(tiny_batch["summary_in"].shape[1]):
        log_probs, state, attention, coverage = model.decode_step(tiny_batch["summary_in"][:, t], **memory)
        memory.update(state=state, coverage=coverage)
        np.testing.assert_allclose(np.asarray(log_probs), whole[:, t], atol=1e-5)


def test_saved_model_loads_back_to_identical_outputs(tmp_path, tiny_batch):
    model = build_seq2seq(_config(cell="lstm"), VOCAB, coverage_loss_weight=1.0)
    expected = np.asarray(model(tiny_batch))
    path = str(tmp_path / "model.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, Seq2Seq)
    assert loaded.encoder.embedding is loaded.decoder.embedding
    assert loaded.coverage_loss_weight == 1.0
    np.testing.assert_array_equal(np.asarray(loaded(tiny_batch)), expected)


def test_config_round_trip_keeps_the_shared_embedding(tiny_batch):
    model = build_seq2seq(_config(), VOCAB)
    clone = Seq2Seq.from_config(model.get_config())
    assert clone.encoder.embedding is clone.decoder.embedding
    clone.build({"article_ids": (None, None), "summary_in": (None, None)})
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(np.asarray(clone(tiny_batch)), np.asarray(model(tiny_batch)))


def test_mismatched_parts_are_refused():
    model = build_seq2seq(_config(), VOCAB)
    other = build_seq2seq(_config(cell="lstm"), VOCAB)
    with pytest.raises(ValueError, match="model.cell"):
        Seq2Seq(encoder=model.encoder, decoder=other.decoder)
    with pytest.raises(ValueError, match="missing"):
        model({"article_ids": np.ones((1, 3), "int32")})


def test_fit_learns_a_tiny_copy_task():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    articles = rng.integers(4, 20, (480, 6)).astype("int32")
    summary_in = np.concatenate([np.full((480, 1), 2, "int32"), articles], axis=1)  # BOS + article
    summary_out = np.concatenate([articles, np.full((480, 1), 3, "int32")], axis=1)  # article + EOS
    x = {"article_ids": articles, "summary_in": summary_in}
    model = build_seq2seq(_config(), 20, coverage_loss_weight=0.1)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss=MaskedNLL())
    before = model.evaluate({k: v[:64] for k, v in x.items()}, summary_out[:64], verbose=0)
    model.fit(x, summary_out, batch_size=16, epochs=1, verbose=0)  # 30 steps
    after = model.evaluate({k: v[:64] for k, v in x.items()}, summary_out[:64], verbose=0)
    assert after < 0.75 * before
    nll = float(masked_nll(summary_out[:64], model({k: v[:64] for k, v in x.items()})))
    assert nll < float(np.log(20))


def test_mixed_precision_runs_and_keeps_float32_probabilities(tiny_batch):
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = build_seq2seq(_config(), VOCAB, coverage_loss_weight=1.0)
        log_probs = model(tiny_batch)
        memory = model.encode(tiny_batch["article_ids"])
        step_log_probs, *_ = model.decode_step(tiny_batch["summary_in"][:, 0], **memory)
    finally:
        keras.config.set_dtype_policy(previous)
    assert keras.backend.standardize_dtype(log_probs.dtype) == "float32"
    assert keras.backend.standardize_dtype(step_log_probs.dtype) == "float32"
    np.testing.assert_allclose(np.exp(np.asarray(log_probs)).sum(-1), 1.0, atol=1e-3)
    np.testing.assert_allclose(np.asarray(step_log_probs), np.asarray(log_probs)[:, 0], atol=0.05)


@pytest.mark.parametrize("overrides", [dict(), dict(pointer_generator=False, attention="luong")])
def test_scoring_the_targets_alone_matches_the_whole_distribution(overrides, tiny_batch):
    """The training fast path (summary_out among the inputs): same log P(y), loss and gradients."""
    import tensorflow as tf

    model = build_seq2seq(_config(**overrides), VOCAB, coverage_loss_weight=1.0)
    rng = np.random.default_rng(1)
    targets = rng.integers(4, VOCAB, tiny_batch["summary_in"].shape).astype("int32")
    targets[:, 0] = tiny_batch["article_ids"][:, 2]  # a token that is also in the source: the copy term counts
    targets[2, 5:] = 0
    scored = dict(tiny_batch, summary_out=targets)

    def loss_and_grads(inputs):
        with tf.GradientTape() as tape:
            loss = masked_nll(targets, model(inputs, training=False))
        return float(loss), tape.gradient(loss, model.trainable_variables)

    full = np.asarray(model(tiny_batch))
    fast = np.asarray(model(scored))
    assert fast.shape == targets.shape
    np.testing.assert_allclose(fast, np.take_along_axis(full, targets[:, :, None], axis=-1)[:, :, 0], atol=1e-5)
    (loss_full, grads_full), (loss_fast, grads_fast) = loss_and_grads(tiny_batch), loss_and_grads(scored)
    assert loss_fast == pytest.approx(loss_full, abs=1e-5)
    for a, b in zip(grads_full, grads_fast):
        np.testing.assert_allclose(np.asarray(tf.convert_to_tensor(b)), np.asarray(tf.convert_to_tensor(a)),
                                   atol=1e-5)
    with pytest.raises(ValueError, match="label smoothing"):
        masked_nll(targets, fast, label_smoothing=0.1)
