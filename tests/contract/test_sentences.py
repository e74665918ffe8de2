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


def test_chinese_and_japanese_sentences_end_at_their_punctuation_with_closing_quotes():
    assert split_sentences("他说：“今天很好。”然后走了！你呢？我不知道") == [
        "他说：“今天很好。”", "然后走了！", "你呢？", "我不知道"]
    # after NFKC, full-width ！？ are ASCII: they still end a sentence right after Han/kana
    assert split_sentences("東京は晴れ!明日は雨?「本当に？」と聞いた。") == [
        "東京は晴れ!", "明日は雨?", "「本当に？」", "と聞いた。"]
    assert split_sentences("价格为3.5元。Then he left. OK") == ["价格为3.5元。", "Then he left.", "OK"]
    assert lsum_text("第一句。第二句！") == "第一句。\n第二句！"
