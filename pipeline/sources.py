"""Read raw article/summary pairs from JSONL, CSV/TSV, text folders, TFDS datasets or the built-in corpus.

`ReadPairs` yields two PCollections: `records` - dicts {id, article, summary, split, origin} with the raw
texts (`split` is the source's own split or "") - and `dropped` - dead-letter dicts {id, reason, detail,
origin} for input that cannot become a record (malformed line, missing field, bad encoding).
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import json
import os
from typing import Iterator

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io import fileio

from configs.schema import SourceConfig
from pipeline import builtin_corpus
from contract.records import content_id
from pipeline.dead_letters import DROPPED, RECORDS, dead_letter, unreadable
from workspace.errors import InputError
from workspace.input_files import folder_roots, read_whole_file
from pipeline.input_matching import input_files
from pipeline.lines import ReadLines

# Field names of TFDS summarization datasets, used when the configured names are absent from the features.
TFDS_FIELDS = {"cnn_dailymail": ("article", "highlights"), "xsum": ("document", "summary"),
               "gigaword": ("document", "summary"), "multi_news": ("document", "summary"),
               "aeslc": ("email_body", "subject_line"), "scientific_papers": ("article", "abstract"),
               "billsum": ("text", "summary"), "reddit_tifu": ("documents", "tldr")}


def parse_json_line(line: bytes | InputError, origin: str) -> tuple[object, dict | None]:
    """(parsed JSON value, None), (None, dead letter) for bad UTF-8 or JSON or an unreadable file, or
    (None, None) for a blank line (layout, not a record)."""
    if isinstance(line, InputError):
        return None, unreadable(origin, line)
    if line.startswith(codecs.BOM_UTF8):  # a byte-order mark opens the first line of some exports
        line = line[len(codecs.BOM_UTF8):]
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as e:
        return None, dead_letter(id=content_id(repr(line)), reason="bad_encoding", detail=str(e), origin=origin)
    if not text.strip():
        return None, None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        return None, dead_letter(id=content_id(text), reason="malformed", detail=f"{e}: {text[:80]}",
                                 origin=origin)
    if value is None:  # a literal `null` line: a record that says nothing, not a blank line
        return None, dead_letter(id=content_id(text), reason="malformed", detail="null", origin=origin)
    return value, None


def pair_record(obj, cfg: SourceConfig, *, origin: str, split: str, fallback_id: str = "") -> Iterator:
    """A parsed JSON object or CSV row -> the record {id, article, summary, split, origin}, or a tagged dead
    letter saying why not (not an object, a missing field, a field of the wrong type)."""
    if not isinstance(obj, dict):
        yield pvalue.TaggedOutput(DROPPED, dead_letter(id=fallback_id, reason="malformed",
                                                       detail=f"not an object: {str(obj)[:80]}", origin=origin))
        return
    article, summary = obj.get(cfg.article_field), obj.get(cfg.summary_field)
    raw_id = obj.get(cfg.id_field)
    record_id = str(raw_id) if raw_id not in (None, "") else (fallback_id or content_id(str(article), str(summary)))
    for name, value in ((cfg.article_field, article), (cfg.summary_field, summary)):
        if value is None:
            yield pvalue.TaggedOutput(DROPPED, dead_letter(id=record_id, reason="missing_field",
                                                           detail=f"no {name!r}", origin=origin))
            return
    if isinstance(summary, list) and all(isinstance(s, str) for s in summary):  # several sentences
        summary = "\n".join(summary)
    for name, value in ((cfg.article_field, article), (cfg.summary_field, summary)):
        if not isinstance(value, str):
            yield pvalue.TaggedOutput(DROPPED, dead_letter(
                id=record_id, reason="wrong_type", origin=origin,
                detail=f"{name!r} is {type(value).__name__}, expected a string: {str(value)[:60]}"))
            return
    yield {"id": record_id, "article": article, "summary": summary, "split": split, "origin": origin}


class _ParsePairs(beam.DoFn):
    """Turn one raw JSONL line into a record, or a dead letter saying why not."""

    def __init__(self, cfg: SourceConfig, split_of: dict | None = None):
        self._cfg, self._split_of = cfg, split_of or {}

    def process(self, element):
        origin, line = element  # from ReadLines
        obj, dropped = parse_json_line(line, origin)
        if dropped is not None:
            yield pvalue.TaggedOutput(DROPPED, dropped)
        elif obj is not None:
            yield from pair_record(obj, self._cfg, origin=origin, split=self._split_of.get(origin, ""))


class _ReadCsv(beam.DoFn):
    """A whole CSV/TSV file (quoted fields may span lines, so files are not split)."""

    def __init__(self, cfg: SourceConfig, split_of: dict):
        self._cfg, self._split_of = cfg, split_of

    def process(self, readable: fileio.ReadableFile) -> Iterator:
        path = readable.metadata.path
        delimiter = "\t" if self._cfg.format == "tsv" else ","
        raw, failed = read_whole_file(path)
        if failed is not None:
            yield pvalue.TaggedOutput(DROPPED, unreadable(path, failed))
            return
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="surrogateescape")
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        base = os.path.basename(path)
        try:
            for row in reader:
                row_id = f"{base}:{reader.line_num}"
                if None in row or any(v is None for v in row.values()):
                    yield pvalue.TaggedOutput(DROPPED, dead_letter(
                        id=row_id, reason="malformed", detail="wrong number of columns", origin=path))
                    continue
                bad = [k for k, v in row.items() if isinstance(v, str) and _has_surrogates(v)]
                if bad:
                    yield pvalue.TaggedOutput(DROPPED, dead_letter(
                        id=row_id, reason="bad_encoding", detail=f"invalid UTF-8 in {bad}", origin=path))
                    continue
                yield from pair_record(row, self._cfg, origin=path, split=self._split_of.get(path, ""),
                                       fallback_id=row_id)
        except csv.Error as e:  # the rest of the file cannot be parsed: say so, do not drop it silently
            yield pvalue.TaggedOutput(DROPPED, dead_letter(
                id=f"{base}:{reader.line_num}", reason="malformed", detail=f"csv error, rest of file: {e}",
                origin=path))


def _has_surrogates(text: str) -> bool:
    try:
        text.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


class _ReadTextFile(beam.DoFn):
    """One text file = one record: the article, then `marker` lines each followed by a summary sentence."""

    def __init__(self, cfg: SourceConfig, root_of: dict, split_of: dict):
        self._cfg, self._root_of, self._split_of = cfg, root_of, split_of

    def process(self, readable: fileio.ReadableFile) -> Iterator:
        path = readable.metadata.path
        record_id = os.path.relpath(path, self._root_of.get(path, os.path.dirname(path)))
        raw, failed = read_whole_file(path)
        if failed is not None:
            yield pvalue.TaggedOutput(DROPPED, unreadable(path, failed))
            return
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            yield pvalue.TaggedOutput(DROPPED, dead_letter(id=record_id, reason="bad_encoding", detail=str(e),
                                                           origin=path))
            return
        article, summary = split_story(text, self._cfg.summary_marker)
        if not summary:
            yield pvalue.TaggedOutput(DROPPED, dead_letter(
                id=record_id, reason="missing_field", detail=f"no {self._cfg.summary_marker!r} summary lines",
                origin=path))
            return
        yield {"id": record_id, "article": article, "summary": summary, "split": self._split_of.get(path, ""),
               "origin": path}


def split_story(text: str, marker: str) -> tuple[str, str]:
    """CNN/DM story layout: article lines, then `marker` + one summary sentence per marker."""
    article, summary, after_marker = [], [], False
    for line in text.splitlines():
        stripped = line.strip()
        if stripped == marker:
            after_marker = True
        elif stripped and after_marker:
            summary.append(stripped)
            after_marker = False
        elif stripped and not summary:
            article.append(stripped)
    return "\n".join(article), "\n".join(summary)


class _ReadTfds(beam.DoFn):
    """Iterate one split of a prepared TFDS dataset (never downloads: data must be in `tfds_data_dir`)."""

    def __init__(self, cfg: SourceConfig):
        self._cfg = cfg

    def process(self, element) -> Iterator:
        split, tfds_split = element
        import tensorflow_datasets as tfds

        cfg = self._cfg
        builder = tfds.builder(cfg.tfds_name, data_dir=cfg.tfds_data_dir or None)
        features = set(builder.info.features.keys())
        article_field, summary_field = cfg.article_field, cfg.summary_field
        if not {article_field, summary_field} <= features:
            article_field, summary_field = TFDS_FIELDS.get(cfg.tfds_name.split("/")[0].split(":")[0],
                                                           (article_field, summary_field))
        if not {article_field, summary_field} <= features:
            raise ValueError(f"source: TFDS {cfg.tfds_name} has features {sorted(features)}; set "
                             f"source.article_field and source.summary_field to two of them")
        origin = f"tfds:{cfg.tfds_name}/{tfds_split}"
        dataset = builder.as_dataset(split=tfds_split, shuffle_files=False)
        for index, example in enumerate(tfds.as_numpy(dataset)):
            raw_id = example.get(cfg.id_field) if cfg.id_field in features else None
            record_id = raw_id.decode("utf-8") if isinstance(raw_id, bytes) else f"{origin}/{index}"
            texts = []
            for value in (example[article_field], example[summary_field]):
                try:
                    texts.append(value.decode("utf-8"))
                except UnicodeDecodeError as e:
                    yield pvalue.TaggedOutput(DROPPED, dead_letter(id=record_id, reason="bad_encoding",
                                                                   detail=str(e), origin=origin))
                    break
            else:
                yield {"id": record_id, "article": texts[0], "summary": texts[1], "split": split,
                       "origin": origin}


class ReadPairs(beam.PTransform):
    """The configured source -> {records, dropped}. files: the (path, split) pairs to read, as the run's
    identity matched them (pipeline/completion.py `Run.input_splits`); matched from `cfg` when not given."""

    def __init__(self, cfg: SourceConfig, files: list[tuple[str, str]] | None = None):
        super().__init__()
        self._cfg, self._files = cfg, files

    def expand(self, pipeline):
        cfg = self._cfg
        if cfg.format == "builtin":
            modules = [tuple(f) for f in builtin_corpus.module_files(cfg.builtin_packages)]
            records = (pipeline
                       | "ListModules" >> beam.Create(modules)
                       | "ParseDocstrings" >> beam.FlatMap(builtin_corpus.docstring_pairs,
                                                         with_names=cfg.builtin_names))
            if cfg.builtin_max_records:
                # Deterministic cap: keep the records whose ids hash lowest.
                records = (records
                           | "Cap" >> beam.combiners.Top.Of(cfg.builtin_max_records,
                                                            key=lambda r: _neg_hash(r["id"]))
                           | "Flatten" >> beam.FlatMap(lambda rs: rs))
            empty = pipeline | "NoDeadLetters" >> beam.Create([])
            return {RECORDS: records, DROPPED: empty}
        if cfg.format == "tfds":
            splits = sorted(cfg.tfds_splits.items())
            result = (pipeline | "ListSplits" >> beam.Create(splits)
                      | "ReadTfds" >> beam.ParDo(_ReadTfds(cfg)).with_outputs(DROPPED, main=RECORDS))
            return {RECORDS: result[RECORDS], DROPPED: result[DROPPED]}

        files = self._files if self._files is not None else input_files(cfg)
        split_of = {path: split for path, split in files}
        if cfg.format == "jsonl":
            result = (pipeline | "ReadLines" >> ReadLines(sorted(split_of))
                      | "ParseJson" >> beam.ParDo(_ParsePairs(cfg, split_of)).with_outputs(DROPPED, main=RECORDS))
        else:
            readable = (pipeline | "ListFiles" >> beam.Create(sorted(split_of))
                        | "Match" >> fileio.MatchAll() | "Open" >> fileio.ReadMatches())
            if cfg.format in ("csv", "tsv"):
                result = readable | "ReadCsv" >> beam.ParDo(_ReadCsv(cfg, split_of)).with_outputs(
                    DROPPED, main=RECORDS)
            else:
                roots = folder_roots(list(cfg.paths) + list(cfg.split_paths.values()), list(split_of))
                result = readable | "ReadTextFiles" >> beam.ParDo(
                    _ReadTextFile(cfg, roots, split_of)).with_outputs(DROPPED, main=RECORDS)
        return {RECORDS: result[RECORDS], DROPPED: result[DROPPED]}


def _neg_hash(record_id: str) -> int:
    return -int(hashlib.sha1(record_id.encode("utf-8")).hexdigest()[:15], 16)
