import os

import pytest

# Quiet TF's C++ logs; tests run on CPU even where a GPU is visible.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_DATA = os.path.join(REPO, "..", "shared", "data")


def shared_data(*parts: str) -> str:
    """Path into ../shared/data (research corpora); skips the test where it is absent."""
    path = os.path.join(SHARED_DATA, *parts)
    if not os.path.exists(path):
        pytest.skip(f"{path} is absent (research data lives only on the developers' machines)")
    return path
