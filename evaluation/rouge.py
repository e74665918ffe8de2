"""ROUGE-1/2/L/Lsum per document, computed by the `rouge-score` package, in one process or a pool of them.

What sumflow adds to `rouge_score.rouge_scorer.RougeScorer` (whose scoring code is used unchanged):
- `RougeTokenizer`: keeps Unicode letters and digits (rouge-score's tokenizer deletes everything outside
  [a-z0-9], so Chinese or Russian text scores 0). Any text whose letters and digits are all ASCII gets
  exactly rouge-score's tokens, so published English figures reproduce. The Porter stemmer (about half of
  the scoring time) is memoised; the stems are the same, only computed once per word and process.
- ROUGE-Lsum needs one sentence a line. A text without a newline is split by `contract.sentences` first;
  a text with newlines is taken as it is (one sentence a line, as in CNN/DM highlights).
- Several references per document: each metric takes the reference with the highest F (`score_multi`).
- `score_documents` spreads chunks of documents over a `multiprocessing` pool; the numbers are the same
  as in one process (each document is scored by the same code, independently of the others).
"""

from __future__ import annotations

import re
from typing import Callable, Optional, Sequence

import numpy as np
import regex

from evaluation.parallel import map_chunks
from contract.sentences import lsum_text
from contract.scripts import UNSPACED_CHAR

METRICS = ("rouge1", "rouge2", "rougeL", "rougeLsum")
TOKENIZERS = ("unicode", "default")
FIELDS = ("precision", "recall", "fmeasure")  # the last axis of every score array

# rouge-score's rule: lowercase, keep runs of [a-z0-9], stem words longer than 3 characters.
_ASCII_WORD = re.compile(r"[a-z0-9]+")
# Scripts written without spaces between words score one character a token (as Chinese ROUGE usually
# does); other scripts keep runs of letters, combining marks (Devanagari vowel signs...) and decimal digits.
# Known limit: Thai, Lao, Khmer and Burmese runs are whole phrases, not words.
_UNICODE_WORD = regex.compile(UNSPACED_CHAR + r"|[[\p{L}\p{M}\p{Nd}]--" + UNSPACED_CHAR + "]+", regex.V1)


class _StemCache(dict):
    """token -> Porter stem, filled on first use. Bounded so a long-lived worker cannot grow without end."""

    MAX_ENTRIES = 500_000

    def __init__(self, stem: Callable[[str], str]):
        super().__init__()
        self._stem = stem

    def __missing__(self, token: str) -> str:
        if len(self) >= self.MAX_ENTRIES:
            self.clear()
        stem = self[token] = self._stem(token)
        return stem


class RougeTokenizer:
    """A rouge-score tokenizer (`tokenize(text) -> list[str]`).

    kind="unicode": ASCII letters/digits as rouge-score; other letters, marks and digits kept (lowercased;
      Han/kana one character a token). Only ASCII tokens are stemmed (Porter is an English stemmer).
    kind="default": exactly rouge-score's DefaultTokenizer (non-ASCII letters dropped), stems memoised.
    """

    def __init__(self, *, use_stemmer: bool = True, kind: str = "unicode"):
        if kind not in TOKENIZERS:
            raise ValueError(f"tokenizer kind {kind!r} is not one of {TOKENIZERS}")
        self.use_stemmer = use_stemmer
        self.kind = kind
        self._stems: Optional[_StemCache] = None
        if use_stemmer:
            from nltk.stem import porter  # the stemmer rouge-score uses

            self._stems = _StemCache(porter.PorterStemmer().stem)

    def tokenize(self, text: str) -> list[str]:
        text = text.lower()
        if self.kind == "default" or text.isascii():
            tokens = _ASCII_WORD.findall(text)
        else:
            tokens = _UNICODE_WORD.findall(text)
        stems = self._stems
        if stems is None:
            return tokens
        return [stems[t] if len(t) > 3 and t.isascii() else t for t in tokens]


class DocumentScorer:
    """Scores one document at a time: `score(prediction, references) -> (metrics, 3)` P/R/F array."""

    def __init__(self, *, metrics: Sequence[str] = METRICS, use_stemmer: bool = True, tokenizer: str = "unicode"):
        from rouge_score import rouge_scorer

        unknown = [m for m in metrics if m not in METRICS]
        if unknown or not metrics:
            raise ValueError(f"metrics must be a non-empty subset of {METRICS}; got {list(metrics)}")
        self.metrics = tuple(metrics)
        self.tokenizer = RougeTokenizer(use_stemmer=use_stemmer, kind=tokenizer)
        self._scorer = rouge_scorer.RougeScorer(list(self.metrics), tokenizer=self.tokenizer)
        self._needs_lines = "rougeLsum" in self.metrics

    def score(self, prediction: str, references: Sequence[str]) -> np.ndarray:
        if isinstance(references, str) or not references:
            raise ValueError("references must be a non-empty list of strings")
        if self._needs_lines:  # the other metrics ignore newlines, so one text serves all
            prediction = lsum_text(prediction)
            references = [lsum_text(r) for r in references]
        best = self._scorer.score_multi(references, prediction)  # per metric, the reference of highest F
        return np.array([[best[m].precision, best[m].recall, best[m].fmeasure] for m in self.metrics])

    def score_many(self, pairs: Sequence[tuple[str, Sequence[str]]]) -> np.ndarray:
        out = np.zeros((len(pairs), len(self.metrics), 3))
        for i, (prediction, references) in enumerate(pairs):
            out[i] = self.score(prediction, references)
        return out


_worker_scorer: Optional[DocumentScorer] = None  # this process's scorer, built by `_start_worker`


def _start_worker(settings: dict) -> None:
    global _worker_scorer
    _worker_scorer = DocumentScorer(**settings)


def _score_chunk(pairs: list[tuple[str, Sequence[str]]]) -> np.ndarray:
    return _worker_scorer.score_many(pairs)


def score_documents(*, predictions: Sequence[str], references: Sequence[Sequence[str]],
                    metrics: Sequence[str] = METRICS, use_stemmer: bool = True, tokenizer: str = "unicode",
                    workers: int = 1, chunk_size: int = 64, progress: str = "") -> np.ndarray:
    """P/R/F of every document: an array (documents, metrics, 3), last axis in `FIELDS` order.

    workers: processes (0 = one per core), each scoring chunks of `chunk_size` documents. The numbers do
    not depend on `workers` or `chunk_size`: every document is scored alone, by the same code.
    """
    if len(predictions) != len(references):
        raise ValueError(f"{len(predictions)} predictions but {len(references)} reference lists")
    settings = dict(metrics=tuple(metrics), use_stemmer=use_stemmer, tokenizer=tokenizer)
    parts = map_chunks(_score_chunk, list(zip(predictions, references)), workers=workers, chunk_size=chunk_size,
                       initializer=_start_worker, initargs=(settings,), progress=progress)
    return np.concatenate(parts) if parts else np.zeros((0, len(metrics), 3))
