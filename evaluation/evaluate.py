"""`sumflow evaluate` as a library: JSONL predictions and references in, a ROUGE report out.

    run(config=...)  reads the inputs named in `config.evaluate`, joins them on the id field, scores the
                     system (and the compare system, lead-k, oracle), and writes into `output_dir`:
                     report.json, report.md, report.html, per_document.jsonl and the resolved config.yaml.
"""

from __future__ import annotations

import dataclasses
import glob
import json
import os
from importlib import metadata
from typing import Any, Optional, Sequence

from configs.load import config_yaml
from configs.schema import Config, EvaluateConfig
from evaluation import baselines, bootstrap, report, report_html, rouge, summary_stats
from workspace import outputs
from workspace.errors import InputError
from workspace.readers import owning_output, snapshot

SHOWN_IDS = 5  # missing ids listed in an error


OUTPUT_NAMES = ["report.json", "report.md", "report.html", "per_document.jsonl", "config.yaml", outputs.SUCCESS_NAME]


class EvaluationInputError(InputError):
    """The input files cannot be read or do not line up; the message says which file and ids."""


@dataclasses.dataclass(frozen=True)
class EvaluationSet:
    """Documents in the order of the predictions file. references: one or more per document."""

    ids: tuple[str, ...]
    predictions: tuple[str, ...]
    references: tuple[tuple[str, ...], ...]
    articles: Optional[tuple[str, ...]] = None
    compare: Optional[tuple[str, ...]] = None
    missing_predictions: tuple[str, ...] = ()  # references left unscored (evaluate.missing_predictions: skip)


def read_field(path: str, *, field: str, id_field: str, many: bool = False) -> dict[str, Any]:
    """{id: value of `field`} of a JSONL file (ids as strings). many: a string or a list of strings."""
    values: dict[str, Any] = {}
    if os.path.isdir(path):
        found = owning_output(path)
        example = os.path.join(path, "summaries", "*.jsonl") if found and found[1]["job"] == "summarize" \
            else os.path.join(path, "*.jsonl")
        raise EvaluationInputError(f"{path} is a directory; give the JSONL file(s) in it, e.g. '{example}'")
    with snapshot(path, what="evaluate:"):  # the whole output as one run wrote it, never during its swap
        paths = sorted(glob.glob(path)) if any(c in path for c in "*?[") else [path]
        if not paths:
            raise EvaluationInputError(f"no files match {path}")
        for one in paths:
            _read_into(values, one, field=field, id_field=id_field, many=many)
    return values


def read_split(data_dir: str, split: str) -> tuple[dict[str, tuple[str, ...]], dict[str, str]]:
    """({id: (reference summary,)}, {id: article}) of one split of a `sumflow preprocess` output."""
    from contract.manifest import ManifestError, read_manifest, split_paths
    from contract.records import decode_example
    from contract.tfrecord import read_records
    from workspace.input_files import reading

    with snapshot(data_dir, what="evaluate:"):  # as in read_field
        try:
            manifest = read_manifest(data_dir, verify_vocab=False)
            files = split_paths(data_dir, manifest, split)
        except ManifestError as e:
            raise EvaluationInputError(str(e)) from None
        references, articles = {}, {}
        for path in files:
            with reading(path) as f:
                for record in read_records(f, path):
                    example = decode_example(record)
                    references[example["id"]] = (example["summary"],)
                    articles[example["id"]] = example["article"]
    return references, articles


def _read_into(values: dict, path: str, *, field: str, id_field: str, many: bool) -> None:
    try:
        f = open(path, "rb")
    except OSError as e:
        raise EvaluationInputError(f"cannot read {path}: {e.strerror}") from None
    with f:
        for number, raw in enumerate(f, 1):
            where = f"{path}:{number}"
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as e:
                raise EvaluationInputError(f"{where}: invalid UTF-8 ({e.reason} at byte {e.start}); "
                                           f"re-encode the file as UTF-8") from None
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as e:
                raise EvaluationInputError(f"{where}: not a JSON object ({e.msg})") from None
            if not isinstance(record, dict) or id_field not in record or field not in record:
                keys = sorted(record) if isinstance(record, dict) else type(record).__name__
                raise EvaluationInputError(f"{where}: needs the fields {id_field!r} and {field!r}; it has {keys}")
            value = record[field]
            if many and isinstance(value, str):
                value = (value,)
            elif many and isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                value = tuple(value)
            elif many or not isinstance(value, str):
                kind = "a string or a non-empty list of strings" if many else "a string"
                raise EvaluationInputError(f"{where}: {field!r} must be {kind}, got {value!r:.80}")
            doc_id = str(record[id_field])
            if doc_id in values:
                raise EvaluationInputError(f"{where}: id {doc_id!r} appears twice; ids must be unique")
            values[doc_id] = value


