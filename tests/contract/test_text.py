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
