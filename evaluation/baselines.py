"""Reference points for a ROUGE report: the lead-k baseline and a greedy extractive oracle.

Both work on the article's sentences from `contract.sentences.split_sentences` (the splitter ROUGE-Lsum
uses) and return a summary with one sentence a line.
"""

from __future__ import annotations

from collections import Counter
from typing import Optional, Sequence

from evaluation.parallel import map_chunks
from evaluation.rouge import RougeTokenizer
from contract.sentences import split_sentences


def lead(article: str, *, k: int) -> str:
    """The first `k` sentences of `article`, one a line."""
    return "\n".join(split_sentences(article)[:k])


def lead_words(article: str, *, n: int) -> str:
    """The first `n` words of `article` (e.g. the lead-4 baseline of subject-line generation on AESLC)."""
    return " ".join(article.split()[:n])


def oracle(article: str, references: Sequence[str], *, tokenizer: RougeTokenizer) -> str:
    """Greedy extractive oracle: article sentences that maximise ROUGE-1 F + ROUGE-2 F.

    Starting from nothing, adds the sentence that raises F1(ROUGE-1) + F1(ROUGE-2) the most against the
    best-matching reference (the same n-gram counts, clipping and F as rouge-score, on the summary's
    tokens in article order, bigrams across sentence joins included), and stops when no sentence raises
    it. Returns the chosen sentences in article order, one a line ("" if none helps).
    """
    from rouge_score.rouge_scorer import _score_ngrams  # rouge-score's clipping, precision, recall and F

    def ngrams(words: list[str]) -> tuple[Counter, Counter]:  # what rouge-score counts, built by C code
        return Counter(words), Counter(zip(words, words[1:]))

    sentences = split_sentences(article)
    tokens = [tokenizer.tokenize(s) for s in sentences]
    targets = [ngrams(tokenizer.tokenize(r)) for r in references]

    def gain(chosen: list[int]) -> float:
        unigrams, bigrams = ngrams([token for i in sorted(chosen) for token in tokens[i]])
        return max(_score_ngrams(t1, unigrams).fmeasure + _score_ngrams(t2, bigrams).fmeasure for t1, t2 in targets)

    chosen: list[int] = []
    best = 0.0
    while True:
        best_next: Optional[int] = None
        for i in range(len(sentences)):
            if i in chosen or not tokens[i]:
                continue
            score = gain(chosen + [i])
            if score > best:  # strictly better: ties keep the earlier sentence
                best, best_next = score, i
        if best_next is None:
            return "\n".join(sentences[i] for i in sorted(chosen))
        chosen.append(best_next)


_worker_tokenizer: Optional[RougeTokenizer] = None  # this process's tokenizer, built by `_start_worker`


def _start_worker(use_stemmer: bool, kind: str) -> None:
    global _worker_tokenizer
    _worker_tokenizer = RougeTokenizer(use_stemmer=use_stemmer, kind=kind)


def _oracle_chunk(pairs: list[tuple[str, Sequence[str]]]) -> list[str]:
    return [oracle(article, references, tokenizer=_worker_tokenizer) for article, references in pairs]


def oracle_summaries(*, articles: Sequence[str], references: Sequence[Sequence[str]], use_stemmer: bool = True,
                     tokenizer: str = "unicode", workers: int = 1, chunk_size: int = 32) -> list[str]:
    """`oracle` for every document, spread over `workers` processes (0 = one per core)."""
    if len(articles) != len(references):
        raise ValueError(f"{len(articles)} articles but {len(references)} reference lists")
    parts = map_chunks(_oracle_chunk, list(zip(articles, references)), workers=workers, chunk_size=chunk_size,
                       initializer=_start_worker, initargs=(use_stemmer, tokenizer))
    return [summary for part in parts for summary in part]
