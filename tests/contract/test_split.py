import pytest

from configs.schema import SplitConfig
from contract.split import assign_split, hash_fraction


def test_split_is_a_pure_function_of_id_and_salt():
    # Golden values: the same on every machine and Python version (sha256-based).
    assert hash_fraction("doc-1", "sumflow") == 0.7293044945457605
    assert hash_fraction("doc-1", "other-salt") == 0.17060697202706568
    assert hash_fraction("doc-2", "sumflow") == 0.94900989828119


@pytest.mark.parametrize("record_id, split", [("doc-1", "train"), ("doc-2", "validation"), ("c", "test"),
                                              ("d", "validation"), ("f", "train")])
def test_ids_go_to_their_split_by_the_default_fractions(record_id, split):
    # default 0.9 / 0.05 / 0.05: doc-1 0.729, doc-2 0.949, c 0.970, d 0.946, f 0.079
    assert assign_split(record_id, SplitConfig()) == split


def test_the_salt_moves_ids_between_splits():
    assert assign_split("doc-1", SplitConfig(train=0.5, validation=0.25, test=0.25)) == "validation"  # 0.729
    assert assign_split("doc-1", SplitConfig(train=0.5, validation=0.25, test=0.25, salt="other-salt")) == "train"


def test_split_fractions_hold_on_many_ids():
    cfg = SplitConfig(train=0.8, validation=0.1, test=0.1)
    counts = {"train": 0, "validation": 0, "test": 0}
    for i in range(20000):
        counts[assign_split(f"id-{i}", cfg)] += 1
    assert counts == {"train": 16110, "validation": 1887, "test": 2003}  # golden: sha256 of the ids
