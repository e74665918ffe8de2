"""The batch summarization job: documents -> cleaned -> length-bucketed batches -> exported model -> JSONL.

The exported model (`sumflow export`; its format is contract/export_format.py's) takes raw strings and returns
summaries: tokenizer, decoder and detokenizer all run in the graph. Each
worker loads it once (`setup`, shared between the worker's threads). Documents are grouped by length before
batching so a batch pads little; a batch that fails is retried one document at a time, so one bad document
never takes down its batch-mates (it goes to the dead-letter file with the reason: `summarize_failed`, or
`rejected_long_document` under `summarize.long_documents: reject`, with the document's origin).

The exported model is pinned: its identity (pipeline/completion.py `exported_model`) is read once at the
start, each worker checks it when it loads the model, and the run checks it again before it marks anything
complete; an export that replaced it in between fails the run (exit 3), one writing it now makes the run
exit 75 (retry later). A run that summarizes nothing from a non-empty input fails (exit 3) with the most
common drop reason and its fix (pipeline/no_summaries.py).

Output is written to a staging folder and moved into place at the end (workspace/outputs.py): a crashed run
leaves no partial output, and a rerun writes the complete output once, with no duplicates. A rerun whose
documents, model, config and code are those of the complete output there has nothing to do
(pipeline/completion.py); one whose documents changed decodes only the new and changed ones and writes the
earlier summaries of the others again (pipeline/reuse.py; --force decodes everything).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import typing
from typing import Any, Callable, Sequence

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from configs.load import config_yaml
from configs.schema import Config, SummarizeConfig
from pipeline import completion
from workspace import outputs
from contract import text
from contract.exported_model import ExportedModel
from contract.text import clean_article
from pipeline.documents import ReadDocuments, document_files
from pipeline.no_summaries import no_summaries_error
from pipeline.reuse import (ReuseEarlierSummaries, WriteReuse, earlier_summaries, id_key, read_reuse, reuse_line,
                            text_sha256)
from pipeline.numbered_lines import numbered_ranges, position_key
from workspace.readers import shared_lock
from pipeline.accounting import Accounted, check_accounts, read_accounting
from workspace.progress import Counter
from pipeline.dead_letters import DROPPED, NAMESPACE, RECORDS, dead_letter

COUNTS_FILE = completion.COUNTS_FILE  # {"input": n, "summarized": n, "dropped:REASON": n}
OUTPUT_NAMES = list(completion.SUMMARIZE_OUTPUTS)


def length_bucket(words: int) -> int:
    """Documents of similar length share a bucket (powers of two words)."""
    return max(0, int(math.log2(max(words, 1))))


class _CleanDocument(beam.DoFn):
    def __init__(self, cfg: Config):
        self._clean = cfg.clean

    def process(self, doc):
        cleaned = clean_article(doc["text"], self._clean)  # as the training articles were cleaned
        if not cleaned:
            yield pvalue.TaggedOutput(DROPPED, dead_letter(id=doc["id"], reason="empty_document",
                                                           origin=doc["origin"]))
            return
        yield length_bucket(text.length(cleaned)), {"id": doc["id"], "text": cleaned, "origin": doc["origin"],
                                                    "sha": text_sha256(cleaned)}


class RejectedLongDocument(ValueError):
    """A document longer than the model reads, under summarize.long_documents=reject."""


def load_pinned(export_dir: str, pinned: dict | None) -> ExportedModel:
    """The exported model, loaded holding its directory's lock shared (LockedError while an export writes it),
    after checking that it is still the one the run pinned (InputError otherwise)."""
    with shared_lock(export_dir, what="summarize.model_dir"):
        if pinned is not None:
            completion.check_model_unchanged(export_dir, pinned)
        return ExportedModel.load(export_dir)


class _Summarize(beam.DoFn):
    def __init__(self, cfg: SummarizeConfig, shared_handle, total: int, pinned: dict | None = None):
        self._cfg, self._shared, self._total, self._pinned = cfg, shared_handle, total, pinned
        self._done = Metrics.counter(NAMESPACE, "summarized")

    def setup(self):
        export_dir, pinned = self._cfg.model_dir, self._pinned
        self._model = self._shared.acquire(lambda: load_pinned(export_dir, pinned))
        self._progress = Counter("summarize", total=self._total, unit="docs")

    def _run(self, texts: list[str]) -> list[dict]:
        return self._model.summarize_batch(texts)

    def _summarize(self, docs: list[dict]) -> list:
        """One result per document: a summary dict, or the exception that rejects it."""
        texts = [d["text"] for d in docs]
        if self._cfg.long_documents == "truncate":
            return self._run(texts)
        limit = self._model.info.max_source_tokens
        lengths = self._model.count_tokens(texts)
        results: list = [None] * len(docs)
        fitting = [i for i, n in enumerate(lengths) if n <= limit]
        if fitting:
            for i, result in zip(fitting, self._run([texts[i] for i in fitting])):
                results[i] = result
        for i, n in enumerate(lengths):
            if n <= limit:
                continue
            if self._cfg.long_documents == "reject":
                results[i] = RejectedLongDocument(f"document has {n} tokens, the model reads {limit} "
                                                  f"(summarize.long_documents=reject)")
            else:  # chunk: summarize consecutive sentence-aligned chunks and join their summaries
                results[i] = self._chunked(texts[i], int(n), limit)
        return results

    def _chunked(self, document: str, tokens: int, limit: int) -> dict:
        """Consecutive sentences packed into chunks that fit the model (token counts estimated per length unit:
        a word, or a Han/kana character)."""
        sentences = text.split_sentences(document)
        tokens_per_unit = tokens / max(text.length(document), 1)
        budget = 0.9 * limit  # the estimate is per unit, not exact: leave a margin
        chunks, current, used = [], [], 0.0
        for sentence in sentences:
            cost = text.length(sentence) * tokens_per_unit
            if current and used + cost > budget:
                chunks.append(text.join_sentences(current))
                current, used = [], 0.0
            current.append(sentence)
            used += cost
        chunks.append(text.join_sentences(current))
        parts = self._run(chunks)
        return {"summary": "\n".join(p["summary"] for p in parts), "source_tokens": tokens,
                "summary_tokens": sum(p["summary_tokens"] for p in parts),
                "truncated": any(p["truncated"] for p in parts), "chunks": len(chunks)}

    def _emit(self, doc, result):
        if isinstance(result, RejectedLongDocument):
            return pvalue.TaggedOutput(DROPPED, dead_letter(id=doc["id"], reason="rejected_long_document",
                                                            detail=str(result), origin=doc["origin"]))
        if isinstance(result, Exception):
            return pvalue.TaggedOutput(DROPPED, dead_letter(id=doc["id"], reason="summarize_failed",
                                                            detail=f"{type(result).__name__}: {result}",
                                                            origin=doc["origin"]))
        self._done.inc()
        return {"id": doc["id"], **result, "model": self._model.info.fingerprint, "source_sha256": doc["sha"]}

    def process(self, keyed_batch):
        _, docs = keyed_batch
        docs = list(docs)
        try:
            results = self._summarize(docs)
        except Exception:  # retry one by one below: find the bad document, keep its batch-mates
            results = []
            for doc in docs:
                try:
                    results.append(self._summarize([doc])[0])
                except Exception as e:  # this document alone fails: dead-letter it with the reason
                    results.append(e)
        for doc, result in zip(docs, results):
            yield self._emit(doc, result)
        self._progress.add(len(docs))

    def finish_bundle(self):
        self._progress.flush()


def count_documents(cfg: SummarizeConfig, files: list[str] | None = None) -> int:
    """Documents in the input `files` (matched from `cfg` when not given): non-blank lines of JSONL, files of a
    folder, for progress; 0 when unknown (TFRecords)."""
    files = document_files(cfg) if files is None else files
    if cfg.format == "text_dir":
        return len(files)
    if cfg.format != "jsonl":
        return 0
    return numbered_ranges(files)[1]


class DropDuplicateIds(beam.PTransform):
    """documents -> {records: the first document of each id, dropped: the others as `duplicate_id`}.

    Ids are compared with their JSON type (1 and "1" differ). The copy kept is the first by position (file
    path, line), then text: the same on every runner, whatever the bundle order.
    """

    def expand(self, docs):
        def split(keyed):
            _, copies = keyed
            copies = sorted(copies, key=lambda d: (position_key(d["origin"]), d["text"]))
            yield copies[0]
            for copy in copies[1:]:
                yield pvalue.TaggedOutput(DROPPED, dead_letter(
                    id=copy["id"], reason="duplicate_id", origin=copy["origin"],
                    detail=f"id seen {len(copies)} times; the first copy ({copies[0]['origin']}) is summarized"))

        return (docs | "ById" >> beam.Map(lambda d: (id_key(d["id"]), d)) | "GroupById" >> beam.GroupByKey()
                | "FirstOfEach" >> beam.FlatMap(split).with_outputs(DROPPED, main=RECORDS))


class SummarizeDocuments(beam.PTransform):
    """cleaned, length-keyed documents -> {records: summary rows, dropped: dead letters}."""

    def __init__(self, cfg: SummarizeConfig, total: int = 0, pinned: dict | None = None):
        super().__init__()
        self._cfg, self._total, self._pinned = cfg, total, pinned

    def expand(self, keyed_docs):
        from apache_beam.utils.shared import Shared

        result = (keyed_docs
                  # (bucket, document) pairs; the explicit type lets GroupIntoBatches check its keyed input
                  # (values Any: an id keeps its JSON type).
                  | "Keyed" >> beam.Map(lambda kv: kv).with_output_types(typing.Tuple[int, typing.Dict[str, Any]])
                  | "BatchBySimilarLength" >> beam.GroupIntoBatches(self._cfg.batch_size)
                  | "Summarize" >> beam.ParDo(_Summarize(self._cfg, Shared(), self._total, self._pinned))
                  .with_outputs(DROPPED, main=RECORDS))
        return {RECORDS: result[RECORDS], DROPPED: result[DROPPED]}


def build(p: beam.Pipeline, config: Config, staging: str, total: int, *, ranges=None, files=None,
          pinned: dict | None = None, earlier: str | None = None, settings_fingerprint: str = "") -> None:
    """files: the document files (as the run's identity matched them); earlier: the glob of an earlier output's
    summaries to reuse (pipeline/reuse.py), None to decode all."""
    cfg = config.summarize
    docs = p | "Read" >> ReadDocuments(cfg, ranges, files)
    unique = {RECORDS: docs[RECORDS], DROPPED: None}
    if cfg.duplicate_ids == "drop":
        unique = docs[RECORDS] | "DropDuplicateIds" >> DropDuplicateIds()
    cleaned = unique[RECORDS] | "Clean" >> beam.ParDo(_CleanDocument(config)).with_outputs(DROPPED, main=RECORDS)
    reuse = cleaned[RECORDS] | "Reuse" >> ReuseEarlierSummaries(earlier)
    reuse["events"] | "Reused" >> WriteReuse(outputs.join(staging, completion.REUSE_FILE), settings_fingerprint)
    summaries = reuse["decode"] | "Summarize" >> SummarizeDocuments(cfg, total, pinned)
    rows = (summaries[RECORDS], reuse["reused"]) | "AllRows" >> beam.Flatten()
    (rows | "Json" >> beam.Map(lambda r: json.dumps(r, ensure_ascii=False, sort_keys=True))
     | "Write" >> beam.io.WriteToText(FileSystems.join(staging, "summaries", "summaries"),
                                      file_name_suffix=".jsonl"))
    p | "Accounted" >> Accounted(
        output_dir=staging, accounting_path=FileSystems.join(staging, COUNTS_FILE), counts_only=True,
        inputs=(docs[RECORDS], docs[DROPPED]), written={"summarized": rows},
        dropped=(docs[DROPPED], unique[DROPPED], cleaned[DROPPED], summaries[DROPPED]))


@dataclasses.dataclass(frozen=True)
class SummarizeResult:
    output_dir: str
    counts: dict
    seconds: float
    status: str = "written"  # "written" | "skipped" (already complete)


def run(config: Config, *, force: bool = False, allow_nonempty: bool = False, beam_args: Sequence[str] = (),
        make_pipeline: Callable[[], beam.Pipeline] | None = None, identity: completion.Run | None = None,
        log: Callable[[str], None] = print) -> SummarizeResult:
    """Run the summarization job; returns quickly with status "skipped" when the same run already completed.

    identity: the run as `completion.check_summarize` found it incomplete (jobs/summarize.py decides that
    before loading Beam); computed here when not given. The documents read are the files it lists.
    """
    from pipeline.runner import make_pipeline as default_make_pipeline, pipeline_options

    start = time.time()
    cfg = config.summarize
    out = cfg.output_dir
    if identity is None:
        identity, done = completion.check_summarize(config, allow_nonempty=allow_nonempty, force=force)
        if done is not None:
            log(completion.nothing_to_do(identity))
            return SummarizeResult(out, done, time.time() - start, status="skipped")
    files = identity.input_paths
    ranges = None
    if cfg.format == "jsonl":  # one pass over the files cuts the numbered ranges and counts the documents
        ranges, total = numbered_ranges(files)
    else:
        total = count_documents(cfg, files)
    log(f"summarize: {total or 'an unknown number of'} documents from {len(cfg.inputs)} input pattern(s)")
    make = make_pipeline or (lambda: default_make_pipeline(pipeline_options(config.beam, beam_args)))
    with outputs.staged(out, job="summarize", names=OUTPUT_NAMES, allow_nonempty=allow_nonempty,
                        inputs=files, claimed=True) as staging:  # claimed by the check (once more under the lock)
        earlier = None if force else earlier_summaries(out, identity.settings_fingerprint)  # under the lock
        outputs.write_text(outputs.join(staging, "config.yaml"), config_yaml(config))
        with make() as p:
            build(p, config, staging, total, ranges=ranges, files=files, pinned=identity.model, earlier=earlier,
                  settings_fingerprint=identity.settings_fingerprint)
        completion.check_inputs_unchanged(identity, config)  # the documents read are those the run recorded
        counts = read_accounting(FileSystems.join(staging, COUNTS_FILE))
        dropped = check_accounts(counts, written=counts.get("summarized", 0), output_dir=staging,
                                 what="documents")
        if not counts.get("summarized", 0):  # success means summaries: nothing is marked complete
            raise no_summaries_error(counts, dropped, staging=staging, cfg=cfg, files=files)
        # The model the workers loaded is still the one pinned (and no export replaces it until committed).
        with shared_lock(cfg.model_dir, what="summarize.model_dir"):
            completion.check_model_unchanged(cfg.model_dir, identity.model)
            outputs.commit(staging, out, job="summarize", marker=identity.fingerprint)
    seconds = time.time() - start
    log(f"summarize: {counts.get('summarized', 0)} summaries, {sum(dropped.values())} dropped {dropped}, "
        f"{seconds:.1f}s ({counts.get('summarized', 0) / max(seconds, 1e-9):.1f} docs/s) -> {out}/summaries")
    log(reuse_line(read_reuse(out)))
    return SummarizeResult(out, counts, seconds)
