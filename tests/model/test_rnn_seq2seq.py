import keras
import numpy as np
import pytest

from model.losses import MaskedNLL, coverage_loss, masked_nll
from model.rnn_seq2seq import Seq2Seq, build_seq2seq
from tests.model.tiny import VOCAB, tiny_config as _config


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
