from contract import text


def test_normalize_removes_markup_controls_and_extra_whitespace():
    raw = "<p>Caf\u00e9 &amp; bar</p><script>var x = 1;</script>\u200b\tnext\x07  line \r\n\n  <b>bold</b>"
    assert text.normalize(raw) == "Caf\u00e9 & bar\nnext line\nbold"


def test_normalize_nfkc_and_lowercase():
    assert text.normalize("\ufb01ne \u2460 TEXT", lowercase=True) == "fine 1 text"
    assert text.normalize("x < y and y > z", strip_html=True) == "x < y and y > z"  # not a tag: kept


def test_normalize_keeps_non_latin_text():
    assert text.normalize("  \u041f\u0440\u0438\u0432\u0435\u0442   \u4e16\u754c ") == "\u041f\u0440\u0438\u0432\u0435\u0442 \u4e16\u754c"


def test_split_sentences_rules_and_abbreviations():
    assert text.split_sentences("Mr. Smith went to Washington. He met Dr. Jones! Then U.S. officials said "
                                "3 things. \"Quoted.\" Done") == [
        "Mr. Smith went to Washington.", "He met Dr. Jones!", "Then U.S. officials said 3 things.",
        "\"Quoted.\"", "Done"]
    assert text.split_sentences("one line\nsecond line\n\n") == ["one line", "second line"]
    assert text.split_sentences("  ") == []


def test_cnn_byline_rule():
    assert text.strip_cnn_byline("(CNN) -- The president said") == "The president said"
    assert text.strip_cnn_byline("london , england -lrb- cnn -rrb- -- the talks") == "the talks"
    assert text.strip_cnn_byline("by . daily mail reporter . published : . 12:30 est , 1 january 2014 . | . "
                                 "updated : . 13:00 est , 1 january 2014 . the talks") == "the talks"
    assert text.strip_cnn_byline("No byline here.") == "No byline here."


# Chinese and Japanese: written without spaces, one Han/kana character one unit.

def test_lengths_count_words_where_spaced_and_characters_where_not():
    assert text.length("Hello world, -- again.") == 4  # English: space-separated words, as before
    assert text.length("我爱自然语言处理。") == 8  # punctuation next to Han counts nothing
    assert text.length("2024年の AI 研究") == 6  # 2024, 年, の, AI, 研, 究
    assert text.length("他说：“好。”") == 3
    assert text.length("我爱自然语言处理。", "words") == 1
    assert text.length("ab c。", "characters") == 4
    assert [text.unit_name(t) for t in ("Hello world", "我爱你。", "我们 today 开会", "")] == [
        "words", "characters", "words+characters", "words"]
    assert text.unit_name("我爱你", "words") == "words"


def test_units_split_han_and_kana_into_characters_and_keep_other_words():
    assert text.units("テストです漢字abc, Snake_case 3.5") == [
        "テ", "ス", "ト", "で", "す", "漢", "字", "abc", "snake_case", "3", "5"]


def test_sentences_join_without_a_space_where_either_side_is_han_or_kana():
    assert text.join_sentences(["你好。", "我很好！", "「はい」と言った。"]) == "你好。我很好！「はい」と言った。"
    assert text.join_sentences(["One.", "Two!", "“Three.”"]) == "One. Two! “Three.”"
    assert text.join_sentences(["他来了。", "Then he left."]) == "他来了。Then he left."
    assert text.join_sentences([]) == ""


def test_nfkc_folds_full_width_ascii_and_keeps_han_unspaced():
    assert text.normalize("ＡＢＣ１２３！中文文本，没有空格？") == "ABC123!中文文本,没有空格?"
    assert text.normalize("半角ｶﾀｶﾅ｡") == "半角カタカナ。"
