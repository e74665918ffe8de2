"""The summarization model: a Seq2Seq composed from the parts passed in, and `build_seq2seq` from the config.

How to train it (no custom train_step needed):

    model = build_seq2seq(config.model, vocab_size, coverage_loss_weight=config.train.coverage_loss_weight)
    model.compile(optimizer=..., loss=MaskedNLL(label_smoothing=config.train.label_smoothing))
    model.fit(dataset)  # elements: ({"article_ids": (batch, src), "summary_in": (batch, tgt)}, summary_out)

  article_ids  (batch, src) int   the article, pad 0, no BOS/EOS
  summary_in   (batch, tgt) int   BOS, y_1, ..., y_n, then pad 0    (the decoder's previous tokens)
  summary_out  (batch, tgt) int   y_1, ..., y_n, EOS, then pad 0    (the targets; same length as summary_in)

`model(inputs)` returns the final log-probabilities (batch, tgt, vocab), float32: log(P + 1e-10) of the
pointer-generator mix when model.pointer_generator, log_softmax of the vocabulary logits otherwise.
`MaskedNLL` averages -log P(y) over the non-pad targets.

Training fast path: `TargetScorer(model)` (model/target_scorer.py), fed the targets among its inputs,
returns only log P(y_t) (batch, tgt) for `TargetNLL`. When model.coverage is on and
coverage_loss_weight > 0, call() (and the scorer's) also adds `coverage_loss_weight * coverage_loss(...)` (averaged over non-pad
target positions, mask = summary_in != 0) with `self.add_loss`, so Keras's fit/evaluate add it to the loss
they report and minimise. With coverage off no coverage loss is added, whatever the weight.

A custom train step (or analysis) uses `forward(inputs, training=True)`, which returns the dict
{"log_probs", "attention", "coverage"} (see `AttentionDecoder.call`) and adds no loss; then
loss = masked_nll(summary_out, log_probs) + weight * coverage_loss(attention, coverage, summary_in != 0).

Decoding (greedy or beam search, in a loop the caller owns; every value is batch-major, so beams are made
by repeating each row and reordered with `ops.take(..., axis=0)`):

    memory = model.encode(article_ids)  # dict: encoder_outputs, keys, state, coverage, source_ids
    log_probs, state, attention, coverage = model.decode_step(prev_token_ids, **memory)  # BOS first
    # then pass state=state, coverage=coverage (and the same encoder_outputs/keys/source_ids) next step

`decode_step` gives the same distributions as `model(inputs)` position by position (tested to 1e-5).

Parts (OpenNMT-tf style, each a serializable layer): `Encoder` (model/encoder.py) and `AttentionDecoder`
(model/decoder.py) share one `keras.layers.Embedding`; the decoder owns its attention (model/attention.py) and
its optional `PointerGenerator` (model/pointer.py), because its single step must return final distributions.
Under a mixed policy (e.g. "mixed_bfloat16") attention weights, probabilities and losses stay float32.
"""

from __future__ import annotations

import copy

import keras
from keras import ops

from configs.schema import ModelConfig
from model.attention import BahdanauAttention, LuongAttention
from model.decoder import AttentionDecoder
from model.encoder import Encoder
from model.losses import coverage_loss
from model.pointer import PointerGenerator
from contract.records import PAD_ID

INPUT_KEYS = ("article_ids", "summary_in")
TARGETS_KEY = "summary_out"  # TargetScorer's extra input: score these targets only (training fast path)


