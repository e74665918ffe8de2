import numpy as np
import pytest

from configs.schema import ModelConfig
from model.build import build_model
from model.copy_gate import mean_generation_probability

SIZES = dict(embedding_dim=8, encoder_units=6, decoder_units=10, attention_units=6, layers=1, heads=2,
             feed_forward_dim=16)


@pytest.mark.parametrize("architecture", ["rnn", "transformer"])
def test_the_mean_follows_the_gate(architecture, tiny_batch):
    model = build_model(ModelConfig(architecture=architecture, **SIZES), 50)
    pointer = model.decoder.pointer
    middle = mean_generation_probability(model, [tiny_batch])
    assert 0.0 < middle < 1.0
    pointer.bias.assign(30.0)  # p_gen = sigmoid(... + 30): generation only
    assert mean_generation_probability(model, [tiny_batch]) == pytest.approx(1.0, abs=1e-6)
    pointer.bias.assign(-30.0)  # copying only
    assert mean_generation_probability(model, [tiny_batch, tiny_batch]) == pytest.approx(0.0, abs=1e-6)
    assert "generation_probability" not in vars(pointer)  # the method is the class's again


def test_a_model_without_a_pointer_is_refused(tiny_batch):
    model = build_model(ModelConfig(pointer_generator=False, **SIZES), 50)
    with pytest.raises(ValueError, match="no pointer"):
        mean_generation_probability(model, [tiny_batch])
