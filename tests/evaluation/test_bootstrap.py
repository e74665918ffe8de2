"""Bootstrap intervals and the paired test: exact cases, seeded determinism, the normal approximation."""

import numpy as np
import pytest

from evaluation.bootstrap import confidence_interval, paired_test


def test_same_seed_same_interval_and_another_seed_differs():
    values = np.random.default_rng(1).random((50, 4, 3))
    first = confidence_interval(values, samples=300, confidence=0.95, seed=7)
    again = confidence_interval(values, samples=300, confidence=0.95, seed=7)
    other = confidence_interval(values, samples=300, confidence=0.95, seed=8)
    assert first[0].shape == first[1].shape == (4, 3)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


def test_interval_does_not_depend_on_which_columns_are_resampled():
    values = np.random.default_rng(2).random((40, 6))
    low, high = confidence_interval(values, samples=200, confidence=0.9, seed=3)
    low2, high2 = confidence_interval(values[:, 2], samples=200, confidence=0.9, seed=3)
    assert low2.shape == ()
    np.testing.assert_allclose([low[2], high[2]], [low2, high2], rtol=0, atol=1e-12)


def test_exact_intervals_on_tiny_data():
    low, high = confidence_interval(np.full((5, 2), 0.25), samples=100, confidence=0.95, seed=0)
    np.testing.assert_allclose(low, [0.25, 0.25])
    np.testing.assert_allclose(high, [0.25, 0.25])
    # Two documents, 0 and 1: a resample's mean is 0, 0.5 or 1 (1/4, 1/2, 1/4), so the 90% interval is [0, 1].
    low, high = confidence_interval(np.array([0.0, 1.0]), samples=1000, confidence=0.9, seed=0)
    assert (low, high) == (0.0, 1.0)


def test_interval_matches_the_normal_approximation():
    values = np.random.default_rng(4).normal(0.4, 0.1, size=2000)
    low, high = confidence_interval(values, samples=2000, confidence=0.95, seed=0)
    half_width = 1.96 * values.std() / np.sqrt(len(values))
    assert low < values.mean() < high
    assert high - low == pytest.approx(2 * half_width, rel=0.1)


def test_paired_test_clear_cases():
    b = np.random.default_rng(5).random((30, 2))
    better = paired_test(b + 0.1, b, samples=500, confidence=0.95, seed=0)
    np.testing.assert_allclose(better.delta, [0.1, 0.1])
    np.testing.assert_array_equal(better.p_value, [0.0, 0.0])
    np.testing.assert_array_equal(better.a_wins, [1.0, 1.0])
    np.testing.assert_allclose([better.low, better.high], [[0.1, 0.1], [0.1, 0.1]])
    same = paired_test(b, b, samples=500, confidence=0.95, seed=0)
    np.testing.assert_array_equal(same.p_value, [1.0, 1.0])  # no evidence at all that A is better
    np.testing.assert_array_equal(same.a_wins, [0.0, 0.0])
    worse = paired_test(b - 0.1, b, samples=500, confidence=0.95, seed=0)
    np.testing.assert_array_equal(worse.p_value, [1.0, 1.0])


def test_paired_test_on_two_documents():
    # Differences 1 and 0: delta 0.5; a resample's mean difference is 0, 0.5 or 1 (1/4, 1/2, 1/4).
    result = paired_test(np.array([1.0, 0.0]), np.array([0.0, 0.0]), samples=4000, confidence=0.9, seed=0)
    assert result.delta == 0.5
    assert result.p_value == pytest.approx(0.25, abs=0.03)  # share of resamples with difference >= 2 * 0.5
    assert result.a_wins == pytest.approx(0.75, abs=0.03)
    again = paired_test(np.array([1.0, 0.0]), np.array([0.0, 0.0]), samples=4000, confidence=0.9, seed=0)
    assert (again.p_value, again.a_wins) == (result.p_value, result.a_wins)


def test_bad_arguments():
    with pytest.raises(ValueError, match="at least one document"):
        confidence_interval(np.zeros((0, 3)), samples=10, confidence=0.95, seed=0)
    with pytest.raises(ValueError, match="samples >= 1"):
        confidence_interval(np.zeros((3, 3)), samples=0, confidence=0.95, seed=0)
    with pytest.raises(ValueError, match="same shape"):
        paired_test(np.zeros((3, 2)), np.zeros((4, 2)), samples=10, confidence=0.95, seed=0)