class EncoderDecoder(keras.Model):
    """What every sumflow model shares (the RNN `Seq2Seq`, model/transformer.py's `TransformerSeq2Seq`): an
    encoder and a decoder sharing one embedding, `call` -> log-probabilities plus the coverage loss, and the
    search interface of model/decode.py:

        memory, state = model.init_search(article_ids, max_length=...)   # dicts of batch-major tensors
        log_probs, attention, state = model.search_step(tokens, position=step, memory=memory, state=state)

    `memory` stays fixed during the search (it holds "source_ids"); `state` is carried and, in beam search,
    reordered row by row (`keras.ops.take(..., axis=0)` on each of its tensors).
    Subclasses implement `forward(inputs, *, targets=None, training=None)`, `init_search` and `search_step`.
    """

    def __init__(self, *, encoder: keras.layers.Layer, decoder: keras.layers.Layer,
                 coverage_loss_weight: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if coverage_loss_weight < 0:
            raise ValueError(f"{type(self).__name__}: coverage_loss_weight must be >= 0 (got "
                             f"{coverage_loss_weight}); set train.coverage_loss_weight.")
        self.encoder = encoder
        self.decoder = decoder
        self.coverage_loss_weight = coverage_loss_weight

    def call(self, inputs, training=None):
        """-> log-probabilities (batch, tgt, vocab), whatever else `inputs` holds."""
        outputs = self.forward(inputs, training=training)
        self.add_coverage_loss(inputs, outputs)
        return outputs["log_probs"]

    def add_coverage_loss(self, inputs, outputs) -> None:
        """`add_loss` the weighted coverage loss of `forward`'s outputs, when coverage and its weight are on."""
        if not (self.decoder.coverage and self.coverage_loss_weight > 0):
            return
        mask = ops.not_equal(inputs["summary_in"], PAD_ID)  # (batch, tgt)
        self.add_loss(self.coverage_loss_weight * coverage_loss(outputs["attention"], outputs["coverage"], mask))

    @staticmethod
    def check_inputs(inputs) -> None:
        missing = [key for key in INPUT_KEYS if key not in inputs]
        if missing:
            raise ValueError(f"model inputs need keys {INPUT_KEYS}; missing {missing} (got {sorted(inputs)}).")

    def get_config(self):
        config = super().get_config()
        config.update({
            "encoder": keras.saving.serialize_keras_object(self.encoder),
            "decoder": keras.saving.serialize_keras_object(self.decoder),
            "coverage_loss_weight": self.coverage_loss_weight,
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        encoder_config = copy.deepcopy(config.pop("encoder"))
        decoder_config = copy.deepcopy(config.pop("decoder"))
        shared = _same_layer_config(encoder_config["config"]["embedding"], decoder_config["config"]["embedding"])
        encoder = keras.saving.deserialize_keras_object(encoder_config)
        if shared:  # restore the sharing: both parts get the encoder's embedding object
            decoder_config["config"]["embedding"] = encoder.embedding
        decoder = keras.saving.deserialize_keras_object(decoder_config)
        return cls(encoder=encoder, decoder=decoder, **config)


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
        return self.decoder(inputs["summary_in"], initial_state=memory["state"],
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


def _same_layer_config(a: dict, b: dict) -> bool:
    """Whether two serialized layers are one layer (same name and config; `.keras` saving also marks it)."""
    def strip(value):  # saving marks shared sub-objects (dtype policies, initializers) with ids: ignore them
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "shared_object_id"}
        if isinstance(value, (list, tuple)):
            return [strip(v) for v in value]
        return value

    return strip(a) == strip(b)


def build_seq2seq(config: ModelConfig, vocab_size: int, *, coverage_loss_weight: float = 0.0) -> Seq2Seq:
    """The model described by `config` over a vocabulary of `vocab_size` ids, built (weights created).

    One embedding is shared by the encoder, the decoder input and (model.tie_embeddings) the output layer.
    Pass coverage_loss_weight=config.train.coverage_loss_weight when training with model.fit.
    """
    if vocab_size <= 4:
        raise ValueError(f"build_seq2seq: vocab_size must exceed the 4 reserved ids (got {vocab_size}); read it "
                         "from the tokenizer model.")
    embedding = keras.layers.Embedding(vocab_size, config.embedding_dim, name="embedding")
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
    model = Seq2Seq(encoder=encoder, decoder=decoder, coverage_loss_weight=coverage_loss_weight, name="seq2seq")
    model.build({"article_ids": (None, None), "summary_in": (None, None)})
    return model
