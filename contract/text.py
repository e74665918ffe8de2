"""Text normalisation shared by every stage that reads raw text (preprocess, summarize, evaluate).

Plain Python, no Beam: the Beam DoFns, the benchmarks' plain loops and the batch summarizer all call these.
"""

from __future__ import annotations

import html
import re
import unicodedata

import regex

from contract import sentences
from contract.scripts import UNSPACED_CHAR

# Control and invisible format characters -> removed; tabs and other line breaks -> space / newline.
# (The Basic Multilingual Plane holds every Cc/Cf character that occurs in practice; scanning it costs ~30 ms.)
_DELETE = {c: None for c in range(0x10000)
           if unicodedata.category(chr(c)) in ("Cc", "Cf") and chr(c) not in "\n\t\r\x0b\x0c\x85"}
_DELETE.update({ord("\t"): " ", ord("\x0b"): " ", ord("\x0c"): "\n", ord("\x85"): "\n", 0x2028: "\n",
                0x2029: "\n", 0xA0: " "})
_TRANSLATE = str.maketrans(_DELETE)

_HTML_BLOCK = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
_HTML_BREAK = re.compile(r"<(?:br|/p|/div|/li|/h[1-6]|/tr)\b[^>]*>", re.IGNORECASE)
_SPACES = re.compile(r"[^\S\n]+")

# CNN/DailyMail boilerplate: "(CNN) -- ", "-lrb- cnn -rrb- --", DailyMail "By . Name . PUBLISHED: ... UPDATED: ... ."
_CNN_BYLINE = [
    re.compile(r"^\s*(?:\w[\w ,.'-]{0,60})?\((?:CNN|CNN Money|EW\.com)\)\s*(?:--|-|\u2014)?\s*", re.IGNORECASE),
    re.compile(r"^\s*(?:[\w ,.'-]{0,60})?-lrb-\s*cnn\s*-rrb-\s*(?:--)?\s*", re.IGNORECASE),
    re.compile(r"^\s*by \. [^.]{1,80} \. (?:and [^.]{1,80} \. )?"
               r"(?:(?:published|last updated|updated) ?: \. [^|]{1,60}\| \. )*"
               r"(?:(?:published|last updated|updated) ?: \. [^.]{1,60}\. (?:\d{1,2}:\d{2} [ae]st, [^.]{1,40}\. )?)*",
               re.IGNORECASE),
]

def normalize(text: str, *, unicode_form: str = "NFKC", strip_html: bool = True, lowercase: bool = False) -> str:
    """Unicode-normalise, remove markup and control characters, tidy whitespace; keep line breaks.

    Lines are stripped, runs of spaces become one space and empty lines disappear, so the result holds one
    paragraph (or sentence) a line.
    """
    if strip_html and "<" in text:
        text = _HTML_BLOCK.sub(" ", text)
        text = _HTML_BREAK.sub("\n", text)
        text = _HTML_TAG.sub(" ", text)
    if strip_html and "&" in text:
        text = html.unescape(text)
    if unicode_form and not text.isascii():
        text = unicodedata.normalize(unicode_form, text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_TRANSLATE)
    if lowercase:
        text = text.lower()
    lines = (_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def clean_article(article: str, cfg) -> str:
    """An article (or a document to summarize) as every job cleans it: normalised, then passed through the
    rules of `cfg` (a `configs.schema.CleanConfig`)."""
    article = normalize(article, unicode_form=cfg.unicode_form, strip_html=cfg.strip_html, lowercase=cfg.lowercase)
    for rule in cfg.rules:
        article = RULES[rule](article)
    return article


def strip_cnn_byline(text: str) -> str:
    """Remove the CNN "(CNN) --" dateline and the DailyMail "By . Name . PUBLISHED: ..." header."""
    for pattern in _CNN_BYLINE:
        text = pattern.sub("", text, count=1)
    return text.lstrip()


RULES = {"cnn_byline": strip_cnn_byline}


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`: its lines when it has line breaks, else the rule of contract/sentences.py."""
    return sentences.split_sentences(text)


def sentences_per_line(text: str) -> str:
    """A summary with one sentence a line (ROUGE-Lsum splits on the newlines)."""
    return "\n".join(split_sentences(text))


_UNSPACED = regex.compile(UNSPACED_CHAR)
# A unit: an unspaced-script character, or a run of other word characters (letters, marks, digits, '_').
_UNIT = regex.compile(UNSPACED_CHAR + r"|[\w--" + UNSPACED_CHAR[1:-1] + "]+", regex.V1)


def unspaced_chars(text: str) -> int:
    """How many Han/kana characters `text` holds."""
    return len(_UNSPACED.findall(text))


def length(text: str, unit: str = "auto") -> int:
    """The length of `text` in `unit`.

    "words": space-separated words. "characters": non-space characters. "auto" (the default): words where
    words are separated by spaces and characters where they are not: a space-separated word with no Han/kana
    character counts 1, as in "words"; in one that has some, each Han/kana character counts 1 and each run of
    other letters or digits counts 1 ("2024年の AI 研究" = 6: 2024, 年, の, AI, 研, 究); punctuation next to
    Han/kana counts nothing.
    """
    if unit == "words":
        return len(text.split())
    if unit == "characters":
        return sum(len(word) for word in text.split())
    if not _UNSPACED.search(text):
        return len(text.split())
    return sum(len(_UNIT.findall(word)) if _UNSPACED.search(word) else 1 for word in text.split())


def unit_name(text: str, unit: str = "auto") -> str:
    """What `length(text, unit)` counted, for messages: "words", "characters" or "words+characters"."""
    if unit != "auto":
        return unit
    if not _UNSPACED.search(text):
        return "words"
    all_unspaced = len(_UNIT.findall(text)) == len(_UNSPACED.findall(text))
    return "characters" if all_unspaced else "words+characters"


def units(text: str) -> list[str]:
    """`text` as a list of units (lowercased): Han/kana characters one by one, and runs of other word
    characters (for English, the words of `re`'s `\\w+`)."""
    return _UNIT.findall(text.lower())


def join_sentences(sentences) -> str:
    """Sentences joined into one paragraph: with a space, except where either side is Han/kana text (so no
    space is inserted between Chinese or Japanese sentences)."""
    out = ""
    for sentence in sentences:
        if out and not (_UNSPACED.match(sentence) or _UNSPACED.match(_last_letter(out))):
            out += " "
        out += sentence
    return out


def _last_letter(text: str) -> str:
    """The last character of `text` that is not punctuation or a closing quote ("" if none)."""
    for char in reversed(text):
        if unicodedata.category(char)[0] in "LN":
            return char
    return ""
