"""The Transformer decoder: teacher-forced over the whole target with a causal mask (training), and one
position at a time against a key/value cache (decoding).

  x_0      = E[y_<t] * sqrt(d) + positions               (batch, tgt, d)   embedded previous tokens
  x_L, c, A = DecoderBlock_L(... DecoderBlock_1(x_0))    c, A: the last block's cross-attention output and
                                                         weights (batch, tgt, d), (batch, heads, tgt, src)
  h        = LayerNorm(x_L)                               (batch, tgt, d)
  logits   = h E^T + b (tied)  |  Dense(h)                (batch, tgt, vocab)
  c', a_t  = CopyAttention(h, encoder memory)             (batch, tgt, d), (batch, tgt, src)   with a pointer
  a_t      = mean over heads of A                          (batch, tgt, src)    without one
  log P    = pointer(logits, a_t, c', h, x_0)  |  log_softmax(logits)

The pointer-generator is model/pointer.py's, fed as in See et al. (2017): p_gen from the copy context c', the
decoder state h and the input x_0; copies follow a_t, the weights of a single-head cross-attention from the
final decoder state over the encoder memory that serves copying alone (as OpenNMT's copy attention for
Transformers). The first version copied along the last block's cross-attention averaged over its heads: on
AESLC its greedy summaries were runs of source pieces ("Yararar") at a validation loss the RNN's summaries
read well at, since every head then carried the copy gradient beside its own role.
Coverage (`coverage=True`): cov_t = sum_{t' < t} a_t' is returned for the coverage loss (the attention
scores themselves do not take coverage, unlike the RNN's).

`step(...)` computes one position against the cache (each step projects one position, attends over the cached
keys) and matches `call(..., training=False)` position by position (tested).
"""

from __future__ import annotations

import keras
from keras import ops

from model.pointer import output_log_probs
from model.serialization import deserialize_layer, serialize_layer
from model.multi_head_attention import MultiHeadAttention
from model.transformer_blocks import DecoderBlock, embed
from model.transformer_encoder import source_attention_mask


