import keras
import numpy as np
import pytest

from model.transformer_encoder import TransformerEncoder


def _encoder():
    encoder = TransformerEncoder(embedding=keras.layers.Embedding(50, 8, name="embedding"), num_layers=2, heads=2,
                                 feed_forward_dim=16, dropout=0.1, name="encoder")
    encoder.build((None, None))
    return encoder


def test_shapes_and_padding_does_not_change_real_positions(tiny_batch):
    encoder = _encoder()
    assert tuple(encoder(tiny_batch["article_ids"]).shape) == (3, 9, 8) and encoder.output_dim == 8
    article = np.array([[7, 8, 9, 10, 11]], "int32")
    padded = np.array([[7, 8, 9, 10, 11, 0, 0, 0]], "int32")
    np.testing.assert_allclose(np.asarray(encoder(padded))[:, :5], np.asarray(encoder(article)), atol=1e-5)


def test_layer_count_is_checked():
    with pytest.raises(ValueError, match="model.layers"):
        TransformerEncoder(embedding=keras.layers.Embedding(50, 8), num_layers=0, heads=2, feed_forward_dim=16,
                           dropout=0.0)


def test_config_round_trip(tiny_batch):
    encoder = _encoder()
    clone = TransformerEncoder.from_config(encoder.get_config())
    clone.build((None, None))
    clone.set_weights(encoder.get_weights())
    assert clone.get_config() == encoder.get_config()
    np.testing.assert_array_equal(np.asarray(encoder(tiny_batch["article_ids"])),
                                  np.asarray(clone(tiny_batch["article_ids"])))


def test_saved_in_a_model_loads_back_to_identical_outputs(tmp_path, tiny_batch):
    ids = keras.Input((None,), dtype="int32")
    model = keras.Model(ids, _encoder()(ids))
    path = str(tmp_path / "encoder.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_array_equal(np.asarray(model(tiny_batch["article_ids"])),
                                  np.asarray(loaded(tiny_batch["article_ids"])))
