"""The Transformer summarizer (`model.architecture: transformer`): the same inputs, outputs, losses, training
fast path (model/target_scorer.py), decoding and export as the RNN `Seq2Seq`.

    model = build_transformer(config.model, vocab_size, coverage_loss_weight=...)
    model(inputs)  # {"article_ids", "summary_in"} -> log-probabilities (batch, tgt, vocab), float32

Parts: `TransformerEncoder` (model/transformer_encoder.py) and `TransformerDecoder`
(model/transformer_decoder.py) share one `keras.layers.Embedding`, which (model.tie_embeddings) is also the
output projection. Training runs the decoder over the whole target at once under a causal mask.

Decoding (model/decode.py) goes through `init_search` / `search_step` (see `EncoderDecoder`): the encoder
runs once, every block's cross-attention keys and values are projected once, and each step runs one position
against a key/value cache of the earlier ones. `init_search(..., cache=False)` instead re-runs the decoder
over the whole prefix at every step (TensorFlow only, for benchmarks/transformer.py's comparison).
"""

from __future__ import annotations

import keras
from keras import ops

from configs.schema import ModelConfig
from model.pointer import PointerGenerator
from model.encoder_decoder import EncoderDecoder, shared_embedding
from model.transformer_decoder import TransformerDecoder
from model.transformer_encoder import TransformerEncoder


@keras.saving.register_keras_serializable(package="sumflow")
class TransformerSeq2Seq(EncoderDecoder):
    """Args: encoder - a `TransformerEncoder`; decoder - a `TransformerDecoder` of the same model size;
    coverage_loss_weight - as `Seq2Seq`'s (used when decoder.coverage)."""

    def __init__(self, *, encoder: TransformerEncoder, decoder: TransformerDecoder,
                 coverage_loss_weight: float = 0.0, **kwargs):
        if encoder.output_dim != decoder.model_dim:
            raise ValueError(f"TransformerSeq2Seq: the encoder's size ({encoder.output_dim}) differs from the "
                             f"decoder's ({decoder.model_dim}); build both from one model.embedding_dim.")
        super().__init__(encoder=encoder, decoder=decoder, coverage_loss_weight=coverage_loss_weight, **kwargs)

    def build(self, input_shape):
        article_shape = tuple(input_shape["article_ids"])
        if not self.encoder.built:
            self.encoder.build(article_shape)
        if not self.decoder.built:
            self.decoder.build(tuple(input_shape["summary_in"]),
                               (article_shape[0], article_shape[1], self.encoder.output_dim))

    def forward(self, inputs, *, targets=None, training=None) -> dict:
        """{"log_probs" | "target_log_probs", "attention", "coverage"}: see `TransformerDecoder.call`."""
        self.check_inputs(inputs)
        memory = self.encoder(inputs["article_ids"], training=training)  # (batch, src, d)
        return self.decoder(self.decoder_inputs(inputs, training), memory=memory, source_ids=inputs["article_ids"],
                            targets=targets, training=training)

    def init_search(self, article_ids, *, max_length: int, cache: bool = True):
        memory = self.encoder(article_ids, training=False)  # (batch, src, d)
        rows = ops.shape(article_ids)[0]
        if not cache:
            return {"encoder_outputs": memory, "source_ids": article_ids}, {
                "history": ops.zeros((rows, max_length), "int32")}
        projected = self.decoder.project_memory(memory)  # cross_keys (batch, layers, src, heads, head_dim), ...
        empty = ops.zeros(self.decoder.cache_shape(rows, max_length), projected["cross_keys"].dtype)
        return {**projected, "source_ids": article_ids}, {"keys": empty, "values": empty}

    def search_step(self, tokens, *, position, memory, state):
        if "history" in state:
            return self._uncached_step(tokens, position=position, memory=memory, history=state["history"])
        log_probs, attention, keys, values = self.decoder.step(
            tokens, position=position, cache_keys=state["keys"], cache_values=state["values"], **memory)
        return log_probs, attention, {"keys": keys, "values": values}

    def _uncached_step(self, tokens, *, position, memory, history):
        """The whole prefix through the decoder again, keeping its last position (no cache)."""
        max_length = ops.shape(history)[1]
        history = ops.where(ops.equal(ops.arange(max_length), position)[None, :], tokens[:, None], history)
        prefix = ops.slice(history, (0, 0), (ops.shape(history)[0], position + 1))  # (batch, position + 1)
        out = self.decoder(prefix, memory=memory["encoder_outputs"], source_ids=memory["source_ids"])
        return out["log_probs"][:, -1], out["attention"][:, -1], {"history": history}


def build_transformer(config: ModelConfig, vocab_size: int, *, coverage_loss_weight: float = 0.0
                      ) -> TransformerSeq2Seq:
    """The Transformer described by `config` (embedding_dim is the model size), built (weights created)."""
    embedding = shared_embedding(config, vocab_size)
    sizes = dict(num_layers=config.layers, heads=config.heads, feed_forward_dim=config.feed_forward_dim,
                 dropout=config.dropout, activation_dropout=config.activation_dropout,
                 attention_dropout=None if config.attention_dropout == -1.0 else config.attention_dropout)
    encoder = TransformerEncoder(embedding=embedding, name="encoder", **sizes)
    pointer = PointerGenerator(name="pointer") if config.pointer_generator else None
    decoder = TransformerDecoder(embedding=embedding, tie_embeddings=config.tie_embeddings, pointer=pointer,
                                 coverage=config.coverage, name="decoder", **sizes)
    model = TransformerSeq2Seq(encoder=encoder, decoder=decoder, coverage_loss_weight=coverage_loss_weight,
                               word_dropout=config.word_dropout, name="transformer")
    model.build({"article_ids": (None, None), "summary_in": (None, None)})
    return model