def _missing(ids: Sequence[str], have: dict, what: str, path: str) -> Optional[str]:
    missing = [i for i in ids if i not in have]
    if not missing:
        return None
    shown = ", ".join(repr(i) for i in missing[:SHOWN_IDS]) + (", ..." if len(missing) > SHOWN_IDS else "")
    return f"{len(missing)} {what} missing from {path}: {shown}"


def load_evaluation_set(config: EvaluateConfig) -> EvaluationSet:
    """Read and join the inputs; an id present in only one of predictions/references/compare is an error."""
    if not config.predictions:
        raise EvaluationInputError("no predictions: give --predictions FILE (or evaluate.predictions)")
    references_path = config.references or config.predictions
    predictions = read_field(config.predictions, field=config.prediction_field, id_field=config.id_field)
    split_articles = None
    if config.reference_split:  # references (and articles) from a preprocess output's split
        references, split_articles = read_split(references_path, config.reference_split)
    else:
        references = read_field(references_path, field=config.reference_field, id_field=config.id_field,
                                many=True)
    if not predictions:
        raise EvaluationInputError(f"{config.predictions} holds no records")
    ids = tuple(predictions)
    unscored = tuple(i for i in references if i not in predictions)
    skip = config.missing_predictions == "skip"
    problems = [_missing(ids, references, "predictions have no reference;", references_path),
                None if skip else _missing(list(references), predictions, "references have no prediction;",
                                           config.predictions)]
    compare = None
    if config.compare or config.compare_field:
        compare_path = config.compare or config.predictions
        compare = read_field(compare_path, field=config.compare_field or config.prediction_field,
                             id_field=config.id_field)
        problems += [_missing(ids, compare, "predictions have no compare-system summary;", compare_path),
                     _missing(list(compare), predictions, "compare-system summaries have no prediction;",
                              config.predictions)]
    articles = split_articles
    if config.articles:
        articles = read_field(config.articles, field=config.article_field, id_field=config.id_field)
        problems.append(_missing(ids, articles, "predictions have no article;", config.articles))
    problems = [p for p in problems if p]
    if problems:
        hint = ("; --missing-predictions skip scores only the documents that have predictions"
                if unscored and not skip else "")
        raise EvaluationInputError(f"inputs do not line up on {config.id_field!r}{hint}:\n  "
                                   + "\n  ".join(problems))
    return EvaluationSet(ids=ids, predictions=tuple(predictions.values()),
                         references=tuple(references[i] for i in ids),
                         articles=None if articles is None else tuple(articles[i] for i in ids),
                         compare=None if compare is None else tuple(compare[i] for i in ids),
                         missing_predictions=unscored if skip else ())


def _system_names(config: EvaluateConfig) -> tuple[str, str]:
    """Display names of the system and the compare system (file names added when the fields match)."""
    name, other = config.prediction_field, config.compare_field or config.prediction_field
    if name == other and (config.compare or config.compare_field):
        name = f"{name} ({os.path.basename(config.predictions)})"
        other = f"{other} ({os.path.basename(config.compare or config.predictions)})"
    return name, other


