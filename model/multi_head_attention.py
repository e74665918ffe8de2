"""Multi-head scaled dot-product attention in `keras.ops`, with the projections split from the attending so
that decoding can cache keys and values.

  layer.project_memory(memory)                      -> (keys, values), each (batch, src, heads, head_dim)
  layer.attend(query, keys, values, attention_mask)  -> (outputs (batch, tgt, model_dim),
                                                         weights (batch, heads, tgt, src))
  layer(query, memory, attention_mask=...)           =  attend(query, *project_memory(memory), attention_mask)

  query   (batch, tgt, model_dim)    memory (batch, src, model_dim)
  attention_mask  bool, True where a query may look, broadcastable to (batch, heads, tgt, src): (batch, 1, 1, src)
                  for source padding, (1, 1, tgt, tgt) for the causal mask of decoder self-attention

Cross-attention projects the encoder memory once per article (`project_memory`) and reuses it at every
decoding step; self-attention's keys and values of earlier positions are kept in a cache by the decoder
(model/transformer_decoder.py), so a step projects one position. Weights are computed in float32; masked
positions get exactly zero weight. Why not `keras.layers.MultiHeadAttention`: it has no cached decoding and
projects keys and values on every call; keras-hub's cached layer would add a dependency for 100 lines.
"""

from __future__ import annotations

import keras
from keras import ops

_MASKED_SCORE = -1e9


@keras.saving.register_keras_serializable(package="sumflow")
class MultiHeadAttention(keras.layers.Layer):
    """Args: heads - number of heads (model.heads); model_dim - query/memory/output size, divisible by heads;
    dropout - on the attention weights while training (model.dropout)."""

    def __init__(self, *, heads: int, model_dim: int, dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if heads <= 0 or model_dim % heads:
            raise ValueError(f"MultiHeadAttention: model_dim ({model_dim}) must be a multiple of heads ({heads}); "
                             "set model.embedding_dim and model.heads.")
        self.heads = heads
        self.model_dim = model_dim
        self.dropout = dropout
        self.head_dim = model_dim // heads
        self.weights_dropout = keras.layers.Dropout(dropout, name="weights_dropout")

    def build(self, query_shape, memory_shape=None):
        shape = (self.model_dim, self.heads, self.head_dim)
        self.query_kernel = self.add_weight(shape=shape, initializer="glorot_uniform", name="query_kernel")
        self.key_kernel = self.add_weight(shape=shape, initializer="glorot_uniform", name="key_kernel")
        self.value_kernel = self.add_weight(shape=shape, initializer="glorot_uniform", name="value_kernel")
        self.output_kernel = self.add_weight(shape=(self.heads, self.head_dim, self.model_dim),
                                             initializer="glorot_uniform", name="output_kernel")
        self.output_bias = self.add_weight(shape=(self.model_dim,), initializer="zeros", name="output_bias")

    def project_memory(self, memory):
        """(batch, src, model_dim) -> keys, values (batch, src, heads, head_dim)."""
        keys = ops.einsum("bsm,mhd->bshd", memory, ops.cast(self.key_kernel, memory.dtype))
        values = ops.einsum("bsm,mhd->bshd", memory, ops.cast(self.value_kernel, memory.dtype))
        return keys, values

    def project_query(self, query):
        """(batch, tgt, model_dim) -> (batch, tgt, heads, head_dim), scaled by 1/sqrt(head_dim)."""
        projected = ops.einsum("btm,mhd->bthd", query, ops.cast(self.query_kernel, query.dtype))
        return projected * ops.cast(self.head_dim ** -0.5, projected.dtype)

    def attend(self, query, keys, values, *, attention_mask=None, training=None):
        """-> outputs (batch, tgt, model_dim) in the query's dtype, weights (batch, heads, tgt, src) float32."""
        scores = ops.einsum("bthd,bshd->bhts", self.project_query(query), keys)  # (batch, heads, tgt, src)
        scores = ops.cast(scores, "float32")
        if attention_mask is not None:
            scores = ops.where(attention_mask, scores, ops.full_like(scores, _MASKED_SCORE))
        weights = ops.softmax(scores, axis=-1)  # (batch, heads, tgt, src)
        dropped = self.weights_dropout(weights, training=training)
        mixed = ops.einsum("bhts,bshd->bthd", ops.cast(dropped, values.dtype), values)  # (batch, tgt, heads, d)
        outputs = ops.einsum("bthd,hdm->btm", mixed, ops.cast(self.output_kernel, mixed.dtype))
        return outputs + ops.cast(self.output_bias, outputs.dtype), weights

    def call(self, query, memory, *, attention_mask=None, training=None):
        keys, values = self.project_memory(memory)
        return self.attend(query, keys, values, attention_mask=attention_mask, training=training)

    def get_config(self):
        config = super().get_config()
        config.update({"heads": self.heads, "model_dim": self.model_dim, "dropout": self.dropout})
        return config
