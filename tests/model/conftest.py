"""Tiny shared inputs for the model tests (vocab 50, source 9, target 7)."""

import numpy as np
import pytest

VOCAB = 50


@pytest.fixture
def tiny_batch():
    """article_ids (3, 9) with two padded rows, summary_in (3, 7) starting with BOS, one padded row."""
    rng = np.random.default_rng(0)
    article_ids = rng.integers(4, VOCAB, (3, 9)).astype("int32")
    article_ids[0, 6:] = 0
    article_ids[1, 8:] = 0
    summary_in = rng.integers(4, VOCAB, (3, 7)).astype("int32")
    summary_in[:, 0] = 2  # BOS
    summary_in[2, 5:] = 0
    return {"article_ids": article_ids, "summary_in": summary_in}
