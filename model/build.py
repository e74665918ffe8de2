"""`build_model`: the summarizer of `model.architecture` (importing this registers every model's layers, so that
`keras.saving.load_model` can read any sumflow model.keras)."""

from __future__ import annotations

from configs.schema import ModelConfig
from model.encoder_decoder import EncoderDecoder
from model.rnn_seq2seq import build_seq2seq
from model.transformer import build_transformer


def build_model(config: ModelConfig, vocab_size: int, *, coverage_loss_weight: float = 0.0) -> EncoderDecoder:
    """The built model of `config` over `vocab_size` ids: an RNN `Seq2Seq` or a `TransformerSeq2Seq`."""
    if vocab_size <= 4:
        raise ValueError(f"build_model: vocab_size must exceed the 4 reserved ids (got {vocab_size}); read it "
                         "from the tokenizer model.")
    build = build_transformer if config.architecture == "transformer" else build_seq2seq
    return build(config, vocab_size, coverage_loss_weight=coverage_loss_weight)
