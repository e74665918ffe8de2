import keras
import numpy as np
import pytest

from model.pointer import PointerGenerator
from model.transformer_decoder import TransformerDecoder


def _decoder(*, pointer: bool, tie_embeddings: bool = True):
    decoder = TransformerDecoder(embedding=keras.layers.Embedding(50, 8, name="embedding"), num_layers=2, heads=2,
                                 feed_forward_dim=16, dropout=0.1, tie_embeddings=tie_embeddings,
                                 pointer=PointerGenerator(name="pointer") if pointer else None, coverage=True,
                                 name="decoder")
    decoder.build((None, None), (None, None, 8))
    return decoder


def _memory():
    return np.random.default_rng(1).normal(size=(3, 9, 8)).astype("float32")


def _outputs(decoder, tiny_batch):
    return decoder(tiny_batch["summary_in"], memory=_memory(), source_ids=tiny_batch["article_ids"])


@pytest.mark.parametrize("pointer, tie_embeddings", [(True, True), (False, True), (False, False)])
def test_shapes_and_distributions(pointer, tie_embeddings, tiny_batch):
    out = _outputs(_decoder(pointer=pointer, tie_embeddings=tie_embeddings), tiny_batch)
    assert tuple(out["log_probs"].shape) == (3, 7, 50)
    assert tuple(out["attention"].shape) == tuple(out["coverage"].shape) == (3, 7, 9)
    np.testing.assert_allclose(np.exp(np.asarray(out["log_probs"])).sum(-1), 1.0, atol=1e-4)


def test_layer_count_is_checked():
    with pytest.raises(ValueError, match="model.layers"):
        TransformerDecoder(embedding=keras.layers.Embedding(50, 8), num_layers=0, heads=2, feed_forward_dim=16,
                           dropout=0.0)


@pytest.mark.parametrize("pointer", [True, False])
def test_config_round_trip(pointer, tiny_batch):
    decoder = _decoder(pointer=pointer)
    clone = TransformerDecoder.from_config(decoder.get_config())
    clone.build((None, None), (None, None, 8))
    clone.set_weights(decoder.get_weights())
    assert clone.get_config() == decoder.get_config()
    assert (clone.pointer is None) == (not pointer) and (clone.copy_attention is None) == (not pointer)
    for key, value in _outputs(decoder, tiny_batch).items():
        np.testing.assert_array_equal(np.asarray(value), np.asarray(_outputs(clone, tiny_batch)[key]), err_msg=key)


def test_saved_in_a_model_loads_back_to_identical_outputs(tmp_path, tiny_batch):
    target = keras.Input((None,), dtype="int32")
    source = keras.Input((None,), dtype="int32")
    memory = keras.Input((None, 8))
    out = _decoder(pointer=True)(target, memory=memory, source_ids=source)
    model = keras.Model([target, memory, source], out["log_probs"])
    path = str(tmp_path / "decoder.keras")
    model.save(path)
    loaded = keras.saving.load_model(path)
    inputs = [tiny_batch["summary_in"], _memory(), tiny_batch["article_ids"]]
    np.testing.assert_array_equal(np.asarray(model(inputs)), np.asarray(loaded(inputs)))
