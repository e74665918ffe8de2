import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from configs.schema import CleanConfig, SplitConfig
from pipeline.clean import CleanPairs, clean_article, clean_record
from pipeline.dead_letters import DROPPED, RECORDS
from tests.fixtures import local_pipeline

TEN_WORDS = "river stone market engine harbor winter garden signal copper lantern"


def test_article_is_nfkc_normalised_with_controls_removed_and_spaces_tidied():
    # ligature fi, full-width letters, a no-break space, a zero-width space (Cf) and a tab
    raw = "\ufb01ne \uff23\uff41\uff46e\u0301\u00a0x\u200by\tz"
    assert clean_article(raw, CleanConfig()) == "fine Caf\u00e9 xy z"


def test_no_unicode_form_keeps_compatibility_characters():
    raw = "\ufb01ne \uff23\uff41\uff46"
    assert clean_article(raw, CleanConfig(unicode_form="")) == "\ufb01ne \uff23\uff41\uff46"
    assert clean_article("caf\u00e9", CleanConfig(unicode_form="NFD")) == "cafe\u0301"


def test_markup_is_stripped_and_block_ends_become_line_breaks():
    raw = "<p>Hello <b>big</b>  world</p><script>bad()</script>Next &amp; last<br>line"
    assert clean_article(raw, CleanConfig()) == "Hello big world\nNext & last\nline"
    assert clean_article("<b>a</b> &amp; b", CleanConfig(strip_html=False)) == "<b>a</b> &amp; b"


def test_blank_lines_and_carriage_returns_collapse():
    assert clean_article("  a \r\n\r\n b  \r c", CleanConfig()) == "a\nb\nc"


def test_rules_and_lowercase_apply_to_the_article():
    raw = "(CNN) -- The River rose."
    assert clean_article(raw, CleanConfig()) == "(CNN) -- The River rose."
    assert clean_article(raw, CleanConfig(rules=("cnn_byline",))) == "The River rose."
    assert clean_article(raw, CleanConfig(rules=("cnn_byline",), lowercase=True)) == "the river rose."


def test_a_kept_record_has_its_summary_one_sentence_a_line_and_keeps_its_split():
    record = {"id": "doc-1", "article": f"  {TEN_WORDS}  ", "summary": "First one. Second  one here.",
              "split": "test", "origin": "a.jsonl"}
    assert clean_record(record, CleanConfig()) == (
        {"id": "doc-1", "article": TEN_WORDS, "summary": "First one.\nSecond one here.", "split": "test"}, "", "")


def test_a_record_without_a_split_gets_an_empty_one():
    cleaned, reason, detail = clean_record({"id": "d", "article": TEN_WORDS, "summary": "Short."}, CleanConfig())
    assert cleaned == {"id": "d", "article": TEN_WORDS, "summary": "Short.", "split": ""}
    assert (reason, detail) == ("", "")


def test_the_summary_is_lowercased_but_not_passed_through_the_article_rules():
    record = {"id": "d", "article": "(CNN) -- " + TEN_WORDS, "summary": "(CNN) -- Big News."}
    cleaned, _, _ = clean_record(record, CleanConfig(rules=("cnn_byline",), lowercase=True))
    assert cleaned["article"] == TEN_WORDS
    assert cleaned["summary"] == "(cnn) -- big news."


@pytest.mark.parametrize("article, summary, cfg, reason, detail", [
    ("<p> </p>", "s", CleanConfig(), "empty_article", ""),
    ("\u200b\t", "", CleanConfig(), "empty_article", ""),  # the article is checked first
    (TEN_WORDS, "<br>", CleanConfig(), "empty_summary", ""),
    ("a b c", "s", CleanConfig(), "article_too_short", "3 words < 10"),
    (TEN_WORDS + " extra", "s", CleanConfig(max_article_words=10), "article_too_long", "11 words > 10"),
    (TEN_WORDS, "one", CleanConfig(min_summary_words=2), "summary_too_short", "1 words < 2"),
    (TEN_WORDS, "a b c d", CleanConfig(max_summary_words=3), "summary_too_long", "4 words > 3"),
    # both out of limits: the article's reason wins
    ("a b", "a b c d", CleanConfig(max_summary_words=3), "article_too_short", "2 words < 10"),
])
def test_each_drop_reason_with_its_detail(article, summary, cfg, reason, detail):
    assert clean_record({"id": "x", "article": article, "summary": summary}, cfg) == (None, reason, detail)


def test_limits_are_inclusive():
    cfg = CleanConfig(min_article_words=10, max_article_words=10, min_summary_words=2, max_summary_words=2)
    cleaned, reason, _ = clean_record({"id": "x", "article": TEN_WORDS, "summary": "two words"}, cfg)
    assert reason == ""
    assert cleaned["summary"] == "two words"


def test_clean_pairs_assigns_missing_splits_and_dead_letters_the_rest():
    records = [
        {"id": "doc-1", "article": TEN_WORDS, "summary": "Kept.", "split": "", "origin": "a.jsonl"},
        {"id": "doc-2", "article": TEN_WORDS, "summary": "Kept too.", "origin": "a.jsonl"},
        {"id": "own", "article": TEN_WORDS, "summary": "Own split.", "split": "test", "origin": "b.jsonl"},
        {"id": "short", "article": "too short", "summary": "s", "split": "", "origin": "a.jsonl"},
        {"id": "no-origin", "article": TEN_WORDS, "summary": " "},
    ]
    with local_pipeline() as p:
        out = p | beam.Create(records) | CleanPairs(CleanConfig(), SplitConfig())
        # default 0.9 / 0.05 / 0.05: doc-1 hashes to 0.729 (train), doc-2 to 0.949 (validation)
        assert_that(out[RECORDS] | "Ids" >> beam.Map(lambda r: (r["id"], r["split"], r["summary"])),
                    equal_to([("doc-1", "train", "Kept."), ("doc-2", "validation", "Kept too."),
                              ("own", "test", "Own split.")]), label="Records")
        assert_that(out[DROPPED], equal_to([
            {"id": "short", "reason": "article_too_short", "detail": "2 words < 10", "origin": "a.jsonl"},
            {"id": "no-origin", "reason": "empty_summary", "detail": "", "origin": ""}]), label="Dropped")


@pytest.mark.parametrize("article, summary, cfg, reason, detail", [
    ("短文。", "摘要", CleanConfig(), "article_too_short", "2 characters < 10"),
    ("这是 AI 的文章", "摘要", CleanConfig(), "article_too_short", "6 words+characters < 10"),
    ("这是一篇足够长的中文文章。", "太长的摘要", CleanConfig(max_summary_words=4), "summary_too_long",
     "5 characters > 4"),
    ("这是一篇足够长的中文文章。", "摘要", CleanConfig(length_unit="words"), "article_too_short", "1 words < 10"),
])
def test_chinese_lengths_count_characters_and_name_the_unit(article, summary, cfg, reason, detail):
    assert clean_record({"id": "x", "article": article, "summary": summary}, cfg) == (None, reason, detail)


def test_a_chinese_record_is_kept_unspaced_with_its_summary_one_sentence_a_line():
    record = {"id": "z", "article": "这是一篇足够长的中文文章，讲的是河流。", "summary": "讲河流。很短！"}
    cleaned, reason, _ = clean_record(record, CleanConfig())
    assert reason == ""
    assert cleaned["article"] == "这是一篇足够长的中文文章,讲的是河流。"  # NFKC folds the full-width comma
    assert cleaned["summary"] == "讲河流。\n很短!"
