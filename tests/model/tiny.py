"""The tiny model the model tests build (vocab 50, source 9, target 7: the shapes of conftest.tiny_batch)."""

from configs.schema import ModelConfig

VOCAB = 50


def tiny_config(**overrides) -> ModelConfig:
    values = dict(embedding_dim=8, encoder_units=8, decoder_units=12, attention_units=10, max_source_tokens=9,
                  max_target_tokens=7)
    values.update(overrides)
    return ModelConfig(**values)
