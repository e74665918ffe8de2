"""The regex sentence splitter used for ROUGE-Lsum and lead-k when a text has no newlines."""

from contract.sentences import lsum_text, split_sentences


def test_splits_after_terminal_punctuation_before_a_capital():
    text = 'Mr. Smith went to Washington. He said "hi." Then he left! Did he? Yes.'
    assert split_sentences(text) == ["Mr. Smith went to Washington.", 'He said "hi."', "Then he left!", "Did he?",
                                     "Yes."]


def test_abbreviations_initials_and_lowercase_continuations_do_not_split():
    text = "We met at 3 p.m. on Monday. J. R. Smith came, e.g. from the U.S. Army. It rained."
    assert split_sentences(text) == ["We met at 3 p.m. on Monday.", "J. R. Smith came, e.g. from the U.S. Army.",
                                     "It rained."]


def test_ptb_tokenized_lowercase_text_splits_on_standalone_periods():
    text = "the man said . he went to the u.s. . `` it was good , '' he said . then ... he left"
    assert split_sentences(text) == ["the man said .", "he went to the u.s. .", "`` it was good , '' he said .",
                                     "then ... he left"]
    assert split_sentences("he said . '' next one") == ["he said . ''", "next one"]


def test_cjk_punctuation_splits_without_spaces():
    assert split_sentences("我爱北京。天安门很大！你好？") == ["我爱北京。", "天安门很大！", "你好？"]


def test_newlines_always_split_and_empty_lines_vanish():
    assert split_sentences("one\n\ntwo. Three.\n  ") == ["one", "two.", "Three."]
    assert split_sentences("") == []


def test_lsum_text_keeps_texts_with_newlines():
    assert lsum_text("A. B.\nC") == "A. B.\nC"
    assert lsum_text("First one. Second one.") == "First one.\nSecond one."
