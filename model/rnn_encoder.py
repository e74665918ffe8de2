"""The bidirectional RNN encoder and the bridge from its final states to the decoder's initial state."""

from __future__ import annotations

import keras
from keras import ops

from model.rnn_state import check_cell, merge_state, rnn_layer, state_size
from model.serialization import deserialize_layer, serialize_layer
from contract.records import PAD_ID


@keras.saving.register_keras_serializable(package="sumflow")
class Encoder(keras.layers.Layer):
    """Embeds source ids, runs a bidirectional GRU/LSTM with pad (id 0) masked, and bridges to the decoder.

    Args:
        embedding: the (shared) `keras.layers.Embedding` that looks up source ids.
        units: RNN units per direction (model.encoder_units).
        decoder_units: size of the decoder state the bridge projects to (model.decoder_units).
        cell: "gru" or "lstm" (model.cell); also decides the decoder state layout (model/rnn_state.py).
        dropout: dropout rate on the embedded source (model.dropout).

    call(source_ids (batch, src) int, training) -> (outputs (batch, src, 2 * units), state (batch, state_size)).
    Outputs at pad positions are meaningless: attention masks them.
    """

    def __init__(self, *, embedding: keras.layers.Layer, units: int, decoder_units: int, cell: str,
                 dropout: float, **kwargs):
        super().__init__(**kwargs)
        check_cell(cell, "Encoder")
        if units <= 0 or decoder_units <= 0:
            raise ValueError(f"Encoder: units ({units}) and decoder_units ({decoder_units}) must be > 0; set "
                             "model.encoder_units and model.decoder_units.")
        self.embedding = embedding
        self.units = units
        self.decoder_units = decoder_units
        self.cell = cell
        self.dropout = dropout
        self.embedding_dropout = keras.layers.Dropout(dropout, name="embedding_dropout")
        self.rnn = keras.layers.Bidirectional(rnn_layer(cell, units), name="birnn")
        # See et al. 2017 "reduce states": the final states of both directions -> the decoder's state.
        self.bridge_h = keras.layers.Dense(decoder_units, activation="tanh", name="bridge_h")
        self.bridge_c = keras.layers.Dense(decoder_units, name="bridge_c") if cell == "lstm" else None

    @property
    def output_dim(self) -> int:
        return 2 * self.units

    @property
    def state_size(self) -> int:
        return state_size(self.cell, self.decoder_units)

    def build(self, source_ids_shape):
        batch, source_len = source_ids_shape[0], source_ids_shape[1]
        if not self.embedding.built:
            self.embedding.build(source_ids_shape)
        self.rnn.build((batch, source_len, self.embedding.output_dim))
        self.bridge_h.build((batch, 2 * self.units))
        if self.bridge_c is not None:
            self.bridge_c.build((batch, 2 * self.units))

    def call(self, source_ids, training=None):
        source_mask = ops.not_equal(source_ids, PAD_ID)  # (batch, src)
        embedded = self.embedding_dropout(self.embedding(source_ids), training=training)  # (batch, src, emb)
        outputs, *final_states = self.rnn(embedded, mask=source_mask, training=training)
        # outputs (batch, src, 2 * units); final_states: fw [h, (c)] then bw [h, (c)], each (batch, units)
        if self.cell == "gru":
            forward_h, backward_h = final_states
            return outputs, self.bridge_h(ops.concatenate([forward_h, backward_h], axis=-1))
        forward_h, forward_c, backward_h, backward_c = final_states
        h = self.bridge_h(ops.concatenate([forward_h, backward_h], axis=-1))  # (batch, decoder_units)
        c = self.bridge_c(ops.concatenate([forward_c, backward_c], axis=-1))  # (batch, decoder_units)
        return outputs, merge_state(self.cell, [h, c])  # (batch, 2 * decoder_units)

    def get_config(self):
        config = super().get_config()
        config.update({
            "embedding": serialize_layer(self.embedding),
            "units": self.units,
            "decoder_units": self.decoder_units,
            "cell": self.cell,
            "dropout": self.dropout,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["embedding"] = deserialize_layer(config["embedding"])
        return cls(**config)
