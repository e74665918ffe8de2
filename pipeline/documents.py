"""`ReadDocuments`: documents to summarize, from JSONL, a folder of text files or TFRecords (gzip too).

Yields {records: {id, text, origin}, dropped: dead letters}, like `pipeline.sources.ReadPairs` for pairs.

origin is where the document comes from: `path:line` for JSONL (1-based, blank lines counted), `path:n` for the
n-th record of a TFRecord file, the file's path for a text folder; every dead letter carries it. An id keeps
its JSON type (`1` and `"1"` are two documents); a document without one (absent, null or "") gets its
origin as id, so it can be traced back to its row.
"""

from __future__ import annotations

import os

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io import fileio

from configs.schema import SummarizeConfig
from workspace.errors import InputError
from workspace.input_files import folder_roots, read_whole_file, reading
from pipeline.dead_letters import DROPPED, RECORDS, dead_letter, unreadable
from pipeline.numbered_lines import Range, ReadNumberedLines, numbered_ranges
from pipeline.sources import parse_json_line
from pipeline.input_matching import document_files


class _ParseJsonDocument(beam.DoFn):
    def __init__(self, cfg: SummarizeConfig):
        self._cfg = cfg

    def process(self, element):
        origin, line = element
        obj, dropped = parse_json_line(line, origin)
        if dropped is not None:
            yield pvalue.TaggedOutput(DROPPED, dropped)
            return
        if obj is None:
            return
        field = self._cfg.text_field
        if not isinstance(obj, dict):
            yield pvalue.TaggedOutput(DROPPED, dead_letter(id=origin, reason="malformed",
                                                           detail=f"not an object: {str(obj)[:80]}", origin=origin))
            return
        raw_id = obj.get(self._cfg.id_field)
        doc_id = origin if raw_id is None or raw_id == "" else raw_id  # the id as given, with its JSON type
        if not isinstance(obj.get(field), str):
            missing = obj.get(field) is None
            yield pvalue.TaggedOutput(DROPPED, dead_letter(
                id=doc_id, reason="missing_field" if missing else "wrong_type", origin=origin,
                detail=f"no text field {field!r}" if missing else
                f"{field!r} is {type(obj[field]).__name__}, expected a string"))
            return
        yield {"id": doc_id, "text": obj[field], "origin": origin}


class _ReadTextDocument(beam.DoFn):
    def __init__(self, roots: dict):
        self._roots = roots

    def process(self, readable: fileio.ReadableFile):
        path = readable.metadata.path
        doc_id = os.path.relpath(path, self._roots.get(path, os.path.dirname(path)))
        raw, failed = read_whole_file(path)
        if failed is not None:
            yield pvalue.TaggedOutput(DROPPED, unreadable(path, failed))
            return
        try:
            yield {"id": doc_id, "text": raw.decode("utf-8-sig"), "origin": path}
        except UnicodeDecodeError as e:
            yield pvalue.TaggedOutput(DROPPED, dead_letter(id=doc_id, reason="bad_encoding", detail=str(e),
                                                           origin=path))


def _read_tfrecord_file(path: str):
    """("path:n", serialized record) for the n-th record (1-based); (path, the InputError) last if the file is
    truncated."""
    from contract.tfrecord import read_records

    try:
        with reading(path) as f:
            for number, record in enumerate(read_records(f, path), 1):
                yield f"{path}:{number}", record
    except InputError as e:
        yield path, e


def _parse_tfrecord_document(element: tuple[str, bytes | InputError], cfg: SummarizeConfig):
    from contract.example_proto import Example

    origin, serialized = element
    if isinstance(serialized, InputError):
        yield pvalue.TaggedOutput(DROPPED, unreadable(origin, serialized))
        return
    try:
        feature = Example.FromString(serialized).features.feature
        text = feature[cfg.text_field].bytes_list.value[0].decode("utf-8")
        ids = feature[cfg.id_field].bytes_list.value
        doc_id = (ids[0].decode("utf-8") if ids and ids[0] else "") or origin
    except Exception as e:  # a corrupt or foreign record: dead-letter it with the reason
        yield pvalue.TaggedOutput(DROPPED, dead_letter(id=origin, reason="malformed",
                                                       detail=f"{type(e).__name__}: {e}", origin=origin))
        return
    yield {"id": doc_id, "text": text, "origin": origin}


class ReadDocuments(beam.PTransform):
    """files: the document files to read, as the run's identity matched them (matched from `cfg` when not
    given). JSONL is read in the ranges `numbered_ranges` cut (given, when the caller already scanned them)."""

    def __init__(self, cfg: SummarizeConfig, ranges: list[Range] | None = None, files: list[str] | None = None):
        super().__init__()
        self._cfg, self._ranges, self._files = cfg, ranges, files

    def expand(self, pipeline):
        cfg = self._cfg
        files = self._files if self._files is not None else document_files(cfg)
        if cfg.format == "jsonl":
            ranges = self._ranges if self._ranges is not None else numbered_ranges(files)[0]
            result = (pipeline | "ReadLines" >> ReadNumberedLines(ranges)
                      | "Parse" >> beam.ParDo(_ParseJsonDocument(cfg)).with_outputs(DROPPED, main=RECORDS))
        elif cfg.format == "tfrecord":
            # Our own reader (pipeline/tfrecords.py): a truncated file fails the job instead of ending early.
            result = (pipeline | "ListFiles" >> beam.Create(files) | "ReadRecords" >> beam.FlatMap(_read_tfrecord_file)
                      | "Parse" >> beam.FlatMap(_parse_tfrecord_document, cfg).with_outputs(DROPPED, main=RECORDS))
        else:
            roots = folder_roots(list(cfg.inputs), files)
            result = (pipeline | "ListFiles" >> beam.Create(files) | "Match" >> fileio.MatchAll()
                      | "Open" >> fileio.ReadMatches()
                      | "Read" >> beam.ParDo(_ReadTextDocument(roots)).with_outputs(DROPPED, main=RECORDS))
        return {RECORDS: result[RECORDS], DROPPED: result[DROPPED]}
