"""The pre-norm Transformer blocks (Vaswani et al. 2017, with the layer norm before each sub-layer as in
Xiong et al. 2020) and the embedding of token ids with sinusoidal positions.

  EncoderBlock:  x += Dropout(SelfAttention(LN(x), source mask));  x += Dropout(FFN(LN(x)))
  DecoderBlock:  x += Dropout(SelfAttention(LN(x), causal mask))
                 c, a = CrossAttention(LN(x), encoder memory, source mask);  x += Dropout(c)
                 x += Dropout(FFN(LN(x)))

  FFN(x) = W_2 relu(W_1 x + b_1) + b_2     (model.feed_forward_dim inner units)

`DecoderBlock.step` runs one position against a key/value cache of the earlier positions (decoding), and gives
what `call` gives at that position (tested). The stacks, the final norms and the output layer are in
model/transformer_encoder.py and model/transformer_decoder.py.
"""

from __future__ import annotations

import math

import keras
from keras import ops

from model.multi_head_attention import MultiHeadAttention


def sinusoidal_positions(positions, model_dim: int):
    """positions (length,) int -> (length, model_dim) float32: sin on the first half, cos on the second."""
    half = model_dim // 2
    rates = ops.exp(ops.arange(half, dtype="float32") * (-math.log(10000.0) / max(half - 1, 1)))  # (half,)
    angles = ops.cast(positions, "float32")[:, None] * rates[None, :]  # (length, half)
    encoding = ops.concatenate([ops.sin(angles), ops.cos(angles)], axis=-1)
    if model_dim % 2:
        encoding = ops.pad(encoding, [[0, 0], [0, 1]])
    return encoding


def embed(embedding: keras.layers.Embedding, ids, positions, dropout: keras.layers.Layer, *, training=None):
    """E[ids] * sqrt(model_dim) + sinusoidal positions, then dropout: (batch, length) -> (batch, length, dim).

    ids (batch, length) int; positions (length,) int, the position of each column."""
    embedded = embedding(ids)  # (batch, length, dim)
    dim = embedding.output_dim
    scaled = embedded * ops.cast(math.sqrt(dim), embedded.dtype)
    return dropout(scaled + ops.cast(sinusoidal_positions(positions, dim), scaled.dtype)[None], training=training)


class _Block(keras.layers.Layer):
    """What both blocks share: sizes, the feed-forward sub-layer and the dropouts.

    dropout - on each sub-layer's output before the residual sum; attention_dropout - on the attention
    weights (None: the same as dropout); activation_dropout - on the feed-forward's inner activations."""

    def __init__(self, *, heads: int, model_dim: int, feed_forward_dim: int, dropout: float,
                 attention_dropout: float | None = None, activation_dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if feed_forward_dim <= 0:
            raise ValueError(f"{type(self).__name__}: feed_forward_dim must be > 0 (got {feed_forward_dim}); set "
                             "model.feed_forward_dim.")
        self.heads = heads
        self.model_dim = model_dim
        self.feed_forward_dim = feed_forward_dim
        self.dropout = dropout
        self.attention_dropout = dropout if attention_dropout is None else attention_dropout
        self.activation_dropout = activation_dropout
        self.self_attention = MultiHeadAttention(heads=heads, model_dim=model_dim, dropout=self.attention_dropout,
                                                 name="self_attention")
        self.self_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="self_norm")
        self.ffn_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="ffn_norm")
        self.ffn_inner = keras.layers.Dense(feed_forward_dim, activation="relu", name="ffn_inner")
        self.ffn_outer = keras.layers.Dense(model_dim, name="ffn_outer")
        self.residual_dropout = keras.layers.Dropout(dropout, name="residual_dropout")
        self.inner_dropout = keras.layers.Dropout(activation_dropout, name="activation_dropout")

    def _build_common(self, shape):
        self.self_norm.build(shape)
        self.self_attention.build(shape, shape)
        self.ffn_norm.build(shape)
        self.ffn_inner.build(shape)
        self.ffn_outer.build(tuple(shape[:-1]) + (self.feed_forward_dim,))

    def _feed_forward(self, x, training):
        inner = self.inner_dropout(self.ffn_inner(self.ffn_norm(x)), training=training)  # (..., feed_forward_dim)
        return x + self.residual_dropout(self.ffn_outer(inner), training=training)

    def get_config(self):
        config = super().get_config()
        config.update({"heads": self.heads, "model_dim": self.model_dim,
                       "feed_forward_dim": self.feed_forward_dim, "dropout": self.dropout,
                       "attention_dropout": self.attention_dropout, "activation_dropout": self.activation_dropout})
        return config


