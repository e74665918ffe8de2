import math

import keras
import numpy as np
import pytest

from model.losses import MaskedNLL, TargetNLL, coverage_loss, masked_nll, target_nll


def _log_probs():
    probs = np.array([[[0.5, 0.25, 0.25], [0.1, 0.1, 0.8], [0.2, 0.4, 0.4]]], "float32")  # (1, 3, 3)
    return np.log(probs)


def test_masked_nll_averages_over_non_pad_targets():
    targets = np.array([[1, 2, 0]], "int32")  # the last position is pad
    got = float(masked_nll(targets, _log_probs()))
    assert got == pytest.approx((-math.log(0.25) - math.log(0.8)) / 2, abs=1e-6)


def test_label_smoothing():
    targets = np.array([[1, 0]], "int32")
    log_probs = _log_probs()[:, :2]
    eps = 0.1
    smooth = -np.mean(log_probs[0, 0])
    expected = (1 - eps) * -math.log(0.25) + eps * smooth
    assert float(masked_nll(targets, log_probs, label_smoothing=eps)) == pytest.approx(expected, abs=1e-6)
    with pytest.raises(ValueError, match="label_smoothing"):
        masked_nll(targets, log_probs, label_smoothing=1.0)


def test_all_pad_batch_gives_zero():
    assert float(masked_nll(np.zeros((1, 3), "int32"), _log_probs())) == 0.0


def test_coverage_loss_hand_made():
    attention = np.array([[[0.5, 0.5, 0.0],
                           [0.2, 0.3, 0.5],
                           [0.1, 0.1, 0.8],
                           [0.0, 0.0, 1.0]]], "float32")  # (1, 4, 3); position 3 is pad
    coverage = np.cumsum(attention, axis=1) - attention  # [0,0,0], [.5,.5,0], [.7,.8,.5], ...
    mask = np.array([[True, True, True, False]])
    # t=0: 0;  t=1: min(.2,.5)+min(.3,.5)+min(.5,0) = 0.5;  t=2: .1+.1+.5 = 0.7;  mean over 3 = 0.4
    assert float(coverage_loss(attention, coverage, mask)) == pytest.approx(0.4, abs=1e-6)


def test_keras_loss_matches_the_function_and_round_trips():
    targets = np.array([[1, 2, 0]], "int32")
    loss = MaskedNLL(label_smoothing=0.2)
    assert float(loss(targets, _log_probs())) == pytest.approx(
        float(masked_nll(targets, _log_probs(), label_smoothing=0.2)), abs=1e-6)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert isinstance(clone, MaskedNLL) and clone.label_smoothing == 0.2


def test_target_nll_is_masked_nll_from_the_gathered_targets():
    targets = np.array([[1, 2, 0]], "int32")  # the last position is pad
    log_probs = _log_probs()
    gathered = np.take_along_axis(log_probs, targets[:, :, None], axis=-1)[:, :, 0]  # (1, 3)
    assert float(target_nll(targets, gathered)) == pytest.approx((-math.log(0.25) - math.log(0.8)) / 2, abs=1e-6)
    with pytest.raises(ValueError, match=r"\(batch, tgt\)"):
        target_nll(targets, log_probs)
    clone = keras.losses.deserialize(keras.losses.serialize(TargetNLL()))
    assert isinstance(clone, TargetNLL)
    assert float(clone(targets, gathered)) == pytest.approx(float(target_nll(targets, gathered)), abs=1e-6)
