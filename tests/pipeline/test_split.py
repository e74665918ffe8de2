from configs.schema import SplitConfig
from pipeline.split import assign_split, hash_fraction


def test_split_is_a_pure_function_of_id_and_salt():
    cfg = SplitConfig()
    assert hash_fraction("doc-1", "sumflow") == hash_fraction("doc-1", "sumflow")
    # A golden value: the same on every machine and Python version (sha256-based).
    assert assign_split("doc-1", cfg) == assign_split("doc-1", SplitConfig())
    assert hash_fraction("doc-1", "sumflow") == 0.7293044945457605
    assert hash_fraction("doc-1", "other-salt") != hash_fraction("doc-1", "sumflow")


def test_split_fractions_hold_on_many_ids():
    cfg = SplitConfig(train=0.8, validation=0.1, test=0.1)
    counts = {"train": 0, "validation": 0, "test": 0}
    for i in range(20000):
        counts[assign_split(f"id-{i}", cfg)] += 1
    assert abs(counts["train"] / 20000 - 0.8) < 0.01
    assert abs(counts["validation"] / 20000 - 0.1) < 0.01
