"""What every sumflow model shares: `EncoderDecoder`, an encoder and a decoder over one embedding, and the
input keys of the model contract.

How to train a model built by `model.build.build_model` (no custom train_step needed):

    model = build_model(config.model, vocab_size, coverage_loss_weight=config.train.coverage_loss_weight)
    model.compile(optimizer=..., loss=MaskedNLL(label_smoothing=config.train.label_smoothing))
    model.fit(dataset)  # elements: ({"article_ids": (batch, src), "summary_in": (batch, tgt)}, summary_out)

  article_ids  (batch, src) int   the article, pad 0, no BOS/EOS
  summary_in   (batch, tgt) int   BOS, y_1, ..., y_n, then pad 0    (the decoder's previous tokens)
  summary_out  (batch, tgt) int   y_1, ..., y_n, EOS, then pad 0    (the targets; same length as summary_in)

`model(inputs)` returns the final log-probabilities (batch, tgt, vocab), float32: log(P + 1e-10) of the
pointer-generator mix when model.pointer_generator, log_softmax of the vocabulary logits otherwise.
`MaskedNLL` averages -log P(y) over the non-pad targets.

Training fast path: `TargetScorer(model)` (model/target_scorer.py), fed the targets among its inputs,
returns only log P(y_t) (batch, tgt) for `TargetNLL`. When the decoder has coverage and
coverage_loss_weight > 0, call() (and the scorer's) also adds `coverage_loss_weight * coverage_loss(...)`
(averaged over non-pad target positions, mask = summary_in != 0) with `self.add_loss`, so Keras's
fit/evaluate add it to the loss they report and minimise.

A custom train step (or analysis) uses `forward(inputs, training=True)`, which returns the dict
{"log_probs", "attention", "coverage"} and adds no loss; then
loss = masked_nll(summary_out, log_probs) + weight * coverage_loss(attention, coverage, summary_in != 0).

Decoding (greedy and beam search, model/decode.py) goes through `init_search` / `search_step`, the same for
every architecture; see `EncoderDecoder`. Under a mixed policy (e.g. "mixed_bfloat16") attention weights,
probabilities and losses stay float32.
"""

from __future__ import annotations

import copy

import keras
from keras import ops

from configs.schema import ModelConfig
from contract.records import BOS_ID, PAD_ID, UNK_ID
from model.losses import coverage_loss

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
                 coverage_loss_weight: float = 0.0, word_dropout: float = 0.0, **kwargs):
        super().__init__(**kwargs)
        if coverage_loss_weight < 0:
            raise ValueError(f"{type(self).__name__}: coverage_loss_weight must be >= 0 (got "
                             f"{coverage_loss_weight}); set train.coverage_loss_weight.")
        if not 0.0 <= word_dropout < 1.0:
            raise ValueError(f"{type(self).__name__}: word_dropout must be in [0, 1) (got {word_dropout}); set "
                             "model.word_dropout.")
        self.encoder = encoder
        self.decoder = decoder
        self.coverage_loss_weight = coverage_loss_weight
        self.word_dropout = word_dropout
        # Only with word dropout: a model without it keeps exactly the variables it always had.
        self._word_seeds = keras.random.SeedGenerator(0, name="word_dropout_seed") if word_dropout else None

    def decoder_inputs(self, inputs, training=None):
        """summary_in, where training with word dropout: each token but BOS and pad becomes <unk> with
        probability word_dropout (the decoder learns to lean on the source, not only on its own prefix)."""
        ids = inputs["summary_in"]
        if not (training and self.word_dropout):
            return ids
        dropped = ops.less(keras.random.uniform(ops.shape(ids), seed=self._word_seeds), self.word_dropout)
        dropped = ops.logical_and(dropped, ops.logical_and(ops.not_equal(ids, PAD_ID), ops.not_equal(ids, BOS_ID)))
        return ops.where(dropped, ops.full_like(ids, UNK_ID), ids)  # (batch, tgt)

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
            "word_dropout": self.word_dropout,
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


def _same_layer_config(a: dict, b: dict) -> bool:
    """Whether two serialized layers are one layer (same name and config; `.keras` saving also marks it)."""
    def strip(value):  # saving marks shared sub-objects (dtype policies, initializers) with ids: ignore them
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "shared_object_id"}
        if isinstance(value, (list, tuple)):
            return [strip(v) for v in value]
        return value

    return strip(a) == strip(b)


def shared_embedding(config: ModelConfig, vocab_size: int) -> keras.layers.Embedding:
    """The one embedding the encoder, the decoder input and (model.tie_embeddings) the output layer share."""
    initializer = (keras.initializers.RandomNormal(stddev=config.embedding_dim ** -0.5)
                   if config.embedding_init == "normal" else "uniform")
    return keras.layers.Embedding(vocab_size, config.embedding_dim, embeddings_initializer=initializer,
                                  name="embedding")
