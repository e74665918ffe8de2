"""The RNN summarizer: `Seq2Seq` (bidirectional RNN encoder -> attention decoder with its optional
pointer-generator, sharing one embedding) and `build_seq2seq` from the config.

Parts (OpenNMT-tf style, each a serializable layer): `Encoder` (model/rnn_encoder.py) and `AttentionDecoder`
(model/rnn_decoder.py) share one `keras.layers.Embedding`; the decoder owns its attention (model/rnn_attention.py)
and its optional `PointerGenerator` (model/pointer.py), because its single step must return final distributions.
Training and the search interface are `EncoderDecoder`'s (model/encoder_decoder.py).

The RNN's own single step, under `search_step`:

    memory = model.encode(article_ids)  # dict: encoder_outputs, keys, state, coverage, source_ids
    log_probs, state, attention, coverage = model.decode_step(prev_token_ids, **memory)  # BOS first
    # then pass state=state, coverage=coverage (and the same encoder_outputs/keys/source_ids) next step

`decode_step` gives the same distributions as `model(inputs)` position by position (tested to 1e-5).
"""

from __future__ import annotations

import keras
from keras import ops

from configs.schema import ModelConfig
from model.encoder_decoder import EncoderDecoder, shared_embedding
from model.pointer import PointerGenerator
from model.rnn_attention import BahdanauAttention, LuongAttention
from model.rnn_decoder import AttentionDecoder
from model.rnn_encoder import Encoder


@keras.saving.register_keras_serializable(package="sumflow")
class Seq2Seq(EncoderDecoder):
    """Encoder -> attention decoder (with its attention and optional pointer), sharing one embedding.

    Args:
        encoder: an `Encoder`.
        decoder: an `AttentionDecoder`; its cell and units must match the encoder's cell and decoder_units.
        coverage_loss_weight: weight of the coverage loss that call() adds when the attention uses coverage
            (train.coverage_loss_weight); 0 adds none.
    """

    def __init__(self, *, encoder: Encoder, decoder: AttentionDecoder, coverage_loss_weight: float = 0.0,
                 **kwargs):
        if encoder.cell != decoder.cell or encoder.decoder_units != decoder.units:
            raise ValueError(
                f"Seq2Seq: the encoder bridges to a {encoder.cell} state of {encoder.decoder_units} units but the "
                f"decoder is a {decoder.cell} of {decoder.units} units; build both from one model.cell and "
                "model.decoder_units.")
        super().__init__(encoder=encoder, decoder=decoder, coverage_loss_weight=coverage_loss_weight, **kwargs)

    def build(self, input_shape):
        article_shape = tuple(input_shape["article_ids"])
        summary_shape = tuple(input_shape["summary_in"])
        if not self.encoder.built:
            self.encoder.build(article_shape)
        if not self.decoder.built:
            self.decoder.build(summary_shape, (article_shape[0], article_shape[1], self.encoder.output_dim))

    def forward(self, inputs, *, targets=None, training=None) -> dict:
        """{"log_probs", "attention", "coverage"} for the whole target (see `AttentionDecoder.call`); given
        `targets` (batch, tgt), "target_log_probs" (batch, tgt) instead of "log_probs"."""
        self.check_inputs(inputs)
        memory = self.encode(inputs["article_ids"], training=training)
        return self.decoder(self.decoder_inputs(inputs, training), initial_state=memory["state"],
                            encoder_outputs=memory["encoder_outputs"], source_ids=memory["source_ids"],
                            keys=memory["keys"], targets=targets, training=training)

    def encode(self, article_ids, *, training=False) -> dict:
        """Everything the decoding steps need, batch-major.

        Returns {"encoder_outputs": (batch, src, 2 * encoder_units), "keys": attention keys (batch, src, k),
        "state": (batch, state_size), "coverage": zeros (batch, src) float32, "source_ids": (batch, src)}.
        """
        encoder_outputs, state = self.encoder(article_ids, training=training)
        return {
            "encoder_outputs": encoder_outputs,
            "keys": self.decoder.precompute_keys(encoder_outputs),
            "state": state,
            "coverage": ops.zeros_like(ops.cast(article_ids, "float32")),
            "source_ids": article_ids,
        }

    def decode_step(self, prev_token_ids, *, state, encoder_outputs, keys, source_ids, coverage):
        """`AttentionDecoder.step`: -> (log_probs (batch, vocab), state, attention (batch, src), coverage)."""
        return self.decoder.step(prev_token_ids, state=state, encoder_outputs=encoder_outputs, keys=keys,
                                 source_ids=source_ids, coverage=coverage)

    def init_search(self, article_ids, *, max_length: int, cache: bool = True):
        """(memory, state) for model/decode.py; the RNN's state is its recurrent state and coverage."""
        encoded = self.encode(article_ids)
        memory = {key: encoded[key] for key in ("encoder_outputs", "keys", "source_ids")}
        return memory, {"state": encoded["state"], "coverage": encoded["coverage"]}

    def search_step(self, tokens, *, position, memory, state):
        log_probs, new_state, attention, coverage = self.decode_step(tokens, state=state["state"],
                                                                     coverage=state["coverage"], **memory)
        return log_probs, attention, {"state": new_state, "coverage": coverage}


def build_seq2seq(config: ModelConfig, vocab_size: int, *, coverage_loss_weight: float = 0.0) -> Seq2Seq:
    """The model described by `config` over a vocabulary of `vocab_size` ids, built (weights created).

    One embedding is shared by the encoder, the decoder input and (model.tie_embeddings) the output layer.
    Pass coverage_loss_weight=config.train.coverage_loss_weight when training with model.fit.
    """
    if vocab_size <= 4:
        raise ValueError(f"build_seq2seq: vocab_size must exceed the 4 reserved ids (got {vocab_size}); read it "
                         "from the tokenizer model.")
    embedding = shared_embedding(config, vocab_size)
    encoder = Encoder(embedding=embedding, units=config.encoder_units, decoder_units=config.decoder_units,
                      cell=config.cell, dropout=config.dropout, name="encoder")
    if config.attention == "bahdanau":
        attention = BahdanauAttention(units=config.attention_units, coverage=config.coverage, name="attention")
    else:
        attention = LuongAttention(coverage=config.coverage, name="attention")
    pointer = PointerGenerator(name="pointer") if config.pointer_generator else None
    decoder = AttentionDecoder(embedding=embedding, attention=attention, units=config.decoder_units,
                               cell=config.cell, tie_embeddings=config.tie_embeddings, dropout=config.dropout,
                               pointer=pointer, name="decoder")
    model = Seq2Seq(encoder=encoder, decoder=decoder, coverage_loss_weight=coverage_loss_weight,
                    word_dropout=config.word_dropout, name="seq2seq")
    model.build({"article_ids": (None, None), "summary_in": (None, None)})
    return model