@keras.saving.register_keras_serializable(package="sumflow")
class EncoderBlock(_Block):
    """call(x (batch, src, dim), *, source_mask (batch, 1, 1, src) bool, training) -> (batch, src, dim)."""

    def build(self, input_shape):
        self._build_common(input_shape)

    def call(self, x, *, source_mask, training=None):
        normed = self.self_norm(x)
        attended, _ = self.self_attention(normed, normed, attention_mask=source_mask, training=training)
        x = x + self.residual_dropout(attended, training=training)
        return self._feed_forward(x, training)


@keras.saving.register_keras_serializable(package="sumflow")
class DecoderBlock(_Block):
    """Causal self-attention, cross-attention over the encoder memory, feed-forward.

    call(x (batch, tgt, dim), *, cross_keys, cross_values (batch, src, heads, head_dim) from
         `cross_attention.project_memory(memory)`, causal_mask (1, 1, tgt, tgt), source_mask (batch, 1, 1, src))
      -> (x (batch, tgt, dim), context (batch, tgt, dim), cross_weights (batch, heads, tgt, src) float32)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.cross_attention = MultiHeadAttention(heads=self.heads, model_dim=self.model_dim,
                                                  dropout=self.attention_dropout, name="cross_attention")
        self.cross_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="cross_norm")

    def build(self, input_shape, memory_shape=None):
        self._build_common(input_shape)
        self.cross_norm.build(input_shape)
        self.cross_attention.build(input_shape, memory_shape or input_shape)

    def call(self, x, *, cross_keys, cross_values, causal_mask, source_mask, training=None):
        normed = self.self_norm(x)
        keys, values = self.self_attention.project_memory(normed)
        attended, _ = self.self_attention.attend(normed, keys, values, attention_mask=causal_mask, training=training)
        return self._cross_and_feed_forward(x + self.residual_dropout(attended, training=training), cross_keys,
                                            cross_values, source_mask, training)

    def step(self, x, *, position, cache_keys, cache_values, cross_keys, cross_values, source_mask):
        """One position (inference): x (batch, 1, dim) at `position` (scalar int); the cache holds the keys and
        values of positions < position in (batch, max_length, heads, head_dim) (later slots are ignored).

        Returns (x, context, cross_weights) as `call` at that position, and the cache with this position's keys
        and values written into slot `position`.
        """
        normed = self.self_norm(x)
        key, value = self.self_attention.project_memory(normed)  # (batch, 1, heads, head_dim)
        max_length = ops.shape(cache_keys)[1]
        at = ops.equal(ops.arange(max_length), position)[None, :, None, None]  # (1, max_length, 1, 1)
        cache_keys = ops.where(at, ops.cast(key, cache_keys.dtype), cache_keys)
        cache_values = ops.where(at, ops.cast(value, cache_values.dtype), cache_values)
        visible = ops.less_equal(ops.arange(max_length), position)[None, None, None, :]  # (1, 1, 1, max_length)
        attended, _ = self.self_attention.attend(normed, cache_keys, cache_values, attention_mask=visible)
        x, context, weights = self._cross_and_feed_forward(x + attended, cross_keys, cross_values, source_mask,
                                                           False)
        return x, context, weights, cache_keys, cache_values

    def _cross_and_feed_forward(self, x, cross_keys, cross_values, source_mask, training):
        context, weights = self.cross_attention.attend(self.cross_norm(x), cross_keys, cross_values,
                                                       attention_mask=source_mask, training=training)
        x = x + self.residual_dropout(context, training=training)
        return self._feed_forward(x, training), context, weights
