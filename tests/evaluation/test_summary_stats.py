"""Novel and repeated n-grams and length histograms on hand-written summaries."""

import pytest

from evaluation.rouge import RougeTokenizer
from evaluation.summary_stats import article_index, is_content_word, length_histogram, summary_stats

PLAIN = RougeTokenizer(use_stemmer=False)


def test_novel_ngrams_against_the_article():
    index = article_index(["The cat sat on the mat."], tokenizer=PLAIN)
    stats = summary_stats(["the cat sat on a mat"], tokenizer=PLAIN, articles=index)
    # New: "a"; "on a", "a mat"; every 3- and 4-gram that contains "a".
    assert stats["novel"] == {1: 1 / 6, 2: 2 / 5, 3: 2 / 4, 4: 2 / 3}
    assert stats["length"] == [6]


def test_novel_ngrams_match_whole_tokens_only_and_pool_over_documents():
    index = article_index(["cats and dogs", "a b c"], tokenizer=PLAIN)
    stats = summary_stats(["cat and dogs", "a b c d"], tokenizer=PLAIN, articles=index)
    assert stats["novel"][1] == pytest.approx(2 / 7)  # "cat" is not "cats"; "d"
    assert stats["novel"][2] == pytest.approx(2 / 5)  # "cat and"; "c d"
    assert stats["novel"][4] == pytest.approx(1 / 1)  # "a b c d"; the first summary has no 4-gram


def test_repeated_ngrams_within_a_summary():
    stats = summary_stats(["the cat the cat the"], tokenizer=PLAIN)
    assert stats["novel"] is None
    assert stats["repeated"] == {1: 3 / 5, 2: 2 / 4, 3: 1 / 3, 4: 0 / 2}
    assert summary_stats([""], tokenizer=PLAIN)["repeated"] == {1: 0.0, 2: 0.0, 3: 0.0, 4: 0.0}


def test_the_share_of_summaries_with_a_repeat_and_of_empty_ones():
    stats = summary_stats(["the cat the cat the", "a b a", "", "x y z"], tokenizer=PLAIN)
    assert stats["with_repeat"] == {1: 2 / 4, 2: 1 / 4, 3: 1 / 4, 4: 0.0}
    assert stats["empty"] == 1 / 4
    assert summary_stats([], tokenizer=PLAIN)["empty"] == 0.0


def test_words_repeated_back_to_back_and_repeated_content_words():
    summaries = ["Return first matching matching Enum class.",  # back to back (and a repeated content word)
                 "the cat and the dog",  # "the" twice: a stop word, not back to back
                 "Parse the file, then parse it again",  # "parse" twice: a content word (case folded)
                 "it is is it",  # back to back, but no content word
                 "go go. on",  # back to back across punctuation ("go" has 2 characters: no content word)
                 "123 123x 123 ab ab1"]  # digits alone are no content word; "ab1" is not "ab"
    stats = summary_stats(summaries, tokenizer=PLAIN)
    assert stats["back_to_back"] == 3 / 6
    assert stats["repeated_content_word"] == 2 / 6
    assert summary_stats([], tokenizer=PLAIN)["back_to_back"] == 0.0


def test_content_words():
    assert [is_content_word(t) for t in ("enum", "the", "its", "ok", "123", "x86", "und")] == [
        True, False, False, False, False, True, True]


def test_length_histogram_shares_bins_and_keeps_an_overflow_bin():
    histogram = length_histogram({"a": [0, 1, 2, 3], "b": [3, 3, 100]}, bins=4)
    # The largest 99th percentile is 98.06 -> width ceil(99.06 / 3) = 34; the last bin holds >= 102.
    assert histogram["edges"] == [0, 34, 68, 102]
    assert histogram["counts"] == {"a": [4, 0, 0, 0], "b": [2, 0, 1, 0]}
    assert length_histogram({"a": [7, 500]}, bins=2)["counts"] == {"a": [1, 1]}
