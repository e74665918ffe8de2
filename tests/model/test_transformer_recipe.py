"""The low-resource Transformer recipe's switches (configs/schema.py ModelConfig): what each one changes."""

import dataclasses

import keras
import numpy as np
import pytest

from configs.schema import ConfigError, ModelConfig
from contract.records import BOS_ID, PAD_ID, UNK_ID
from model.build import build_model
from model.transformer_blocks import DecoderBlock, EncoderBlock

SIZES = dict(embedding_dim=16, encoder_units=6, decoder_units=10, attention_units=6, layers=1, heads=2,
             feed_forward_dim=16)


def test_attention_dropout_follows_dropout_unless_set():
    same = EncoderBlock(heads=2, model_dim=8, feed_forward_dim=16, dropout=0.3)
    apart = DecoderBlock(heads=2, model_dim=8, feed_forward_dim=16, dropout=0.3, attention_dropout=0.1,
                         activation_dropout=0.2)
    assert same.self_attention.dropout == 0.3 and same.inner_dropout.rate == 0.0
    assert apart.self_attention.dropout == apart.cross_attention.dropout == 0.1
    assert apart.residual_dropout.rate == 0.3 and apart.inner_dropout.rate == 0.2
    clone = DecoderBlock.from_config(apart.get_config())
    assert (clone.attention_dropout, clone.activation_dropout, clone.dropout) == (0.1, 0.2, 0.3)


def test_the_config_reaches_every_block():
    config = ModelConfig(architecture="transformer", dropout=0.3, attention_dropout=0.05, activation_dropout=0.15,
                         **SIZES)
    model = build_model(config, 50)
    for block in [*model.encoder.blocks, *model.decoder.blocks]:
        assert block.self_attention.dropout == 0.05 and block.inner_dropout.rate == 0.15
    default = build_model(dataclasses.replace(config, attention_dropout=-1.0), 50)
    assert default.decoder.blocks[0].cross_attention.dropout == 0.3


@pytest.mark.parametrize("architecture", ["rnn", "transformer"])
def test_normal_embedding_init_has_the_model_size_scale(architecture):
    uniform = build_model(ModelConfig(architecture=architecture, **SIZES), 2000).encoder.embedding.embeddings
    normal = build_model(ModelConfig(architecture=architecture, embedding_init="normal", **SIZES), 2000)
    values = np.asarray(normal.encoder.embedding.embeddings)
    assert abs(values.std() - 16 ** -0.5) < 0.01  # N(0, d^-0.5): 0.25 at d = 16
    assert np.abs(np.asarray(uniform)).max() <= 0.05  # Keras's default, uniform in +-0.05


@pytest.mark.parametrize("architecture", ["rnn", "transformer"])
def test_word_dropout_replaces_decoder_inputs_with_unk_while_training_only(architecture):
    model = build_model(ModelConfig(architecture=architecture, word_dropout=0.5, **SIZES), 50)
    ids = np.full((8, 40), 7, "int32")
    ids[:, 0] = BOS_ID
    ids[:, 30:] = PAD_ID
    inputs = {"article_ids": ids, "summary_in": ids}
    dropped = np.asarray(model.decoder_inputs(inputs, training=True))
    assert np.array_equal(np.asarray(model.decoder_inputs(inputs, training=False)), ids)
    assert np.all(dropped[:, 0] == BOS_ID) and np.all(dropped[:, 30:] == PAD_ID)
    changed = dropped[:, 1:30] != 7
    assert np.all(dropped[:, 1:30][changed] == UNK_ID)
    assert 0.35 < changed.mean() < 0.65  # 232 tokens at rate 0.5
    assert model.get_config()["word_dropout"] == 0.5


def test_without_word_dropout_the_model_has_the_variables_it_always_had():
    plain = build_model(ModelConfig(**SIZES), 50)
    assert plain._word_seeds is None
    assert len(plain.weights) == len(build_model(ModelConfig(word_dropout=0.1, **SIZES), 50).trainable_weights)


def test_saved_model_with_the_recipe_loads_back(tmp_path, tiny_batch):
    config = ModelConfig(architecture="transformer", embedding_init="normal", attention_dropout=0.1,
                         activation_dropout=0.1, word_dropout=0.1, **SIZES)
    model = build_model(config, 50)
    path = str(tmp_path / "m.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert loaded.word_dropout == 0.1 and loaded.decoder.blocks[0].inner_dropout.rate == 0.1
    np.testing.assert_allclose(np.asarray(model(tiny_batch)), np.asarray(loaded(tiny_batch)), atol=1e-6)


@pytest.mark.parametrize("key, value, message", [
    ("attention_dropout", 1.0, "model.attention_dropout"), ("activation_dropout", -0.1, "model.activation_dropout"),
    ("embedding_init", "xavier", "model.embedding_init"), ("word_dropout", 1.0, "model.word_dropout")])
def test_bad_values_name_the_key(key, value, message):
    with pytest.raises(ConfigError, match=message):
        ModelConfig(**{key: value})
