"""`ReadDocuments`: documents to summarize, from JSONL, a folder of text files or TFRecords (gzip too).

Yields {records: {id, text, origin}, dropped: dead letters}, like `pipeline.sources.ReadPairs` for pairs.
"""

from __future__ import annotations

import os

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io import fileio
from apache_beam.io.filesystems import FileSystems

from configs.schema import SummarizeConfig
from pipeline.sources import DROPPED, RECORDS, ReadLines, content_id, dead_letter, parse_json_line


def document_files(cfg: SummarizeConfig) -> list[str]:
    out = []
    for pattern in cfg.inputs:
        if cfg.format == "text_dir" and not any(ch in pattern for ch in "*?["):
            pattern = pattern.rstrip("/") + "/**"
        matched = sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)
        if not matched:
            raise FileNotFoundError(f"summarize.inputs: no files match {pattern!r}")
        out.extend(matched)
    if not out:
        raise FileNotFoundError("summarize.inputs: give the documents to summarize (--input FILE_OR_GLOB)")
    return out


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
        if not isinstance(obj, dict) or not isinstance(obj.get(self._cfg.text_field), str):
            yield pvalue.TaggedOutput(DROPPED, dead_letter(
                id=str(obj.get(self._cfg.id_field, "")) if isinstance(obj, dict) else content_id(str(obj)),
                reason="missing_field", detail=f"no text field {self._cfg.text_field!r}", origin=origin))
            return
        raw_id = obj.get(self._cfg.id_field)
        doc_id = str(raw_id) if raw_id not in (None, "") else content_id(obj[self._cfg.text_field])
        yield {"id": doc_id, "text": obj[self._cfg.text_field], "origin": origin}


class _ReadTextDocument(beam.DoFn):
    def __init__(self, roots: dict):
        self._roots = roots

    def process(self, readable: fileio.ReadableFile):
        path = readable.metadata.path
        doc_id = os.path.relpath(path, self._roots.get(path, os.path.dirname(path)))
        with readable.open() as f:
            raw = f.read()
        try:
            yield {"id": doc_id, "text": raw.decode("utf-8"), "origin": path}
        except UnicodeDecodeError as e:
            yield pvalue.TaggedOutput(DROPPED, dead_letter(id=doc_id, reason="bad_encoding", detail=str(e),
                                                           origin=path))


def _parse_tfrecord_document(serialized: bytes, cfg: SummarizeConfig):
    from pipeline.example_proto import Example

    try:
        feature = Example.FromString(serialized).features.feature
        text = feature[cfg.text_field].bytes_list.value[0].decode("utf-8")
        doc_id = (feature[cfg.id_field].bytes_list.value[0].decode("utf-8")
                  if feature[cfg.id_field].bytes_list.value else content_id(text))
    except Exception as e:  # a corrupt or foreign record: dead-letter it with the reason
        yield pvalue.TaggedOutput(DROPPED, dead_letter(id=content_id(repr(serialized[:64])), reason="malformed",
                                                       detail=f"{type(e).__name__}: {e}"))
        return
    yield {"id": doc_id, "text": text, "origin": "tfrecord"}


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
            records = [pipeline | f"ReadRecords{i}" >> beam.io.ReadFromTFRecord(path) for i, path in enumerate(files)]
            result = (records | "AllRecords" >> beam.Flatten()
                      | "Parse" >> beam.FlatMap(_parse_tfrecord_document, cfg).with_outputs(DROPPED, main=RECORDS))
        else:
            roots = {}
            for pattern in cfg.inputs:
                root = pattern.split("*")[0].rstrip("/")
                for path in files:
                    if path.startswith(root):
                        roots[path] = root if os.path.isdir(root) else os.path.dirname(root)
            result = (pipeline | "ListFiles" >> beam.Create(files) | "Match" >> fileio.MatchAll()
                      | "Open" >> fileio.ReadMatches()
                      | "Read" >> beam.ParDo(_ReadTextDocument(roots)).with_outputs(DROPPED, main=RECORDS))
        return {RECORDS: result[RECORDS], DROPPED: result[DROPPED]}
