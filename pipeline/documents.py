"""`ReadDocuments`: documents to summarize, from JSONL, a folder of text files or TFRecords (gzip too).

Yields {records: {id, text, origin}, dropped: dead letters}, like `pipeline.sources.ReadPairs` for pairs.
"""

from __future__ import annotations

import json
import os

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io import fileio

from configs.schema import SummarizeConfig
from workspace.errors import InputError
from workspace.input_files import folder_roots, read_whole_file, reading
from contract.records import content_id
from pipeline.dead_letters import DROPPED, RECORDS, dead_letter, unreadable
from pipeline.lines import ReadLines
from pipeline.sources import parse_json_line
from pipeline.completion import document_files


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
            yield pvalue.TaggedOutput(DROPPED, dead_letter(id=content_id(str(obj)), reason="malformed",
                                                           detail=f"not an object: {str(obj)[:80]}", origin=origin))
            return
        raw_id = obj.get(self._cfg.id_field)
        if raw_id in (None, ""):
            raw_id = None
        if not isinstance(obj.get(field), str):
            missing = obj.get(field) is None
            yield pvalue.TaggedOutput(DROPPED, dead_letter(
                id=str(raw_id) if raw_id is not None else content_id(json.dumps(obj, sort_keys=True, default=str)),
                reason="missing_field" if missing else "wrong_type", origin=origin,
                detail=f"no text field {field!r}" if missing else
                f"{field!r} is {type(obj[field]).__name__}, expected a string"))
            return
        doc_id = str(raw_id) if raw_id is not None else content_id(obj[self._cfg.text_field])
        yield {"id": doc_id, "text": obj[self._cfg.text_field], "origin": origin}


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
    """(path, serialized record) for each record; (path, the InputError) last if the file is truncated."""
    from contract.tfrecord import read_records

    try:
        with reading(path) as f:
            for record in read_records(f, path):
                yield path, record
    except InputError as e:
        yield path, e


def _parse_tfrecord_document(element: tuple[str, bytes | InputError], cfg: SummarizeConfig):
    from contract.example_proto import Example

    path, serialized = element
    if isinstance(serialized, InputError):
        yield pvalue.TaggedOutput(DROPPED, unreadable(path, serialized))
        return
    try:
        feature = Example.FromString(serialized).features.feature
        text = feature[cfg.text_field].bytes_list.value[0].decode("utf-8")
        ids = feature[cfg.id_field].bytes_list.value
        doc_id = (ids[0].decode("utf-8") if ids and ids[0] else "") or content_id(text)
    except Exception as e:  # a corrupt or foreign record: dead-letter it with the reason
        yield pvalue.TaggedOutput(DROPPED, dead_letter(id=content_id(repr(serialized[:64])), reason="malformed",
                                                       detail=f"{type(e).__name__}: {e}", origin=path))
        return
    yield {"id": doc_id, "text": text, "origin": path}


class ReadDocuments(beam.PTransform):
    def __init__(self, cfg: SummarizeConfig):
        super().__init__()
        self._cfg = cfg

    def expand(self, pipeline):
        cfg = self._cfg
        files = document_files(cfg)
        if cfg.format == "jsonl":
            result = (pipeline | "ReadLines" >> ReadLines(files)
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
