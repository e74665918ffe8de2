"""The Transformer encoder: embedded source ids with sinusoidal positions, a stack of pre-norm `EncoderBlock`s,
a final layer norm. Pad (id 0) is masked from self-attention; outputs at pad positions are meaningless (the
decoder's cross-attention masks them)."""

from __future__ import annotations

import keras
from keras import ops

from model.serialization import deserialize_layer, serialize_layer
from model.transformer_blocks import EncoderBlock, embed
from contract.records import PAD_ID


def source_attention_mask(source_ids):
    """(batch, src) ids -> (batch, 1, 1, src) bool, True on real tokens: the key mask of attention over them."""
    return ops.not_equal(source_ids, PAD_ID)[:, None, None, :]


@keras.saving.register_keras_serializable(package="sumflow")
class TransformerEncoder(keras.layers.Layer):
    """Args: embedding - the shared `keras.layers.Embedding` (its output_dim is the model size); num_layers,
    heads, feed_forward_dim, dropout - model.layers, model.heads, model.feed_forward_dim, model.dropout;
    attention_dropout, activation_dropout - model.attention_dropout, model.activation_dropout (see _Block).

    call(source_ids (batch, src) int, training) -> (batch, src, model_dim).
    """

    def __init__(self, *, embedding: keras.layers.Layer, num_layers: int, heads: int, feed_forward_dim: int,
                 dropout: float, attention_dropout: float | None = None, activation_dropout: float = 0.0,
                 **kwargs):
        super().__init__(**kwargs)
        if num_layers <= 0:
            raise ValueError(f"TransformerEncoder: num_layers must be > 0 (got {num_layers}); set model.layers.")
        self.embedding = embedding
        self.num_layers = num_layers
        self.heads = heads
        self.feed_forward_dim = feed_forward_dim
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.activation_dropout = activation_dropout
        self.model_dim = embedding.output_dim
        self.embedding_dropout = keras.layers.Dropout(dropout, name="embedding_dropout")
        self.blocks = [EncoderBlock(heads=heads, model_dim=self.model_dim, feed_forward_dim=feed_forward_dim,
                                    dropout=dropout, attention_dropout=attention_dropout,
                                    activation_dropout=activation_dropout, name=f"block_{i}")
                       for i in range(num_layers)]
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")

    @property
    def output_dim(self) -> int:
        return self.model_dim

    def build(self, source_ids_shape):
        if not self.embedding.built:
            self.embedding.build(source_ids_shape)
        shape = (source_ids_shape[0], source_ids_shape[1], self.model_dim)
        for block in self.blocks:
            block.build(shape)
        self.final_norm.build(shape)

    def call(self, source_ids, training=None):
        mask = source_attention_mask(source_ids)  # (batch, 1, 1, src)
        x = embed(self.embedding, source_ids, ops.arange(ops.shape(source_ids)[1]), self.embedding_dropout,
                  training=training)  # (batch, src, dim)
        for block in self.blocks:
            x = block(x, source_mask=mask, training=training)
        return self.final_norm(x)

    def get_config(self):
        config = super().get_config()
        config.update({"embedding": serialize_layer(self.embedding), "num_layers": self.num_layers,
                       "heads": self.heads, "feed_forward_dim": self.feed_forward_dim, "dropout": self.dropout,
                       "attention_dropout": self.attention_dropout, "activation_dropout": self.activation_dropout})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["embedding"] = deserialize_layer(config["embedding"])
        return cls(**config)
