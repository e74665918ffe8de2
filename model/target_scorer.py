"""`TargetScorer`: the training fast path of an `EncoderDecoder` (RNN or Transformer), a model whose output
is log P(targets) (batch, tgt).

With no label smoothing the loss needs only the targets' log-probabilities. Fed the targets among its inputs
(`inputs["summary_out"]`, as `sumflow train` feeds them), the scorer computes log P(y_t) without the
(batch, tgt, vocab) pointer-generator mix and its gradient (the pointer's copy term becomes a (batch, tgt, src)
match): the same numbers as gathering `seq2seq(inputs)` at the targets (tested). Train it with `TargetNLL`;
it shares the Seq2Seq's weights, so the trained Seq2Seq is what is saved and exported.
"""

from __future__ import annotations

import keras

from model.encoder_decoder import INPUT_KEYS, TARGETS_KEY, EncoderDecoder


@keras.saving.register_keras_serializable(package="sumflow")
class TargetScorer(keras.Model):
    """inputs {"article_ids", "summary_in", "summary_out"} -> log P(summary_out) (batch, tgt), float32."""

    def __init__(self, seq2seq: EncoderDecoder, **kwargs):
        super().__init__(**kwargs)
        self.seq2seq = seq2seq

    def build(self, input_shape):
        if not self.seq2seq.built:
            self.seq2seq.build({key: input_shape[key] for key in INPUT_KEYS})

    def call(self, inputs, training=None):
        if TARGETS_KEY not in inputs:
            raise ValueError(f"TargetScorer scores the targets given as inputs[{TARGETS_KEY!r}] (got "
                             f"{sorted(inputs)}); call the Seq2Seq itself for whole distributions.")
        outputs = self.seq2seq.forward(inputs, targets=inputs[TARGETS_KEY], training=training)
        self.seq2seq.add_coverage_loss(inputs, outputs)
        return outputs["target_log_probs"]

    def get_config(self):
        config = super().get_config()
        config["seq2seq"] = keras.saving.serialize_keras_object(self.seq2seq)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        return cls(seq2seq=keras.saving.deserialize_keras_object(config.pop("seq2seq")), **config)
