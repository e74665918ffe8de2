"""The reference model of benchmarks/train.py: attention seq2seq trained the textbook way, one target step at a
time, as in the TensorFlow tutorial "Neural machine translation with attention" (the classic TF2 version).

Its structure is the tutorial's: an `Encoder` (embedding + GRU), a `BahdanauAttention` layer (Dense W1, W2, V),
a `Decoder` called once per target position inside a Python `for t in range(1, targ.shape[1])` loop within a
`tf.function` train step under `tf.GradientTape`, teacher forcing, and the tutorial's loss (per-step
cross-entropy with pad targets masked, summed over steps). TensorFlow only (tf.function + GradientTape).

Changes from the tutorial, so that the work matches sumflow's model (benchmarks/train.py) and the figure is an
honest one:
- Sizes: sumflow's (vocab, embedding, attention units, decoder units). The encoder is a bidirectional GRU
  with `encoder_units` per direction, like sumflow's, and its two final states go through a Dense + tanh
  "bridge" to the decoder's first state (See et al.'s reduce-states; the tutorial has one unidirectional GRU
  whose state is passed on directly).
- The decoder's GRU starts from the previous step's state. The tutorial's `Decoder.call` runs
  `self.gru(x)` with no initial state (a slip: the state reaches the next step only as the attention
  query); the cost is the same either way.
- variant "textbook" (the default of benchmarks/train.py): the attention keys W2(encoder outputs) are
  computed once per batch, not at every step; the decoder steps a `GRUCell` rather than calling a `GRU`
  layer on a length-1 sequence; and the output head is sumflow's size: Dense(embedding_dim, tanh) on
  [GRU output; context], then Dense(vocab) (the tutorial's Dense(vocab) on the 256-unit GRU output does
  twice the output-layer arithmetic of sumflow's tied 128-dimensional head).
- variant "literal": the tutorial as written, apart from the sizes, the bridge and the initial state:
  W2(encoder outputs) at every step, a `GRU` layer called per step, Dense(vocab) on the GRU output.

Not modelled, which favours the reference: no pointer-generator (sumflow scatters the attention into a
(batch, target, vocab) copy distribution), no coverage (sumflow's attention is a scan recurrent in coverage,
plus the coverage loss), no encoder or attention masking of pad positions, separate (untied) embeddings.
"""

from __future__ import annotations

import keras
import tensorflow as tf

VARIANTS = ("textbook", "literal")


class Encoder(keras.Model):
    """Embedding + bidirectional GRU; the final states of both directions bridged to the decoder's state."""

    def __init__(self, *, vocab_size: int, embedding_dim: int, enc_units: int, dec_units: int):
        super().__init__()
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim)
        self.gru = keras.layers.Bidirectional(keras.layers.GRU(
            enc_units, return_sequences=True, return_state=True, recurrent_initializer="glorot_uniform"))
        self.bridge = keras.layers.Dense(dec_units, activation="tanh")

    def call(self, x, training=None):
        x = self.embedding(x)  # (batch, src, emb)
        output, forward, backward = self.gru(x, training=training)  # (batch, src, 2 * enc_units), 2x (batch, enc)
        return output, self.bridge(tf.concat([forward, backward], axis=-1))  # state (batch, dec_units)


class BahdanauAttention(keras.layers.Layer):
    """score = V(tanh(W1(query) + W2(values))), softmax over source positions, weighted sum of the values."""

    def __init__(self, units: int):
        super().__init__()
        self.W1 = keras.layers.Dense(units)
        self.W2 = keras.layers.Dense(units)
        self.V = keras.layers.Dense(1)

    def call(self, query, values, keys=None):
        # query (batch, dec_units), values (batch, src, mem); keys = W2(values) when precomputed
        if keys is None:
            keys = self.W2(values)  # (batch, src, units): the tutorial recomputes this every step
        query_with_time_axis = tf.expand_dims(query, 1)  # (batch, 1, dec_units)
        score = self.V(tf.nn.tanh(self.W1(query_with_time_axis) + keys))  # (batch, src, 1)
        attention_weights = tf.nn.softmax(score, axis=1)  # (batch, src, 1)
        context_vector = tf.reduce_sum(attention_weights * values, axis=1)  # (batch, mem)
        return context_vector, attention_weights


