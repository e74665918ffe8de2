"""Layer arguments serialize to configs and come back as layers; a layer already built passes through."""

import keras

from model.serialization import deserialize_layer, serialize_layer


def test_none_stays_none():
    assert serialize_layer(None) is None
    assert deserialize_layer(None) is None


def test_a_layer_round_trips_through_its_serialized_form():
    layer = keras.layers.Embedding(7, 3, name="shared")
    config = serialize_layer(layer)
    assert config["class_name"] == "Embedding"
    assert config["config"]["input_dim"] == 7 and config["config"]["output_dim"] == 3
    back = deserialize_layer(config)
    assert isinstance(back, keras.layers.Embedding) and back is not layer
    assert (back.name, back.input_dim, back.output_dim) == ("shared", 7, 3)


def test_a_layer_instance_is_passed_through_unchanged():
    layer = keras.layers.Dense(2)
    assert deserialize_layer(layer) is layer
