"""Seeded bootstrap over documents: confidence intervals of mean scores, and a paired test of two systems.

Both resample documents with replacement (Efron & Tibshirani 1993). The resampling depends only on
(seed, number of documents, samples), so two systems scored on the same documents with the same seed see
the same resamples, and a rerun gives the same numbers.
"""

from __future__ import annotations

import dataclasses
from typing import Iterator

import numpy as np

# Resamples drawn per batch, so one batch's (resamples, documents) count matrix stays near 32 MB.
_BATCH_ELEMENTS = 4_000_000


def _resampled_means(values: np.ndarray, *, samples: int, seed: int) -> Iterator[np.ndarray]:
    """Yields batches of means of resampled rows: (batch, values.shape[1]), `samples` rows in all."""
    n = values.shape[0]
    rng = np.random.default_rng(seed)
    batch = max(1, _BATCH_ELEMENTS // n)  # depends on n only: the draws do not change with the value count
    for start in range(0, samples, batch):
        size = min(batch, samples - start)
        rows = rng.integers(0, n, size=(size, n))  # (batch, documents): document indices of each resample
        # How often each document was drawn, (batch, documents), then one matrix product for the means:
        # several times faster than gathering a (batch, documents, values) array.
        counts = np.bincount((rows + n * np.arange(size)[:, None]).ravel(), minlength=size * n).reshape(size, n)
        yield counts @ values / n  # (batch, values)


def _as_rows(values: np.ndarray) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    if values.ndim == 0 or values.shape[0] == 0:
        raise ValueError("the bootstrap needs at least one document (values of shape (documents, ...))")
    return values.reshape(values.shape[0], -1)


def confidence_interval(values: np.ndarray, *, samples: int, confidence: float,
                        seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap interval of the mean over documents (axis 0).

    values: (documents, ...) per-document scores. Returns (low, high), each of shape values.shape[1:].
    """
    if samples < 1 or not 0.0 < confidence < 1.0:
        raise ValueError(f"need samples >= 1 and 0 < confidence < 1; got {samples}, {confidence}")
    rows = _as_rows(values)
    means = np.concatenate(list(_resampled_means(rows, samples=samples, seed=seed)))  # (samples, k)
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(means, [tail, 100.0 - tail], axis=0)
    shape = np.shape(values)[1:]
    return low.reshape(shape), high.reshape(shape)


@dataclasses.dataclass(frozen=True)
class PairedResult:
    """System A against system B, per value (each array has the shape of one document's scores).

    delta: observed mean(A - B). p_value: one-sided p-value of "A is not better than B" (the share of
    resamples whose difference exceeds twice the observed one: the bootstrap distribution shifted to mean 0,
    Berg-Kirkpatrick et al. 2012, sec. 3). a_wins: share of resamples where A's mean is higher (Koehn 2004).
    low/high: percentile interval of the difference.
    """

    delta: np.ndarray
    p_value: np.ndarray
    a_wins: np.ndarray
    low: np.ndarray
    high: np.ndarray


def paired_test(a: np.ndarray, b: np.ndarray, *, samples: int, confidence: float, seed: int) -> PairedResult:
    """Paired bootstrap test of A > B on the same documents, in the same order (axis 0)."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"paired scores must have the same shape; got {a.shape} and {b.shape}")
    if samples < 1:
        raise ValueError(f"need samples >= 1; got {samples}")
    shape = a.shape[1:]
    diff = _as_rows(a - b)  # (documents, k)
    delta = diff.mean(axis=0)
    exceed = np.zeros(diff.shape[1])
    wins = np.zeros(diff.shape[1])
    means = []
    for batch in _resampled_means(diff, samples=samples, seed=seed):
        exceed += (batch - delta >= delta).sum(axis=0)
        wins += (batch > 0).sum(axis=0)
        means.append(batch)
    tail = 100.0 * (1.0 - confidence) / 2.0
    low, high = np.percentile(np.concatenate(means), [tail, 100.0 - tail], axis=0)
    return PairedResult(delta=delta.reshape(shape), p_value=(exceed / samples).reshape(shape),
                        a_wins=(wins / samples).reshape(shape), low=low.reshape(shape), high=high.reshape(shape))
