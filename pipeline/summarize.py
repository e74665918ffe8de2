"""The batch summarization job: documents -> cleaned -> length-bucketed batches -> exported model -> JSONL.

The exported model (`sumflow export`; its format is contract/export_format.py's) takes raw strings and returns
summaries: tokenizer, decoder and detokenizer all run in the graph. Each
worker loads it once (`setup`, shared between the worker's threads). Documents are grouped by length before
batching so a batch pads little; a batch that fails is retried one document at a time, so one bad document
never takes down its batch-mates (it goes to the dead-letter file with the reason).

Output is written to a staging folder and moved into place at the end (workspace/outputs.py): a crashed run
leaves no partial output, and a rerun writes the complete output once, with no duplicates. A rerun whose
documents, model, config and code are those of the complete output there has nothing to do
(pipeline/completion.py).
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import typing
from typing import Callable, Sequence

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
        yield length_bucket(text.length(cleaned)), {"id": doc["id"], "text": cleaned}


class _Summarize(beam.DoFn):
    def __init__(self, cfg: SummarizeConfig, shared_handle, total: int):
        self._cfg, self._shared, self._total = cfg, shared_handle, total
        self._done = Metrics.counter(NAMESPACE, "summarized")

    def setup(self):
        export_dir = self._cfg.model_dir
        self._model = self._shared.acquire(lambda: ExportedModel.load(export_dir))
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
                results[i] = ValueError(f"document has {n} tokens, the model reads {limit} "
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
        if isinstance(result, Exception):
            return pvalue.TaggedOutput(DROPPED, dead_letter(id=doc["id"], reason="summarize_failed",
                                                            detail=f"{type(result).__name__}: {result}"))
        self._done.inc()
        return {"id": doc["id"], **result, "model": self._model.info.fingerprint}

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


def count_documents(cfg: SummarizeConfig) -> int:
    """Documents in the input (lines of JSONL, files of a folder), for progress; 0 when unknown (TFRecords)."""
    if cfg.format == "text_dir":
        return len(document_files(cfg))
    if cfg.format != "jsonl":
        return 0
    from workspace.input_files import reading

    total = 0
    for path in document_files(cfg):
        with reading(path) as f:
            total += sum(1 for line in f if line.strip())
    return total


class DropDuplicateIds(beam.PTransform):
    """documents -> {records: the first document of each id, dropped: the others as `duplicate_id`}.

    The copy kept is the first by (file path, text): the same on every runner, whatever the bundle order.
    """

    def expand(self, docs):
        def split(keyed):
            doc_id, copies = keyed
            copies = sorted(copies, key=lambda d: (d["origin"], d["text"]))
            yield copies[0]
            for copy in copies[1:]:
                yield pvalue.TaggedOutput(DROPPED, dead_letter(
                    id=doc_id, reason="duplicate_id", origin=copy["origin"],
                    detail=f"id seen {len(copies)} times; the first copy ({copies[0]['origin']}) is summarized"))

        return (docs | "ById" >> beam.Map(lambda d: (d["id"], d)) | "GroupById" >> beam.GroupByKey()
                | "FirstOfEach" >> beam.FlatMap(split).with_outputs(DROPPED, main=RECORDS))


class SummarizeDocuments(beam.PTransform):
    """cleaned, length-keyed documents -> {records: summary rows, dropped: dead letters}."""

    def __init__(self, cfg: SummarizeConfig, total: int = 0):
        super().__init__()
        self._cfg, self._total = cfg, total

    def expand(self, keyed_docs):
        from apache_beam.utils.shared import Shared

        result = (keyed_docs
                  # (bucket, document) pairs; the explicit type lets GroupIntoBatches check its keyed input.
                  | "Keyed" >> beam.Map(lambda kv: kv).with_output_types(typing.Tuple[int, typing.Dict[str, str]])
                  | "BatchBySimilarLength" >> beam.GroupIntoBatches(self._cfg.batch_size)
                  | "Summarize" >> beam.ParDo(_Summarize(self._cfg, Shared(), self._total)).with_outputs(
                      DROPPED, main=RECORDS))
        return {RECORDS: result[RECORDS], DROPPED: result[DROPPED]}


def build(p: beam.Pipeline, config: Config, staging: str, total: int) -> None:
    cfg = config.summarize
    docs = p | "Read" >> ReadDocuments(cfg)
    unique = {RECORDS: docs[RECORDS], DROPPED: None}
    if cfg.duplicate_ids == "drop":
        unique = docs[RECORDS] | "DropDuplicateIds" >> DropDuplicateIds()
    cleaned = unique[RECORDS] | "Clean" >> beam.ParDo(_CleanDocument(config)).with_outputs(DROPPED, main=RECORDS)
    summaries = cleaned[RECORDS] | "Summarize" >> SummarizeDocuments(cfg, total)
    (summaries[RECORDS] | "Json" >> beam.Map(lambda r: json.dumps(r, ensure_ascii=False, sort_keys=True))
     | "Write" >> beam.io.WriteToText(FileSystems.join(staging, "summaries", "summaries"),
                                      file_name_suffix=".jsonl"))
    p | "Accounted" >> Accounted(
        output_dir=staging, accounting_path=FileSystems.join(staging, COUNTS_FILE), counts_only=True,
        inputs=(docs[RECORDS], docs[DROPPED]), written={"summarized": summaries[RECORDS]},
        dropped=(docs[DROPPED], unique[DROPPED], cleaned[DROPPED], summaries[DROPPED]))


@dataclasses.dataclass(frozen=True)
class SummarizeResult:
    output_dir: str
    counts: dict
    seconds: float
    status: str = "written"  # "written" | "skipped" (already complete)


def run(config: Config, *, force: bool = False, allow_nonempty: bool = False, beam_args: Sequence[str] = (),
        make_pipeline: Callable[[], beam.Pipeline] | None = None,
        log: Callable[[str], None] = print) -> SummarizeResult:
    """Run the summarization job; returns quickly with status "skipped" when the same run already completed."""
    from pipeline.runner import make_pipeline as default_make_pipeline, pipeline_options

    start = time.time()
    cfg = config.summarize
    out = cfg.output_dir
    identity, done = completion.check_summarize(config, allow_nonempty=allow_nonempty, force=force)
    if done is not None:
        log(completion.nothing_to_do(identity))
        return SummarizeResult(out, done, time.time() - start, status="skipped")
    files = identity.input_paths
    total = count_documents(cfg)
    log(f"summarize: {total or 'an unknown number of'} documents from {len(cfg.inputs)} input pattern(s)")
    make = make_pipeline or (lambda: default_make_pipeline(pipeline_options(config.preprocess, beam_args)))
    with outputs.staged(out, job="summarize", names=OUTPUT_NAMES, allow_nonempty=allow_nonempty,
                        inputs=files) as staging:
        with FileSystems.create(FileSystems.join(staging, "config.yaml")) as f:
            f.write(config_yaml(config).encode("utf-8"))
        with make() as p:
            build(p, config, staging, total)
        counts = read_accounting(FileSystems.join(staging, COUNTS_FILE))
        dropped = check_accounts(counts, written=counts.get("summarized", 0), output_dir=staging,
                                 what="documents")
        outputs.commit(staging, out, job="summarize", marker=identity.fingerprint)
    seconds = time.time() - start
    log(f"summarize: {counts.get('summarized', 0)} summaries, {sum(dropped.values())} dropped {dropped}, "
        f"{seconds:.1f}s ({counts.get('summarized', 0) / max(seconds, 1e-9):.1f} docs/s) -> {out}/summaries")
    return SummarizeResult(out, counts, seconds)
