"""Text normalisation shared by every stage that reads raw text (preprocess, summarize, evaluate).

Plain Python, no Beam: the Beam DoFns, the benchmarks' plain loops and the batch summarizer all call these.
"""

from __future__ import annotations

import html
import re
import unicodedata

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


def strip_cnn_byline(text: str) -> str:
    """Remove the CNN "(CNN) --" dateline and the DailyMail "By . Name . PUBLISHED: ..." header."""
    for pattern in _CNN_BYLINE:
        text = pattern.sub("", text, count=1)
    return text.lstrip()


RULES = {"cnn_byline": strip_cnn_byline}


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`: its lines when it has line breaks, else the rule of contract/sentences.py."""
    from contract.sentences import split_sentences as split

    return split(text)


def sentences_per_line(text: str) -> str:
    """A summary with one sentence a line (ROUGE-Lsum splits on the newlines)."""
    return "\n".join(split_sentences(text))


def word_count(text: str) -> int:
    return len(text.split())
