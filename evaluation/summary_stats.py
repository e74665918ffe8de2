"""Text statistics of summaries that ROUGE does not show: length, novel n-grams, repeated n-grams and words.

Counted on `RougeTokenizer` tokens without stemming (lowercased words as ROUGE sees them), n = 1..4.
Rates are pooled over the corpus (all n-grams of all summaries), not means of per-document rates.

Degenerate repetition, as shares of summaries:
  back_to_back           some token follows itself ("matching matching"; punctuation between them does not
                         count, as ROUGE's tokens have none).
  repeated_content_word  some content word occurs twice anywhere in the summary. A content word is a token
                         of at least 3 characters with at least one letter that is not in `STOP_WORDS` (a
                         small English list; other languages' function words count as content words).
"""

from __future__ import annotations

from typing import Optional, Sequence

import numpy as np

from evaluation.rouge import RougeTokenizer

ORDERS = (1, 2, 3, 4)
CONTENT_MIN_CHARS = 3
STOP_WORDS = frozenset("""
    the and for are but not you all any can had her was one our out has him his how its may new now see two
    who did get let put say she too use from that this with have they will your what when were been than them
    then there their these those which would could should about into over some such only also very just more
    most other after before where while each both same own per via upon whom whose here because
    """.split())


def is_content_word(token: str) -> bool:
    """A ROUGE token that carries content: >= CONTENT_MIN_CHARS characters, a letter, not a stop word."""
    return len(token) >= CONTENT_MIN_CHARS and token not in STOP_WORDS and any(c.isalpha() for c in token)


def repetition(tokens: Sequence[str]) -> tuple[bool, bool]:
    """(a token follows itself, a content word occurs twice) for one summary's tokens."""
    back_to_back = any(a == b for a, b in zip(tokens, tokens[1:]))
    content = [t for t in tokens if is_content_word(t)]
    return back_to_back, len(content) != len(set(content))


def _ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    return list(zip(*(tokens[i:] for i in range(n))))


def article_index(articles: Sequence[str], *, tokenizer: RougeTokenizer) -> list[str]:
    """Each article's tokens as one string, " w1 w2 ... ", for `summary_stats` to search n-grams in."""
    return [" " + " ".join(tokenizer.tokenize(article)) + " " for article in articles]


def summary_stats(summaries: Sequence[str], *, tokenizer: RougeTokenizer,
                  articles: Optional[Sequence[str]] = None) -> dict:
    """{"length": per-summary token counts (list), "novel": {n: rate} or None, "repeated": {n: rate},
    "with_repeat": {n: share}, "empty": share, "back_to_back": share, "repeated_content_word": share}.

    novel[n]: share of the summaries' n-grams that do not occur in their article (None without articles).
    repeated[n]: share of the summaries' n-grams that repeat an earlier n-gram of the same summary.
    with_repeat[n]: share of the summaries that hold some n-gram twice (degenerate repetition at n=3).
    empty: share of the summaries without a token.
    back_to_back, repeated_content_word: shares of the summaries with such a repetition (see the module doc).
    articles: `article_index` of the articles, in the order of `summaries`.
    """
    lengths = []
    total = dict.fromkeys(ORDERS, 0)
    novel = dict.fromkeys(ORDERS, 0)
    repeated = dict.fromkeys(ORDERS, 0)
    with_repeat = dict.fromkeys(ORDERS, 0)
    back_to_back = repeated_content = 0
    for i, summary in enumerate(summaries):
        tokens = tokenizer.tokenize(summary)
        lengths.append(len(tokens))
        adjacent, content = repetition(tokens)
        back_to_back += adjacent
        repeated_content += content
        for n in ORDERS:
            grams = _ngrams(tokens, n)
            total[n] += len(grams)
            repeats = len(grams) - len(set(grams))
            repeated[n] += repeats
            with_repeat[n] += repeats > 0
            if articles is not None:  # a substring search (C speed) instead of a set of article n-grams
                novel[n] += sum(1 for g in grams if " " + " ".join(g) + " " not in articles[i])
    return {
        "length": lengths,
        "novel": None if articles is None else {n: novel[n] / max(total[n], 1) for n in ORDERS},
        "repeated": {n: repeated[n] / max(total[n], 1) for n in ORDERS},
        "with_repeat": {n: with_repeat[n] / max(len(summaries), 1) for n in ORDERS},
        "empty": sum(1 for length in lengths if length == 0) / max(len(summaries), 1),
        "back_to_back": back_to_back / max(len(summaries), 1),
        "repeated_content_word": repeated_content / max(len(summaries), 1),
    }


def length_histogram(lengths: dict[str, Sequence[int]], *, bins: int = 10) -> dict:
    """Counts of token lengths per named text in shared bins: {"edges": [...], "counts": {name: [...]}}.

    Bin i holds lengths in [edges[i], edges[i+1]); the last bin holds every length >= edges[-1]. The bins
    are whole numbers of equal width covering 0 to the largest 99th percentile of any text (so a few very
    long references do not squeeze the rest into one bin), shared so every text is drawn on one scale.
    """
    top = max((float(np.percentile(v, 99)) for v in lengths.values() if len(v)), default=0.0)
    width = max(1, int(np.ceil((top + 1) / (bins - 1))))
    edges = [i * width for i in range(bins)]
    counts = {name: np.bincount(np.minimum(np.asarray(v, dtype=np.int64) // width, bins - 1),
                                minlength=bins).tolist() for name, v in lengths.items()}
    return {"edges": edges, "counts": counts}