@keras.saving.register_keras_serializable(package="sumflow")
class TransformerDecoder(keras.layers.Layer):
    """Args: embedding - the shared `keras.layers.Embedding`; num_layers, heads, feed_forward_dim, dropout,
    attention_dropout, activation_dropout - the stack's sizes and dropouts (model/transformer_blocks.py);
    tie_embeddings - the output layer is the embedding's transpose (plus a bias);
    pointer - a `PointerGenerator` or None; coverage - return the attention's coverage for the coverage loss."""

    def __init__(self, *, embedding: keras.layers.Layer, num_layers: int, heads: int, feed_forward_dim: int,
                 dropout: float, attention_dropout: float | None = None, activation_dropout: float = 0.0,
                 tie_embeddings: bool = True, pointer: keras.layers.Layer | None = None, coverage: bool = False,
                 **kwargs):
        super().__init__(**kwargs)
        if num_layers <= 0:
            raise ValueError(f"TransformerDecoder: num_layers must be > 0 (got {num_layers}); set model.layers.")
        self.embedding = embedding
        self.num_layers = num_layers
        self.heads = heads
        self.feed_forward_dim = feed_forward_dim
        self.dropout = dropout
        self.attention_dropout = attention_dropout
        self.activation_dropout = activation_dropout
        self.tie_embeddings = tie_embeddings
        self.pointer = pointer
        self.coverage = coverage
        self.model_dim = embedding.output_dim
        self.vocab_size = embedding.input_dim
        self.embedding_dropout = keras.layers.Dropout(dropout, name="embedding_dropout")
        self.blocks = [DecoderBlock(heads=heads, model_dim=self.model_dim, feed_forward_dim=feed_forward_dim,
                                    dropout=dropout, attention_dropout=attention_dropout,
                                    activation_dropout=activation_dropout, name=f"block_{i}")
                       for i in range(num_layers)]
        self.final_norm = keras.layers.LayerNormalization(epsilon=1e-6, name="final_norm")
        self.output_layer = None if tie_embeddings else keras.layers.Dense(self.vocab_size, name="logits")
        self.copy_attention = None if pointer is None else MultiHeadAttention(
            heads=1, model_dim=self.model_dim, name="copy_attention")

    def build(self, target_ids_shape, memory_shape=None):
        if not self.embedding.built:
            self.embedding.build(target_ids_shape)
        shape = (target_ids_shape[0], target_ids_shape[1], self.model_dim)
        for block in self.blocks:
            block.build(shape, memory_shape or shape)
        self.final_norm.build(shape)
        if self.tie_embeddings:
            self.output_bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros", name="output_bias")
        else:
            self.output_layer.build(shape)
        if self.pointer is not None:
            self.copy_attention.build(shape, memory_shape or shape)
            if not self.pointer.built:
                self.pointer.build(shape, shape, shape)

    def project_memory(self, memory) -> dict:
        """The keys and values of the encoder memory (batch, src, d) that decoding steps attend to, once per
        article: {"cross_keys", "cross_values"} of every block (batch, layers, src, heads, head_dim) and, with
        a pointer, the copy attention's {"copy_keys", "copy_values"} (batch, src, 1, d)."""
        projected = [block.cross_attention.project_memory(memory) for block in self.blocks]
        out = {"cross_keys": ops.stack([k for k, _ in projected], axis=1),
               "cross_values": ops.stack([v for _, v in projected], axis=1)}
        if self.copy_attention is not None:
            out["copy_keys"], out["copy_values"] = self.copy_attention.project_memory(memory)
        return out

    def call(self, target_ids, *, memory, source_ids, targets=None, training=None):
        """Teacher-forced decoding of the whole target; the same dict as `AttentionDecoder.call`:
        {"log_probs" (batch, tgt, vocab) | "target_log_probs" (batch, tgt) given targets,
         "attention" (batch, tgt, src), "coverage" (batch, tgt, src)}, all float32."""
        target_len = ops.shape(target_ids)[1]
        positions = ops.arange(target_len)
        causal = ops.less_equal(positions[None, :], positions[:, None])[None, None]  # (1, 1, tgt, tgt)
        source_mask = source_attention_mask(source_ids)  # (batch, 1, 1, src)
        embedded = embed(self.embedding, target_ids, positions, self.embedding_dropout, training=training)
        x = embedded
        for block in self.blocks:
            cross_keys, cross_values = block.cross_attention.project_memory(memory)
            x, context, weights = block(x, cross_keys=cross_keys, cross_values=cross_values, causal_mask=causal,
                                        source_mask=source_mask, training=training)
        copy_memory = {}
        if self.copy_attention is not None:
            copy_memory["copy_keys"], copy_memory["copy_values"] = self.copy_attention.project_memory(memory)
        log_probs, attention = self._output(self.final_norm(x), context, weights, embedded, source_ids,
                                            source_mask, copy_memory, targets=targets)
        coverage = ops.cumsum(attention, axis=1) - attention  # (batch, tgt, src), exclusive cumsum
        return {"log_probs" if targets is None else "target_log_probs": log_probs, "attention": attention,
                "coverage": coverage}

    def step(self, prev_token_ids, *, position, cache_keys, cache_values, cross_keys, cross_values, source_ids,
             copy_keys=None, copy_values=None):
        """One decoding step (inference).

        Args:
            prev_token_ids: (batch,) int, the token at `position` (BOS at 0).
            position: scalar int.
            cache_keys, cache_values: (batch, layers, max_length, heads, head_dim), earlier positions' keys and
                values (zeros at first).
            cross_keys, cross_values (copy_keys, copy_values with a pointer): `project_memory(memory)`.
            source_ids: (batch, src) int.

        Returns (log_probs (batch, vocab), attention (batch, src), cache_keys, cache_values) with this
        position's keys and values written into the caches.
        """
        source_mask = source_attention_mask(source_ids)
        embedded = embed(self.embedding, prev_token_ids[:, None], ops.reshape(position, (1,)),
                         self.embedding_dropout, training=False)  # (batch, 1, d)
        x, new_keys, new_values = embedded, [], []
        for i, block in enumerate(self.blocks):
            x, context, weights, layer_keys, layer_values = block.step(
                x, position=position, cache_keys=cache_keys[:, i], cache_values=cache_values[:, i],
                cross_keys=cross_keys[:, i], cross_values=cross_values[:, i], source_mask=source_mask)
            new_keys.append(layer_keys)
            new_values.append(layer_values)
        log_probs, attention = self._output(self.final_norm(x), context, weights, embedded, source_ids, source_mask,
                                            {"copy_keys": copy_keys, "copy_values": copy_values})
        return log_probs[:, 0], attention[:, 0], ops.stack(new_keys, axis=1), ops.stack(new_values, axis=1)

    def cache_shape(self, rows, max_length) -> tuple:
        head_dim = self.model_dim // self.heads
        return rows, self.num_layers, max_length, self.heads, head_dim

    def _output(self, hidden, context, weights, embedded, source_ids, source_mask, copy_memory, *, targets=None):
        """-> (final log-probabilities, see `call`; the attention a_t (batch, tgt, src) float32).

        hidden (batch, tgt, d) the final decoder state; context, weights the last block's cross-attention output
        and weights (batch, heads, tgt, src); copy_memory {"copy_keys", "copy_values"} with a pointer."""
        if self.copy_attention is None:
            attention = ops.mean(weights, axis=1)  # (batch, tgt, src)
        else:
            context, copy_weights = self.copy_attention.attend(hidden, copy_memory["copy_keys"],
                                                               copy_memory["copy_values"], attention_mask=source_mask)
            attention = copy_weights[:, 0]  # (batch, tgt, src)
        return self._log_probs(hidden, context, embedded, attention, source_ids, targets=targets), attention

    def _log_probs(self, hidden, context, embedded, attention, source_ids, *, targets=None):
        if self.tie_embeddings:
            matrix = ops.cast(self.embedding.embeddings, hidden.dtype)  # (vocab, d)
            logits = ops.einsum("btd,vd->btv", hidden, matrix) + ops.cast(self.output_bias, hidden.dtype)
        else:
            logits = self.output_layer(hidden)  # (batch, tgt, vocab)
        return output_log_probs(logits, pointer=self.pointer, targets=targets, attention=attention,
                                context=context, state=hidden, embedded=embedded, source_ids=source_ids)

    def get_config(self):
        config = super().get_config()
        config.update({"embedding": serialize_layer(self.embedding), "num_layers": self.num_layers,
                       "heads": self.heads, "feed_forward_dim": self.feed_forward_dim, "dropout": self.dropout,
                       "attention_dropout": self.attention_dropout, "activation_dropout": self.activation_dropout,
                       "tie_embeddings": self.tie_embeddings, "pointer": serialize_layer(self.pointer),
                       "coverage": self.coverage})
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("embedding", "pointer"):
            config[key] = deserialize_layer(config.get(key))
        return cls(**config)
