import math

import keras
import numpy as np
import pytest

from model.transformer_blocks import DecoderBlock, EncoderBlock, sinusoidal_positions

SIZES = dict(heads=2, model_dim=8, feed_forward_dim=16, dropout=0.1)


def _x(length=5):
    return np.random.default_rng(0).normal(size=(3, length, 8)).astype("float32")


def test_sinusoidal_positions_are_sin_and_cos_of_position_over_wavelength():
    table = np.asarray(sinusoidal_positions(np.arange(3), 4))
    assert table.shape == (3, 4)
    np.testing.assert_allclose(table[0], [0.0, 0.0, 1.0, 1.0], atol=1e-6)
    np.testing.assert_allclose(table[2, 0], math.sin(2.0), atol=1e-6)


def test_feed_forward_size_is_checked():
    with pytest.raises(ValueError, match="model.feed_forward_dim"):
        EncoderBlock(heads=2, model_dim=8, feed_forward_dim=0, dropout=0.0)


def _encoder_block():
    block = EncoderBlock(**SIZES, name="block")
    block.build((None, 5, 8))
    return block


def _decoder_block():
    block = DecoderBlock(**SIZES, name="block")
    block.build((None, 4, 8), (None, 5, 8))
    return block


def _decoder_inputs(block):
    keys, values = block.cross_attention.project_memory(_x(5))
    causal = np.tril(np.ones((4, 4), bool))[None, None]
    return dict(cross_keys=keys, cross_values=values, causal_mask=causal, source_mask=np.ones((3, 1, 1, 5), bool))


def test_encoder_block_config_round_trip():
    block = _encoder_block()
    clone = EncoderBlock.from_config(block.get_config())
    clone.build((None, 5, 8))
    clone.set_weights(block.get_weights())
    assert clone.get_config() == block.get_config()
    mask = np.ones((3, 1, 1, 5), bool)
    np.testing.assert_array_equal(np.asarray(block(_x(), source_mask=mask)), np.asarray(clone(_x(), source_mask=mask)))


def test_decoder_block_config_round_trip():
    block = _decoder_block()
    clone = DecoderBlock.from_config(block.get_config())
    clone.build((None, 4, 8), (None, 5, 8))
    clone.set_weights(block.get_weights())
    assert clone.get_config() == block.get_config()
    assert len(block.get_weights()) == len(clone.get_weights()) > len(_encoder_block().get_weights())
    for a, b in zip(block(_x(4), **_decoder_inputs(block)), clone(_x(4), **_decoder_inputs(clone))):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_saved_in_a_model_loads_back_to_identical_outputs(tmp_path):
    x = keras.Input((5, 8))
    mask = keras.ops.ones((1, 1, 1, 5), "bool")
    model = keras.Model(x, EncoderBlock(**SIZES, name="block")(x, source_mask=mask))
    path = str(tmp_path / "block.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(np.asarray(model(_x())), np.asarray(loaded(_x())))