def evaluate(data: EvaluationSet, *, config: EvaluateConfig) -> tuple[dict, list[dict]]:
    """Score everything and build the report. Returns (report dict, per-document rows)."""
    if config.oracle and data.articles is None:
        raise EvaluationInputError("the oracle needs the articles: give --articles FILE")
    name, compare_name = _system_names(config)
    systems = [("system", name, data.predictions)]
    if data.compare is not None:
        systems.append(("compare", compare_name, data.compare))
    if data.articles is not None and config.lead_k:
        systems.append((f"lead-{config.lead_k}", f"lead-{config.lead_k}",
                        tuple(baselines.lead(a, k=config.lead_k) for a in data.articles)))
    if data.articles is not None and config.lead_words:
        systems.append((f"lead-{config.lead_words}-words", f"lead-{config.lead_words}-words",
                        tuple(baselines.lead_words(a, n=config.lead_words) for a in data.articles)))
    if config.oracle:
        systems.append(("oracle", "oracle", tuple(baselines.oracle_summaries(
            articles=data.articles, references=data.references, use_stemmer=config.use_stemmer,
            tokenizer=config.tokenizer, workers=config.workers))))

    n = len(data.ids)
    all_scores = rouge.score_documents(  # one pool for every system: (systems * documents, metrics, 3)
        predictions=[t for _, _, texts in systems for t in texts], references=list(data.references) * len(systems),
        metrics=config.metrics, use_stemmer=config.use_stemmer, tokenizer=config.tokenizer, workers=config.workers,
        progress="evaluate: scored")

    plain = rouge.RougeTokenizer(use_stemmer=False, kind=config.tokenizer)
    index = None if data.articles is None else summary_stats.article_index(data.articles, tokenizer=plain)
    results = []
    for k, (role, label, texts) in enumerate(systems):
        scores = all_scores[k * n:(k + 1) * n]
        low = high = None
        if config.bootstrap_samples:
            low, high = bootstrap.confidence_interval(scores, samples=config.bootstrap_samples,
                                                      confidence=config.confidence, seed=config.seed)
        results.append(report.SystemResult(role=role, name=label, texts=texts, scores=scores, low=low, high=high,
                                           stats=summary_stats.summary_stats(texts, tokenizer=plain, articles=index)))
    first_references = [refs[0] for refs in data.references]
    reference_stats = summary_stats.summary_stats(first_references, tokenizer=plain, articles=index)
    histogram = summary_stats.length_histogram(
        {**{r.name: r.stats["length"] for r in results}, "reference": reference_stats["length"]})

    paired = None
    if data.compare is not None and config.bootstrap_samples:
        test = bootstrap.paired_test(results[0].scores[:, :, 2], results[1].scores[:, :, 2],
                                     samples=config.bootstrap_samples, confidence=config.confidence, seed=config.seed)
        paired = {"a": name, "b": compare_name, "samples": config.bootstrap_samples, "seed": config.seed,
                  "metrics": {metric: {key: float(getattr(test, key)[m]) for key in
                                       ("delta", "low", "high", "p_value", "a_wins")}
                              for m, metric in enumerate(config.metrics)}}
    settings = {
        "metrics": list(config.metrics), "tokenizer": config.tokenizer, "use_stemmer": config.use_stemmer,
        "bootstrap_samples": config.bootstrap_samples, "confidence": config.confidence, "seed": config.seed,
        "lead_k": config.lead_k, "rouge_score_version": metadata.version("rouge-score"),
        "split_by_regex": {"predictions": sum("\n" not in p for p in data.predictions),
                           "references": sum("\n" not in r for refs in data.references for r in refs)},
    }
    built = report.build_report(ids=data.ids, metrics=config.metrics, results=results, references=data.references,
                                reference_stats=reference_stats, histogram=histogram, paired=paired, settings=settings)
    built["missing_predictions"] = {"count": len(data.missing_predictions), "ids": list(data.missing_predictions)}
    built["examples"] = report.examples(data.ids, articles=data.articles, references=data.references,
                                        predictions=data.predictions, count=config.examples)
    return built, list(report.per_document_rows(data.ids, config.metrics, results))


def run(*, config: Config, allow_nonempty: bool = False) -> dict:
    """Evaluate the files named in `config.evaluate`; write the report files; return the report dict."""
    settings = config.evaluate
    out = settings.output_dir
    inputs = [p for p in (settings.predictions, settings.references, settings.articles, settings.compare) if p]
    outputs.claim(out, job="evaluate", names=OUTPUT_NAMES, allow_nonempty=allow_nonempty, inputs=inputs)
    built, rows = evaluate(load_evaluation_set(settings), config=settings)
    with outputs.staged(out, job="evaluate", names=OUTPUT_NAMES, allow_nonempty=allow_nonempty,
                        inputs=inputs) as staging:
        files = {"report.json": json.dumps(built, indent=2, ensure_ascii=False),
                 "report.md": report.render_markdown(built),
                 "report.html": report_html.render_html(built, rows),
                 "per_document.jsonl": "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows),
                 "config.yaml": config_yaml(config)}
        for name, text in files.items():
            outputs.write_text(os.path.join(staging, name), text)
        outputs.commit(staging, out, job="evaluate", marker=built["format"])
    return built
