import apache_beam as beam
from apache_beam.testing.util import assert_that, equal_to

from configs.schema import DedupConfig
from pipeline.dedup import FindDuplicates, MinHasher, exact_key, leakage_report
from tests.fixtures import local_pipeline, pairs


def test_exact_key_folds_case_and_whitespace():
    assert exact_key("The  cat\nsat") == exact_key("the cat sat")
    assert exact_key("the cat sat") != exact_key("the cat sat down")


def test_minhash_estimates_jaccard():
    hasher = MinHasher(DedupConfig(num_perm=128, bands=16))
    words = " ".join(r["article"] for r in pairs(3)).split()
    changed = list(words)
    changed[len(words) // 2] = "zeppelin"
    same = hasher.signature(" ".join(words))
    assert (same == hasher.signature(" ".join(words))).all()
    assert 0.8 < (same == hasher.signature(" ".join(changed))).mean() <= 1.0
    assert (same == hasher.signature(pairs(1, seed=8)[0]["article"])).mean() < 0.2


def test_signature_keeps_datasketch_hash_values_exactly():
    from datasketch import MinHash

    from pipeline.dedup import shingles

    cfg = DedupConfig()
    article = pairs(1)[0]["article"]
    reference = MinHash(num_perm=cfg.num_perm, seed=1)
    reference.update_batch(shingles(article, cfg.shingle_words))
    signature = MinHasher(cfg).signature(article)
    assert signature.dtype.itemsize == 4  # half of uint64: what the signature joins hold per record
    assert (signature.astype("uint64") == reference.hashvalues.astype("uint64")).all()


def test_survivor_is_in_the_most_precious_split():
    article = pairs(1)[0]["article"]
    other = pairs(1, seed=2)[0]["article"]
    records = [
        {"id": "a-train", "article": article, "summary": "s", "split": "train"},
        {"id": "b-test", "article": article.upper(), "summary": "s", "split": "test"},
        {"id": "c-validation", "article": article, "summary": "s", "split": "validation"},
        {"id": "unique", "article": other, "summary": "s", "split": "train"},
    ]
    with local_pipeline() as p:
        drops = ((p | beam.Create(records) | FindDuplicates(DedupConfig()))["drops"]
                 | beam.Map(lambda d: (d["id"], d["reason"], d["kept_id"])))
        assert_that(drops, equal_to([("a-train", "duplicate_exact", "b-test"),
                                     ("c-validation", "duplicate_exact", "b-test")]))


def test_leakage_report_counts_cross_split_pairs():
    drops = [{"id": "a", "split": "train", "kept_id": "b", "kept_split": "test", "reason": "near_duplicate",
              "similarity": 0.9},
             {"id": "c", "split": "train", "kept_id": "d", "kept_split": "train", "reason": "duplicate_exact",
              "similarity": 1.0}]
    report = leakage_report(drops)
    assert report["cross_split_duplicates"] == 1
    assert report["by_split_pair"] == {"train->test": 1}


def test_near_duplicate_is_dropped_for_its_bucket_keeper_with_its_similarity():
    words = " ".join(r["article"] for r in pairs(3)).split()
    changed = list(words)
    changed[len(words) // 2] = "zeppelin"
    records = [
        {"id": "orig-train", "article": " ".join(words), "summary": "s", "split": "train"},
        {"id": "copy-test", "article": " ".join(changed), "summary": "s", "split": "test"},
        {"id": "other", "article": pairs(1, seed=8)[0]["article"], "summary": "s", "split": "train"},
    ]
    cfg = DedupConfig(exact=False)
    hasher = MinHasher(cfg)
    expected = round(float((hasher.signature(records[0]["article"])
                            == hasher.signature(records[1]["article"])).mean()), 4)
    assert expected >= cfg.threshold
    with local_pipeline() as p:
        drops = ((p | beam.Create(records) | FindDuplicates(cfg))["drops"]
                 | beam.Map(lambda d: (d["id"], d["reason"], d["kept_id"], d["kept_split"], d["similarity"])))
        assert_that(drops, equal_to([("orig-train", "near_duplicate", "copy-test", "test", expected)]))


def test_similarity_of_records_sharing_an_id_is_the_highest_pair():
    import numpy as np

    from pipeline.dedup import SIGNATURE_DTYPE, similarity

    a = np.array([1, 2, 3, 4], dtype=SIGNATURE_DTYPE).tobytes()
    b = np.array([1, 2, 0, 0], dtype=SIGNATURE_DTYPE).tobytes()
    c = np.array([9, 9, 9, 9], dtype=SIGNATURE_DTYPE).tobytes()
    assert similarity([a], [a]) == 1.0
    assert similarity([b], [a]) == 0.5
    assert similarity([c, b], [a]) == 0.5


def test_chinese_shingles_are_characters():
    from pipeline.dedup import shingles

    assert shingles("我爱自然语言", 5) == ["我 爱 自 然 语".encode(), "爱 自 然 语 言".encode()]
    assert shingles("Hello big world", 5) == [b"hello big world"]


def test_a_near_copy_of_a_chinese_article_is_found_and_a_distinct_one_is_not():
    from tests.fixtures import zh_pairs

    articles = [p["article"] for p in zh_pairs(2, seed=3)]
    original = articles[0] + articles[1]
    near_copy = original.replace(original[40:42], "火箭", 1)  # one word of about 150 changed
    records = [
        {"id": "zh-orig", "article": original, "summary": "s", "split": "train"},
        {"id": "zh-copy", "article": near_copy, "summary": "s", "split": "validation"},
        {"id": "zh-other", "article": zh_pairs(1, seed=9)[0]["article"], "summary": "s", "split": "train"},
    ]
    cfg = DedupConfig(exact=False)
    with local_pipeline() as p:
        drops = ((p | beam.Create(records) | FindDuplicates(cfg))["drops"]
                 | beam.Map(lambda d: (d["id"], d["reason"], d["kept_id"])))
        assert_that(drops, equal_to([("zh-orig", "near_duplicate", "zh-copy")]))
