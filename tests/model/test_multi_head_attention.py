import keras
import numpy as np
import pytest

from model.multi_head_attention import MultiHeadAttention


def _attention():
    layer = MultiHeadAttention(heads=2, model_dim=8, dropout=0.1, name="attention")
    layer.build((None, 5, 8), (None, 7, 8))
    return layer


def _inputs():
    rng = np.random.default_rng(0)
    return rng.normal(size=(3, 5, 8)).astype("float32"), rng.normal(size=(3, 7, 8)).astype("float32")


def test_shapes_and_the_mask_gives_masked_positions_no_weight():
    query, memory = _inputs()
    mask = np.ones((3, 1, 1, 7), bool)
    mask[0, ..., 4:] = False
    outputs, weights = _attention()(query, memory, attention_mask=mask)
    assert tuple(outputs.shape) == (3, 5, 8) and tuple(weights.shape) == (3, 2, 5, 7)
    weights = np.asarray(weights)
    np.testing.assert_allclose(weights.sum(-1), 1.0, atol=1e-6)
    assert np.all(weights[0, ..., 4:] == 0.0)


def test_model_dim_must_divide_into_heads():
    with pytest.raises(ValueError, match="model.heads"):
        MultiHeadAttention(heads=3, model_dim=8)


def test_config_round_trip():
    layer = _attention()
    clone = MultiHeadAttention.from_config(layer.get_config())
    clone.build((None, 5, 8), (None, 7, 8))
    clone.set_weights(layer.get_weights())
    assert clone.get_config() == layer.get_config()
    query, memory = _inputs()
    for a, b in zip(layer(query, memory), clone(query, memory)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_saved_in_a_model_loads_back_to_identical_outputs(tmp_path):
    query = keras.Input((5, 8))
    memory = keras.Input((7, 8))
    outputs, _ = MultiHeadAttention(heads=2, model_dim=8, name="attention")(query, memory)
    model = keras.Model([query, memory], outputs)
    path = str(tmp_path / "attention.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    inputs = list(_inputs())
    np.testing.assert_array_equal(np.asarray(model(inputs)), np.asarray(loaded(inputs)))
