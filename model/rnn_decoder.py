"""The attention decoder: teacher-forced over the whole target at once, and one step at a time for decoding.

Luong-style: the RNN runs first (one fused Keras RNN over all target positions, no Python loop), its states
are the attention queries, and the output layer reads concat(state, context):

  x_t      = E[y_{t-1}]                                  (batch, tgt, emb)    embedded previous tokens
  s_t      = RNN(x_1..x_t, s_0)                           (batch, tgt, units)  s_0 from the encoder bridge
  a_t, c_t = attention(s_t, encoder_outputs[, cov_t])     (batch, tgt, src), (batch, tgt, mem_dim)
  h_t      = tanh(W [s_t; c_t] + b)                       (batch, tgt, emb) when tied, else (.., units)
  logits   = h_t E^T + b_out  (tied)  |  Dense(h_t)       (batch, tgt, vocab)
  log P    = pointer(logits, a_t, c_t, s_t, x_t)  |  log_softmax(logits)

Coverage (See et al. 2017): cov_t = sum_{t' < t} a_t'. When the attention uses coverage (attention.coverage),
cov_t depends on earlier attention, so the attention scores alone run in a `keras.ops.scan` over target
positions (`attend_with_coverage`; the RNN, the context and the output layer still run over the whole
sequence). Without coverage in the scores the attention is one batched call, and cov_t (still returned, for
the coverage loss or penalties) is an exclusive cumsum.

`step(...)` runs the same maths for one position; it matches `call(..., training=False)` position by position.
"""

from __future__ import annotations

import keras
from keras import ops

from model.pointer import output_log_probs
from model.rnn_state import check_cell, merge_state, rnn_layer, split_state, state_size
from model.serialization import deserialize_layer, serialize_layer
from contract.records import PAD_ID


