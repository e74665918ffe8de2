"""Helpers for layers that take other layers as constructor arguments (serialized in their get_config)."""

from __future__ import annotations

import keras


def serialize_layer(layer):
    return None if layer is None else keras.saving.serialize_keras_object(layer)


def deserialize_layer(value):
    """A layer argument seen by `from_config`: a serialized dict, or already a layer (a parent sharing it)."""
    if value is None or isinstance(value, keras.layers.Layer):
        return value
    return keras.saving.deserialize_keras_object(value)
