"""Training losses over final log-probabilities: masked NLL (with label smoothing), its fast form over the
targets' log-probabilities alone (`TargetScorer`'s output), and the coverage loss.

Both average over the non-pad target positions of the batch (targets with id 0 are pad), so a batch's loss
does not depend on how much padding it carries. Under a tf.distribute strategy the Keras losses return their
replica's share (`replica_share`): Keras sums the replicas' gradients and reports the loss times the number of
replicas, so without it two replicas train on twice the gradient and report twice the loss.
"""

from __future__ import annotations

import keras
from keras import ops

from contract.records import PAD_ID


def _masked_mean(values, mask):
    """Mean of values (batch, tgt) over positions where mask (batch, tgt) is true; 0 for an all-pad batch."""
    mask = ops.cast(mask, values.dtype)
    return ops.sum(values * mask) / ops.maximum(ops.sum(mask), 1.0)


def take_targets(values, targets):
    """values (batch, tgt, vocab) at the target ids (batch, tgt) -> (batch, tgt)."""
    return ops.take_along_axis(values, ops.cast(targets, "int32")[:, :, None], axis=-1)[:, :, 0]


def target_log_softmax(logits, targets):
    """log_softmax(logits) at the targets alone, float32 (batch, tgt): logit_y - logsumexp(logits), without the
    (batch, tgt, vocab) log-probabilities."""
    logits = ops.cast(logits, "float32")
    return take_targets(logits, targets) - ops.logsumexp(logits, axis=-1)


def masked_nll(targets, log_probs, *, label_smoothing: float = 0.0):
    """Token-level negative log-likelihood, averaged over non-pad targets.

    Args:
        targets: (batch, tgt) int, the reference tokens y_1, ..., y_n, EOS, then pad (0).
        log_probs: (batch, tgt, vocab) final log-probabilities (what the Seq2Seq returns).
        label_smoothing: eps; each token's loss is (1 - eps) * -log P(y) + eps * mean_w(-log P(w)).
    Returns a scalar float32.
    """
    if not 0.0 <= label_smoothing < 1.0:
        raise ValueError(f"masked_nll: label_smoothing must be in [0, 1) (got {label_smoothing}).")
    if len(log_probs.shape) != 3:
        raise ValueError(f"masked_nll: log_probs must be (batch, tgt, vocab) (got shape {log_probs.shape}); "
                         "the targets' log-probabilities alone go to target_nll.")
    log_probs = ops.cast(log_probs, "float32")
    targets = ops.cast(targets, "int32")
    token_loss = -take_targets(log_probs, targets)  # (batch, tgt)
    if label_smoothing > 0.0:
        token_loss = (1.0 - label_smoothing) * token_loss - label_smoothing * ops.mean(log_probs, axis=-1)
    return _masked_mean(token_loss, ops.not_equal(targets, PAD_ID))


def target_nll(targets, target_log_probs):
    """`masked_nll` without label smoothing, from the targets' log-probabilities (batch, tgt) alone."""
    if len(target_log_probs.shape) != 2:
        raise ValueError(f"target_nll: target_log_probs must be (batch, tgt) (got shape {target_log_probs.shape}).")
    return _masked_mean(-ops.cast(target_log_probs, "float32"), ops.not_equal(ops.cast(targets, "int32"), PAD_ID))


def coverage_loss(attention, coverage, mask):
    """See et al. 2017: sum_i min(a_t,i, cov_t,i), averaged over non-pad target positions.

    Args:
        attention: (batch, tgt, src) a_t.
        coverage: (batch, tgt, src) cov_t, the sum of the attention of steps before t.
        mask: (batch, tgt), true on real target positions (e.g. `targets != 0`).
    Returns a scalar float32.
    """
    attention = ops.cast(attention, "float32")
    coverage = ops.cast(coverage, "float32")
    per_position = ops.sum(ops.minimum(attention, coverage), axis=-1)  # (batch, tgt)
    return _masked_mean(per_position, mask)


def replica_share(loss):
    """A scalar loss divided by the number of replicas training in sync (tf.distribute; 1 elsewhere).

    Keras (3.15, TensorFlow backend) divides a loss of per-example values by the replica count itself, but
    passes a scalar loss through: ours are scalars (token means), so they divide here. The gradient is then the
    mean of the replicas' token-mean gradients, and the reported loss the mean of their losses.
    """
    if keras.backend.backend() != "tensorflow":
        return loss
    import tensorflow as tf

    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    return loss if replicas == 1 else loss * (1.0 / replicas)


@keras.saving.register_keras_serializable(package="sumflow")
class MaskedNLL(keras.losses.Loss):
    """`masked_nll` as a Keras loss for `model.compile(loss=...)`: y_true (batch, tgt) ids, y_pred log-probs.

    Returns the batch's token-averaged loss (a scalar) directly; sample weights are not supported.
    """

    def __init__(self, *, label_smoothing: float = 0.0, name: str = "masked_nll", **kwargs):
        super().__init__(name=name, **kwargs)
        if not 0.0 <= label_smoothing < 1.0:
            raise ValueError(f"MaskedNLL: label_smoothing must be in [0, 1) (got {label_smoothing}); "
                             "set train.label_smoothing.")
        self.label_smoothing = label_smoothing

    def call(self, y_true, y_pred):
        return replica_share(masked_nll(y_true, y_pred, label_smoothing=self.label_smoothing))

    def get_config(self):
        config = super().get_config()
        config.update({"label_smoothing": self.label_smoothing})
        return config


@keras.saving.register_keras_serializable(package="sumflow")
class TargetNLL(keras.losses.Loss):
    """`target_nll` as a Keras loss: y_true (batch, tgt) ids, y_pred `TargetScorer`'s (batch, tgt) log P(y)."""

    def __init__(self, *, name: str = "target_nll", **kwargs):
        super().__init__(name=name, **kwargs)

    def call(self, y_true, y_pred):
        return replica_share(target_nll(y_true, y_pred))
