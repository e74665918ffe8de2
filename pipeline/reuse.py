"""Incremental summarize: a rerun over a dump that changed decodes only the documents that are new or changed.

Every summary row carries `source_sha256`, the hash of the cleaned text it summarizes, and every complete
output holds reuse.json: {"settings_fingerprint": everything but the documents (summarize and clean settings,
the exported model, the code: pipeline/completion.py), "documents", "reused", "new", "changed", "removed"}.

A run whose settings fingerprint is the one in the earlier complete output of its directory reads that
output's summaries and matches them with its cleaned documents by (id, source_sha256), per id:
  reused   a document whose id and cleaned text an earlier row has: that row is written again, as it was;
  changed  a document whose id an earlier row has, with another text: decoded;
  new      a document whose id no earlier row has: decoded;
  removed  an earlier row whose id no document has now: not written.
Decoding is per document (a summary does not depend on its batch-mates or its padding: model/decode.py), so
the result is the same, row for row, as a run from scratch over the new dump. Another model, setting or code
version, `--force`, or an earlier output without reuse.json (or from another job) means decoding everything.
"""

from __future__ import annotations

import hashlib
import json
from typing import Iterable

import apache_beam as beam
from apache_beam import pvalue

from pipeline.completion import REUSE_FILE
from workspace import outputs

REUSED, EVENTS = "reused", "events"
KINDS = ("reused", "new", "changed", "removed")


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def id_key(doc_id) -> str:
    """The id as JSON: 1 and "1" are different ids."""
    return json.dumps(doc_id, sort_keys=True, ensure_ascii=False)


def earlier_summaries(out: str, settings_fingerprint: str) -> str | None:
    """The glob of the earlier complete output's summaries that this run may reuse, or None."""
    marker, record = outputs.join(out, outputs.SUCCESS_NAME), outputs.join(out, REUSE_FILE)
    if not (outputs.exists(marker) and outputs.exists(record)):
        return None
    try:
        earlier = json.loads(outputs.read_text(record))
    except (OSError, ValueError):
        return None
    if not isinstance(earlier, dict) or earlier.get("settings_fingerprint") != settings_fingerprint:
        return None
    if not outputs.owned_files(out, "summarize"):
        return None  # not summarize's output
    return outputs.join(out, "summaries", "summaries*.jsonl")


def _match(keyed) -> Iterable:
    """(id key, {"docs": [(bucket, doc)], "rows": [row]}) -> documents to decode (main), earlier rows written
    again (REUSED) and one event per document and removed row (EVENTS)."""
    _, groups = keyed
    docs, rows = list(groups["docs"]), list(groups["rows"])
    by_sha: dict[str, dict] = {}
    for row in rows:
        by_sha.setdefault(row.get("source_sha256"), row)
    for bucket, doc in docs:
        row = by_sha.get(doc["sha"])
        if row is not None:
            yield pvalue.TaggedOutput(REUSED, row)
            yield pvalue.TaggedOutput(EVENTS, "reused")
        else:
            yield bucket, doc
            yield pvalue.TaggedOutput(EVENTS, "changed" if rows else "new")
    if rows and not docs:
        yield pvalue.TaggedOutput(EVENTS, "removed")


class ReuseEarlierSummaries(beam.PTransform):
    """(bucket, cleaned document) pairs -> {"decode": the pairs still to decode, "reused": earlier summary rows
    written again, "events": one of KINDS per document (and per removed id)}."""

    def __init__(self, summaries_glob: str | None):
        super().__init__()
        self._glob = summaries_glob

    def expand(self, keyed_docs):
        if self._glob is None:  # nothing to reuse: every document is new
            return {"decode": keyed_docs, REUSED: keyed_docs.pipeline | "NoRows" >> beam.Create([]),
                    EVENTS: keyed_docs | "New" >> beam.Map(lambda _: "new")}
        rows = (keyed_docs.pipeline | "ReadEarlier" >> beam.io.ReadFromText(self._glob)
                | "ParseEarlier" >> beam.Map(json.loads)
                | "EarlierById" >> beam.Map(lambda row: (id_key(row["id"]), row)))
        docs = keyed_docs | "DocsById" >> beam.Map(lambda kv: (id_key(kv[1]["id"]), kv))
        matched = ({"docs": docs, "rows": rows} | "ById" >> beam.CoGroupByKey()
                   | "Match" >> beam.FlatMap(_match).with_outputs(REUSED, EVENTS, main="decode"))
        return {"decode": matched["decode"], REUSED: matched[REUSED], EVENTS: matched[EVENTS]}


class WriteReuse(beam.PTransform):
    """events -> `path` (reuse.json): the settings fingerprint and the count of each kind."""

    def __init__(self, path: str, settings_fingerprint: str):
        super().__init__()
        self._path, self._fingerprint = path, settings_fingerprint

    def expand(self, events):
        path, fingerprint = self._path, self._fingerprint

        def write(counts: dict) -> None:
            record = {"settings_fingerprint": fingerprint, **counts,
                      "documents": counts["reused"] + counts["new"] + counts["changed"]}
            outputs.write_text(path, json.dumps(record, sort_keys=True))

        return (events | "PerKind" >> beam.combiners.Count.PerElement() | "Counts" >> beam.combiners.ToDict()
                | "WriteReuse" >> beam.Map(lambda found: write({kind: found.get(kind, 0) for kind in KINDS})))


def read_reuse(out: str) -> dict:
    return json.loads(outputs.read_text(outputs.join(out, REUSE_FILE)))


def reuse_line(counts: dict) -> str:
    return (f"summarize: {counts['documents']:,} documents: {counts['reused']:,} reused, {counts['new']:,} new, "
            f"{counts['changed']:,} changed, {counts['removed']:,} removed")