class Decoder(keras.Model):
    """One target step: attention with the previous state as query, GRU on [context; embedded token], logits."""

    def __init__(self, *, vocab_size: int, embedding_dim: int, dec_units: int, attention_units: int,
                 variant: str):
        super().__init__()
        if variant not in VARIANTS:
            raise ValueError(f"Decoder: variant must be one of {VARIANTS} (got {variant!r}).")
        self.variant = variant
        self.embedding = keras.layers.Embedding(vocab_size, embedding_dim)
        self.attention = BahdanauAttention(attention_units)
        if variant == "literal":
            self.gru = keras.layers.GRU(dec_units, return_sequences=True, return_state=True,
                                        recurrent_initializer="glorot_uniform")
            self.projection = None
        else:
            self.cell = keras.layers.GRUCell(dec_units, recurrent_initializer="glorot_uniform")
            self.projection = keras.layers.Dense(embedding_dim, activation="tanh")
        self.fc = keras.layers.Dense(vocab_size)

    def call(self, x, hidden, enc_output, keys=None):
        # x (batch, 1) previous token ids, hidden (batch, dec_units), enc_output (batch, src, mem)
        context_vector, attention_weights = self.attention(hidden, enc_output, keys=keys)
        x = self.embedding(x)  # (batch, 1, emb)
        x = tf.concat([tf.expand_dims(context_vector, 1), x], axis=-1)  # (batch, 1, mem + emb)
        if self.variant == "literal":
            output, state = self.gru(x, initial_state=hidden)  # (batch, 1, dec_units), (batch, dec_units)
            features = tf.reshape(output, (-1, output.shape[2]))  # (batch, dec_units)
        else:
            output, [state] = self.cell(x[:, 0, :], [hidden])  # (batch, dec_units) each
            features = self.projection(tf.concat([output, context_vector], axis=-1))  # (batch, emb)
        return self.fc(features), state, attention_weights  # logits (batch, vocab)


class ReferenceTrainer:
    """Encoder + Decoder + optimizer, and the tutorial's `train_step(inp, targ) -> batch loss`.

    targ is (batch, tgt + 1): BOS, then the targets (y_1, ..., y_n, EOS, pad); step t feeds targ[:, t - 1]
    (teacher forcing) and predicts targ[:, t], so tgt positions are predicted, as many as sumflow's model.
    """

    def __init__(self, *, vocab_size: int, embedding_dim: int, encoder_units: int, decoder_units: int,
                 attention_units: int, variant: str, optimizer: keras.optimizers.Optimizer, jit_compile: bool):
        self.encoder = Encoder(vocab_size=vocab_size, embedding_dim=embedding_dim, enc_units=encoder_units,
                               dec_units=decoder_units)
        self.decoder = Decoder(vocab_size=vocab_size, embedding_dim=embedding_dim, dec_units=decoder_units,
                               attention_units=attention_units, variant=variant)
        self.optimizer = optimizer
        self.loss_object = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
        self._build()
        self.train_step = tf.function(self._train_step, jit_compile=jit_compile)

    def _build(self):
        """Create every variable eagerly, so the traced step creates none."""
        inp = tf.fill((1, 2), 4)
        enc_output, hidden = self.encoder(inp)
        keys = None if self.decoder.variant == "literal" else self.decoder.attention.W2(enc_output)
        self.decoder(inp[:, :1], hidden, enc_output, keys=keys)
        self.optimizer.build(self.variables)

    @property
    def variables(self):
        return self.encoder.trainable_variables + self.decoder.trainable_variables

    def loss_function(self, real, pred):
        mask = tf.math.logical_not(tf.math.equal(real, 0))
        loss_ = self.loss_object(real, pred)  # (batch,)
        loss_ *= tf.cast(mask, dtype=loss_.dtype)
        return tf.reduce_mean(loss_)

    def _train_step(self, inp, targ):
        loss = 0.0
        with tf.GradientTape() as tape:
            enc_output, dec_hidden = self.encoder(inp, training=True)
            keys = None if self.decoder.variant == "literal" else self.decoder.attention.W2(enc_output)
            dec_input = tf.expand_dims(targ[:, 0], 1)  # BOS
            for t in range(1, targ.shape[1]):
                predictions, dec_hidden, _ = self.decoder(dec_input, dec_hidden, enc_output, keys=keys)
                loss += self.loss_function(targ[:, t], predictions)
                dec_input = tf.expand_dims(targ[:, t], 1)  # teacher forcing
        batch_loss = loss / int(targ.shape[1])
        variables = self.variables
        gradients = tape.gradient(loss, variables)
        self.optimizer.apply_gradients(zip(gradients, variables))
        return batch_loss