@keras.saving.register_keras_serializable(package="sumflow")
class AttentionDecoder(keras.layers.Layer):
    """RNN decoder with attention after the RNN, optional tied output embedding and pointer-generator.

    Args:
        embedding: the (shared) `keras.layers.Embedding`; looks up target ids and, when tied, is the output
            matrix. Its input_dim is the vocabulary size.
        attention: a `BahdanauAttention` or `LuongAttention`; its `coverage` flag decides whether coverage is
            fed into the attention scores.
        units: RNN units (model.decoder_units).
        cell: "gru" or "lstm" (model.cell); the state layout is in model/rnn_state.py.
        tie_embeddings: logits = h @ E^T + b with h projected to embedding_dim (model.tie_embeddings).
        dropout: dropout rate on the embedded inputs and on [state; context] (model.dropout).
        pointer: a `PointerGenerator`, or None for a plain softmax over the vocabulary.
    """

    def __init__(self, *, embedding: keras.layers.Layer, attention: keras.layers.Layer, units: int, cell: str,
                 tie_embeddings: bool, dropout: float, pointer: keras.layers.Layer | None = None, **kwargs):
        super().__init__(**kwargs)
        check_cell(cell, "AttentionDecoder")
        if units <= 0:
            raise ValueError(f"AttentionDecoder: units must be > 0 (got {units}); set model.decoder_units.")
        self.embedding = embedding
        self.attention = attention
        self.units = units
        self.cell = cell
        self.tie_embeddings = tie_embeddings
        self.dropout = dropout
        self.pointer = pointer
        self.vocab_size = embedding.input_dim
        self.embedding_dropout = keras.layers.Dropout(dropout, name="embedding_dropout")
        self.output_dropout = keras.layers.Dropout(dropout, name="output_dropout")
        self.rnn = rnn_layer(cell, units, name="rnn")
        projection_dim = embedding.output_dim if tie_embeddings else units
        self.projection = keras.layers.Dense(projection_dim, activation="tanh", name="projection")
        self.output_layer = None if tie_embeddings else keras.layers.Dense(self.vocab_size, name="logits")

    @property
    def coverage(self) -> bool:
        """Whether coverage is fed into the attention scores."""
        return bool(self.attention.coverage)

    @property
    def state_size(self) -> int:
        return state_size(self.cell, self.units)

    def build(self, target_ids_shape, encoder_outputs_shape):
        batch, target_len = target_ids_shape[0], target_ids_shape[1]
        memory_dim = encoder_outputs_shape[-1]
        embedding_dim = self.embedding.output_dim
        if not self.embedding.built:
            self.embedding.build(target_ids_shape)
        self.rnn.build((batch, target_len, embedding_dim))
        states_shape = (batch, target_len, self.units)
        if not self.attention.built:
            self.attention.build(states_shape, encoder_outputs_shape)
        self.projection.build((batch, target_len, self.units + memory_dim))
        if self.tie_embeddings:
            self.output_bias = self.add_weight(shape=(self.vocab_size,), initializer="zeros", name="output_bias")
        else:
            self.output_layer.build((batch, target_len, self.units))
        if self.pointer is not None and not self.pointer.built:
            self.pointer.build((batch, target_len, memory_dim), states_shape, (batch, target_len, embedding_dim))

    def precompute_keys(self, encoder_outputs):
        """The attention keys of the encoder outputs, computed once per article."""
        return self.attention.precompute_keys(encoder_outputs)

    def call(self, target_ids, *, initial_state, encoder_outputs, source_ids, keys=None, targets=None,
             training=None):
        """Teacher-forced decoding of the whole target.

        Args:
            target_ids: (batch, tgt) int, the previous tokens: BOS, y_1, ..., y_{n-1}, then pad.
            initial_state: (batch, state_size) from the encoder.
            encoder_outputs: (batch, src, mem_dim).
            source_ids: (batch, src) int; pad (0) marks positions attention must skip; copied from by the pointer.
            keys: `precompute_keys(encoder_outputs)`, computed here when omitted.
            targets: (batch, tgt) int, the next tokens (summary_out). When given, only their log-probabilities
                are computed (training's loss needs no more): "target_log_probs" replaces "log_probs".

        Returns a dict:
            log_probs  (batch, tgt, vocab) float32, final log-probabilities (after the pointer when present)
                       or, with targets, target_log_probs (batch, tgt) float32, log P(targets)
            attention  (batch, tgt, src) float32, a_t
            coverage   (batch, tgt, src) float32, cov_t = sum of a_t' for t' < t (zeros at t = 0)
        Positions after the target's end are computed like any other; the loss masks them.
        """
        if keys is None:
            keys = self.precompute_keys(encoder_outputs)
        source_mask = ops.not_equal(source_ids, PAD_ID)  # (batch, src)
        embedded = self.embedding_dropout(self.embedding(target_ids), training=training)  # (batch, tgt, emb)
        states, *_ = self.rnn(embedded, initial_state=split_state(self.cell, initial_state),
                              training=training)  # (batch, tgt, units); no mask: the RNN is causal
        if self.coverage:  # recurrent in coverage: the scores loop over target positions
            context, attention, coverage = self.attention.attend_with_coverage(
                states, encoder_outputs, keys=keys, source_mask=source_mask)
        else:
            context, attention = self.attention(states, encoder_outputs, keys=keys, source_mask=source_mask)
            coverage = ops.cumsum(attention, axis=1) - attention  # (batch, tgt, src), exclusive cumsum
        log_probs = self._log_probs(states, context, embedded, attention, source_ids, targets=targets,
                                    training=training)
        key = "log_probs" if targets is None else "target_log_probs"
        return {key: log_probs, "attention": attention, "coverage": coverage}

    def step(self, prev_token_ids, *, state, encoder_outputs, keys, source_ids, coverage=None):
        """One decoding step (inference; no dropout).

        Args:
            prev_token_ids: (batch,) int, the previous token (BOS first).
            state: (batch, state_size), the encoder's state first, then the one this returned.
            encoder_outputs: (batch, src, mem_dim); keys: `precompute_keys(encoder_outputs)`.
            source_ids: (batch, src) int (the pad mask and the pointer's copy targets).
            coverage: (batch, src) float32 sum of earlier attention; None means zeros (the first step).

        Returns (log_probs (batch, vocab), new_state (batch, state_size), attention (batch, src),
        new_coverage (batch, src) = coverage + attention). Coverage is accumulated even when the attention
        does not use it, for coverage penalties in beam search.
        """
        source_mask = ops.not_equal(source_ids, PAD_ID)  # (batch, src)
        if coverage is None:
            coverage = ops.zeros_like(ops.cast(source_ids, "float32"))  # (batch, src)
        embedded = self.embedding(prev_token_ids)  # (batch, emb)
        output, new_states = self.rnn.cell(embedded, split_state(self.cell, state), training=False)
        # output (batch, units); new_states [h] or [h, c]
        context, attention = self.attention(
            output[:, None, :], encoder_outputs, keys=keys, source_mask=source_mask,
            coverage=coverage[:, None, :] if self.coverage else None)  # (batch, 1, mem_dim), (batch, 1, src)
        log_probs = self._log_probs(output[:, None, :], context, embedded[:, None, :], attention, source_ids,
                                    training=False)  # (batch, 1, vocab)
        attention = attention[:, 0, :]
        return log_probs[:, 0, :], merge_state(self.cell, new_states), attention, coverage + attention

    def _log_probs(self, states, context, embedded, attention, source_ids, *, training, targets=None):
        """[s_t; c_t] -> vocabulary logits -> final log-probabilities (batch, tgt, vocab), float32; those of
        `targets` alone (batch, tgt) when targets are given."""
        features = self.output_dropout(ops.concatenate([states, ops.cast(context, states.dtype)], axis=-1),
                                       training=training)  # (batch, tgt, units + mem_dim)
        hidden = self.projection(features)  # (batch, tgt, emb) tied, (batch, tgt, units) untied
        if self.tie_embeddings:
            matrix = ops.cast(self.embedding.embeddings, hidden.dtype)  # (vocab, emb)
            logits = ops.einsum("bte,ve->btv", hidden, matrix) + ops.cast(self.output_bias, hidden.dtype)
        else:
            logits = self.output_layer(hidden)  # (batch, tgt, vocab)
        return output_log_probs(logits, pointer=self.pointer, targets=targets, attention=attention,
                                context=context, state=states, embedded=embedded, source_ids=source_ids)

    def get_config(self):
        config = super().get_config()
        config.update({
            "embedding": serialize_layer(self.embedding),
            "attention": serialize_layer(self.attention),
            "units": self.units,
            "cell": self.cell,
            "tie_embeddings": self.tie_embeddings,
            "dropout": self.dropout,
            "pointer": serialize_layer(self.pointer),
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("embedding", "attention", "pointer"):
            config[key] = deserialize_layer(config.get(key))
        return cls(**config)
