import keras
import numpy as np
import pytest

from model.rnn_encoder import Encoder


def _encoder(cell):
    embedding = keras.layers.Embedding(50, 8)
    encoder = Encoder(embedding=embedding, units=6, decoder_units=10, cell=cell, dropout=0.0)
    encoder.build((None, None))
    return encoder


@pytest.mark.parametrize("cell, state_size", [("gru", 10), ("lstm", 20)])
def test_shapes(cell, state_size, tiny_batch):
    encoder = _encoder(cell)
    outputs, state = encoder(tiny_batch["article_ids"])
    assert tuple(outputs.shape) == (3, 9, 12)
    assert tuple(state.shape) == (3, state_size)
    assert encoder.state_size == state_size and encoder.output_dim == 12


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_padding_does_not_change_real_positions_or_the_state(cell):
    encoder = _encoder(cell)
    article = np.array([[7, 8, 9, 10, 11]], "int32")
    padded = np.array([[7, 8, 9, 10, 11, 0, 0, 0]], "int32")
    outputs, state = encoder(article)
    padded_outputs, padded_state = encoder(padded)
    np.testing.assert_allclose(np.asarray(padded_outputs)[:, :5], np.asarray(outputs), atol=1e-6)
    np.testing.assert_allclose(np.asarray(padded_state), np.asarray(state), atol=1e-6)


def test_bad_cell_is_refused():
    with pytest.raises(ValueError, match="model.cell"):
        Encoder(embedding=keras.layers.Embedding(50, 8), units=6, decoder_units=10, cell="rnn", dropout=0.0)


@pytest.mark.parametrize("cell", ["gru", "lstm"])
def test_config_round_trip(cell, tiny_batch):
    encoder = _encoder(cell)
    clone = Encoder.from_config(encoder.get_config())
    clone.build((None, None))
    clone.set_weights(encoder.get_weights())
    assert clone.get_config() == encoder.get_config()
    for a, b in zip(encoder(tiny_batch["article_ids"]), clone(tiny_batch["article_ids"])):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
