"""Deterministic train/validation/test assignment by a salted hash of the record id."""

from __future__ import annotations

import hashlib

from configs.schema import SplitConfig


def hash_fraction(record_id: str, salt: str) -> float:
    """A number in [0, 1) from the id alone: the same on every run, machine and Python version."""
    digest = hashlib.sha256(f"{salt}\x00{record_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def assign_split(record_id: str, cfg: SplitConfig) -> str:
    x = hash_fraction(record_id, cfg.salt)
    if x < cfg.train:
        return "train"
    return "validation" if x < cfg.train + cfg.validation else "test"
