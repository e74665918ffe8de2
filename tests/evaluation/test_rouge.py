"""ROUGE scores on hand-written sentences, the tokenizer, several references, and the process pool."""

import numpy as np
import pytest
from rouge_score import rouge_scorer, tokenizers

from evaluation.rouge import FIELDS, METRICS, DocumentScorer, RougeTokenizer, score_documents

# ASCII letters and digits with every kind of separator rouge-score's tokenizer meets.
ASCII_TEXTS = [
    "The runners were running quickly, weren't they?",
    "Prices rose 3.5% to $1,200 on 2024-01-05 (approx.) -- analysts_said \"wow\"!",
    "`` Quoted '' text , PTB-style ; with -lrb- brackets -rrb- and a.b.c initials .",
    "UPPER lower MiXeD 42nd 1990s generously generalization's",
    "Curly ‘quotes’ and “doubles” – dashes — £5 and 20°C… still ASCII letters",
]


def test_ascii_text_gets_exactly_rouge_scores_tokens():
    ours = RougeTokenizer(use_stemmer=True)
    theirs = tokenizers.DefaultTokenizer(use_stemmer=True)
    for text in ASCII_TEXTS:
        assert ours.tokenize(text) == theirs.tokenize(text), text
    assert ours.tokenize(ASCII_TEXTS[0]) == ["the", "runner", "were", "run", "quickli", "weren", "t", "they"]


def test_non_latin_letters_are_kept():
    tokenizer = RougeTokenizer(use_stemmer=True)
    assert tokenizers.DefaultTokenizer(use_stemmer=True).tokenize("Москва — столица России.") == []
    assert tokenizer.tokenize("Москва — столица России.") == ["москва", "столица", "россии"]
    assert tokenizer.tokenize("हिन्दी भाषा") == ["हिन्दी", "भाषा"]  # vowel signs and virama stay in the word
    assert tokenizer.tokenize("我爱北京") == ["我", "爱", "北", "京"]  # Han: one character a token
    # Only ASCII words are stemmed; an accented word is kept whole (rouge-score would give "caf").
    assert tokenizer.tokenize("Café prices rising") == ["café", "price", "rise"]


def test_default_kind_is_rouge_scores_tokenizer_even_for_non_ascii():
    text = "Café Москва prices ½"
    assert RougeTokenizer(kind="default").tokenize(text) == tokenizers.DefaultTokenizer(True).tokenize(text)


def test_chinese_scores_are_not_zero():
    scores = DocumentScorer().score("我爱北京", ["我爱上海"])
    np.testing.assert_allclose(scores[:, 2], [1 / 2, 1 / 3, 1 / 2, 1 / 2])


def test_exact_scores_on_a_small_pair():
    scores = DocumentScorer().score("the cat sat on the mat", ["the cat lay on the mat"])
    assert scores.shape == (len(METRICS), len(FIELDS))
    # rouge1: 5 of 6 words; rouge2: 3 of 5 bigrams; rougeL/Lsum: LCS "the cat on the mat".
    np.testing.assert_allclose(scores, [[5 / 6] * 3, [3 / 5] * 3, [5 / 6] * 3, [5 / 6] * 3])


def test_lsum_uses_lines_and_splits_texts_without_newlines():
    scorer = DocumentScorer(metrics=("rougeL", "rougeLsum"))
    swapped = scorer.score("the dog ran.\nthe cat sat.", ["the cat sat.\nthe dog ran."])
    np.testing.assert_allclose(swapped[:, 2], [0.5, 1.0])  # one LCS of 3 of 6 words; each sentence matched
    one_line = scorer.score("The dog ran. The cat sat.", ["The cat sat. The dog ran."])
    np.testing.assert_allclose(one_line[:, 2], [0.5, 1.0])  # split by the regex splitter first


def test_several_references_take_the_best_f_per_metric():
    scores = DocumentScorer().score("alpha beta gamma delta", ["delta gamma beta alpha", "alpha beta zeta theta"])
    # rouge1 from the first reference; rouge2, rougeL and rougeLsum from the second.
    np.testing.assert_allclose(scores[:, 2], [1.0, 1 / 3, 0.5, 0.5])
    single = DocumentScorer().score("alpha beta gamma delta", ["alpha beta zeta theta"])
    np.testing.assert_array_equal(scores[1:], single[1:])


def test_empty_texts_score_zero_and_missing_references_are_an_error():
    np.testing.assert_array_equal(DocumentScorer().score("", ["something here"]), np.zeros((4, 3)))
    with pytest.raises(ValueError, match="non-empty list"):
        DocumentScorer().score("text", [])
    with pytest.raises(ValueError, match="non-empty list"):
        DocumentScorer().score("text", "a reference passed as a bare string")
    with pytest.raises(ValueError, match="subset"):
        DocumentScorer(metrics=("rouge3",))


PAIRS = [
    ("the cat sat on the mat", ["the cat lay on the mat"]),
    ("Police arrested two men.\nThey were charged on Monday.", ["Two men were arrested by police.\nThe pair "
                                                                "was charged on Monday evening."]),
    ("a quick brown fox", ["the quick brown fox jumps", "a fast brown fox"]),
    ("", ["nothing was predicted"]),
    ("Markets rallied. Investors cheered the news.", ["Stocks rallied as investors cheered."]),
    ("я люблю москву", ["я люблю питер"]),
    ("Researchers generalized the findings", ["The researchers' generalization of findings"]),
]


def test_cached_stemmer_scores_match_rouge_score_exactly():
    reference = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    ours = DocumentScorer(tokenizer="default")
    for prediction, references in PAIRS:
        expected = reference.score_multi(references, prediction)
        got = ours.score(prediction, references)
        # rougeLsum differs only where we split one-line texts into sentences, so compare the lines case.
        for m, metric in enumerate(METRICS):
            if metric == "rougeLsum" and "\n" not in prediction + "".join(references):
                continue
            assert tuple(got[m]) == tuple(expected[metric]), (metric, prediction)


def test_many_processes_give_the_same_numbers_as_one():
    predictions = [p for p, _ in PAIRS] * 3
    references = [r for _, r in PAIRS] * 3
    one = score_documents(predictions=predictions, references=references, workers=1)
    many = score_documents(predictions=predictions, references=references, workers=2, chunk_size=2)
    assert one.shape == (len(PAIRS) * 3, 4, 3)
    np.testing.assert_array_equal(one, many)
    np.testing.assert_array_equal(one[0], DocumentScorer().score(*PAIRS[0]))


def test_score_documents_checks_lengths_and_accepts_no_documents():
    with pytest.raises(ValueError, match="2 predictions but 1 reference"):
        score_documents(predictions=["a", "b"], references=[["a"]])
    assert score_documents(predictions=[], references=[], metrics=("rouge1",)).shape == (0, 1, 3)
