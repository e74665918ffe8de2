"""`CleanPairs`: normalise raw records, assign their split, and drop (with a reason) those unfit to train on."""

from __future__ import annotations

import apache_beam as beam
from apache_beam import pvalue

from configs.schema import CleanConfig, SplitConfig
from contract import text
from contract.text import clean_article
from pipeline.dead_letters import DROPPED, RECORDS, dead_letter
from contract.split import assign_split


def clean_record(record: dict, cfg: CleanConfig) -> tuple[dict | None, str, str]:
    """(cleaned record, "", "") or (None, reason, detail). Plain Python: the benchmarks' loops call it too."""
    article = clean_article(record["article"], cfg)
    summary = text.sentences_per_line(text.normalize(
        record["summary"], unicode_form=cfg.unicode_form, strip_html=cfg.strip_html, lowercase=cfg.lowercase))
    if not article.strip():
        return None, "empty_article", ""
    if not summary.strip():
        return None, "empty_summary", ""
    for name, value, low, high in (("article", article, cfg.min_article_words, cfg.max_article_words),
                                   ("summary", summary, cfg.min_summary_words, cfg.max_summary_words)):
        n = text.length(value, cfg.length_unit)
        if n < low:
            return None, f"{name}_too_short", f"{n} {text.unit_name(value, cfg.length_unit)} < {low}"
        if n > high:
            return None, f"{name}_too_long", f"{n} {text.unit_name(value, cfg.length_unit)} > {high}"
    return {"id": record["id"], "article": article, "summary": summary, "split": record.get("split", "")}, "", ""


class _Clean(beam.DoFn):
    def __init__(self, clean: CleanConfig, split: SplitConfig):
        self._clean, self._split = clean, split

    def process(self, record):
        cleaned, reason, detail = clean_record(record, self._clean)
        if cleaned is None:
            yield pvalue.TaggedOutput(DROPPED, dead_letter(id=record["id"], reason=reason, detail=detail,
                                                           origin=record.get("origin", "")))
            return
        if not cleaned["split"]:
            cleaned["split"] = assign_split(cleaned["id"], self._split)
        yield cleaned


class CleanPairs(beam.PTransform):
    """raw records -> {records: cleaned records with a split, dropped: dead letters}."""

    def __init__(self, clean: CleanConfig, split: SplitConfig):
        super().__init__()
        self._clean, self._split = clean, split

    def expand(self, records):
        result = records | "Clean" >> beam.ParDo(_Clean(self._clean, self._split)).with_outputs(
            DROPPED, main=RECORDS)
        return {RECORDS: result[RECORDS], DROPPED: result[DROPPED]}
