"""Sentence splitting: ROUGE-Lsum's sentences and the lead-k baseline's, by one deliberately simple rule.

Summaries in sumflow keep one sentence a line, so a text with newlines is split on them. A text without
any (a model that writes one line, an article stored as one paragraph) goes through `split_sentences`,
a regex rule with no trained model (nltk's punkt cannot be downloaded here).
"""

from __future__ import annotations

import re

import regex

from contract.scripts import UNSPACED_CHAR

# Terminal punctuation, then closing quotes/brackets (PTB's '' and -rrb- too, after an optional space),
# then the whitespace where the text breaks.
_WESTERN_END = re.compile(r"[.!?]+(?:''|[\"'”’»)\]]|\s(?:''|”|\)|-rrb-)(?=\s))*(?=\s)")
# Chinese/Japanese: '。', '！', '？' (and the half-width '｡'), or '!'/'?' right after a Han/kana character,
# break without whitespace, keeping the quotes and brackets that close the sentence.
_CJK_END = regex.compile(r"(?:[。！？｡]+|(?<=" + UNSPACED_CHAR + r"[”’」』）)\]\"']*)[!?]+)[”’」』）)\]\"'»]*")
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt ft gen gov sen rep lt col sgt capt cmdr adm rev hon pres supt insp "
    "vs etc e.g i.e u.s u.k u.n a.m p.m no jan feb mar apr jun jul aug sep sept oct nov dec inc ltd co corp".split())


def _breaks_here(line: str, start: int, end: int) -> bool:
    """Whether the terminal punctuation line[start:end] ends a sentence (see `split_sentences`)."""
    if (start == 0 or line[start - 1].isspace()) and ".." not in line[start:end]:
        return True  # a stand-alone '.', as in PTB-tokenized text ("said . he"); not "..."
    word = line[line.rfind(" ", 0, start) + 1:start].lower().lstrip("\"'“‘(`")
    if word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha()):
        return False  # "Mr. Smith", "J. Smith"
    following = line[end:].lstrip()[:1]
    return not following.islower()  # "e.g. this", "3 p.m. on Monday"


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`: every newline ends one, and within a line a deliberately simple rule does.

    A line breaks after '.', '!' or '?' (with any closing quotes or brackets that follow) and whitespace,
    unless the punctuation ends a known abbreviation ("Mr.", "U.S.") or an initial ("J."), or the next word
    starts with a lowercase letter. A stand-alone '.' (PTB-tokenized, lowercased text such as CNN/DM's)
    always breaks ("..." only before a word that does not start lowercase). '。', '！' and '？' (and '!', '?'
    after Han/kana) break without whitespace, with the quotes and brackets that close the sentence. No
    sentence is empty; each is stripped.
    """
    sentences: list[str] = []
    for line in text.split("\n"):
        cuts = [m.end() for m in _CJK_END.finditer(line)]
        cuts += [m.end() for m in _WESTERN_END.finditer(line) if _breaks_here(line, m.start(), m.end())]
        begin = 0
        for cut in sorted(set(cuts)) + [len(line)]:
            sentence = line[begin:cut].strip()
            if sentence:
                sentences.append(sentence)
            begin = cut
    return sentences


def lsum_text(text: str) -> str:
    """`text` with one sentence a line for ROUGE-Lsum: unchanged if it has a newline, else split."""
    if "\n" in text:
        return text
    return "\n".join(split_sentences(text))
