"""The preprocessing job: raw pairs -> cleaned, deduplicated, split, tokenized, sharded TFRecords + manifest.

Two Beam pipelines, like an analyze/transform pair:
  1. analysis: read -> clean -> find duplicates (exact + MinHash LSH) and repeated ids; learn the
     SentencePiece model from a deterministic sample of the train split.
  2. write:    read -> clean -> drop duplicates -> tokenize -> TFRecords per split; every dropped record goes
     to the dead-letter files with its reason, and counts are checked: input = written + dropped.
Re-reading and re-cleaning in pass two keeps each pipeline one fused stream (the local runner would otherwise
hold every record in memory between the passes). Pass one is skipped when there is nothing to analyse
(no dedup and a given vocabulary).

`--append` (pipeline/append.py) runs the same two passes over the new input files only, as the dataset's next
generation: pass one deduplicates them against the dataset's index as well, pass two tokenizes them with the
dataset's vocabulary, and the earlier generations' files stay in place.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import time
from typing import Callable, Sequence

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from configs.load import config_fingerprint, config_yaml
from configs.schema import SPLITS, Config, to_dict
from pipeline import completion, stats as stats_lib
from pipeline.accounting import Accounted, check_accounts, read_accounting
from workspace import files, outputs
from workspace.errors import InputError, from_text
from pipeline.clean import CleanPairs
from pipeline.dead_letters import DROPPED, RECORDS
from pipeline.append import AppendPlan, plan_append
from pipeline.dedup import leakage_report
from pipeline.duplicate_lists import (ApplyDuplicates, DuplicateLists, ReadIndex, WriteDuplicateLists, all_drops,
                                      generation_tag)
from contract.manifest import MANIFEST_FORMAT, MANIFEST_NAME, VOCAB_FILE, Manifest, SplitInfo, VocabInfo
from contract.records import SCHEMA_VERSION
from pipeline.progress import ShowProgress
from pipeline.sources import ReadPairs
from pipeline.tfrecords import STATS, TokenizeAndSerialize, WriteSplits
from contract.tokenizer import Tokenizer
from pipeline.vocab import LearnVocabulary

ANALYSIS_DIR = completion.ANALYSIS_DIR  # pass one's duplicate lists (DuplicateLists) and pass two's accounting
ACCOUNTING_PATTERN = "accounting*.json"  # in analysis/, every generation's: `accounting_file`
OUTPUT_NAMES = list(completion.PREPROCESS_OUTPUTS)


@dataclasses.dataclass(frozen=True)
class PreprocessResult:
    status: str  # "written" | "skipped"
    output_dir: str
    manifest: Manifest | None
    seconds: float


def _read_clean(p: beam.Pipeline, config: Config, task: str, files: list[tuple[str, str]] | None):
    raw = p | "Read" >> ReadPairs(config.source, files)
    read = raw[RECORDS] | "Progress" >> ShowProgress(f"preprocess {task} read", unit="records")
    cleaned = read | "Clean" >> CleanPairs(config.clean, config.split)
    return raw, cleaned


def accounting_file(generation: int = 0) -> str:
    """analysis/ name of one generation's accounting, {"counts": {input, dropped:REASON}, "lengths": per split}:
    accounting.json, accounting-g0001.json, ..."""
    return f"accounting{generation_tag(generation)}.json"


def build_analysis(p: beam.Pipeline, config: Config, staging: str, *, learn_vocab: bool,
                   files: list[tuple[str, str]] | None = None, generation: int = 0,
                   earlier: str | None = None) -> None:
    """Pass one (see the module docstring). Writes `analysis/` and, if asked, `vocab/spm.model`. files: the
    (path, split) input files the run's identity lists (matched from the config when not given); earlier: the
    `analysis/` folder of the dataset appended to, whose index the new records are deduplicated against."""
    _, cleaned = _read_clean(p, config, "pass 1/2", files)
    records = cleaned[RECORDS]
    previous = p | "ReadIndex" >> ReadIndex(earlier) if earlier else None
    records | "WriteDuplicateLists" >> WriteDuplicateLists(config.dedup, _duplicate_lists(staging, generation),
                                                           previous)
    if learn_vocab:
        (records | "TrainOnly" >> beam.Filter(lambda r: r["split"] == "train")
         | "LearnVocabulary" >> LearnVocabulary(config.tokenizer, FileSystems.join(staging, VOCAB_FILE)))


def build_write(p: beam.Pipeline, config: Config, staging: str,
                files: list[tuple[str, str]] | None = None, generation: int = 0, vocab: str | None = None) -> None:
    """Pass two (see the module docstring). Writes `data/`, `dead_letter/` and `analysis/accounting.json`
    (names tagged with an appended generation's tag). vocab: the dataset's, when appending."""
    raw, cleaned = _read_clean(p, config, "pass 2/2", files)
    kept = cleaned[RECORDS] | "ApplyDuplicates" >> ApplyDuplicates(_duplicate_lists(staging, generation))
    vocab, data = vocab or FileSystems.join(staging, VOCAB_FILE), FileSystems.join(staging, "data")
    tag = generation_tag(generation).lstrip("-")  # "g0001": data/train-g0001-SSSSS-of-NNNNN.tfrecord
    tokenized = kept["records"] | "TokenizeAndSerialize" >> TokenizeAndSerialize(vocab)
    tokenized | "WriteSplits" >> WriteSplits(data, name=tag)
    stats = [tokenized[STATS]]
    if kept["same_id"] is not None:  # survivors of repeated ids: their own writer (see ApplyDuplicates)
        resolved = kept["same_id"] | "TokenizeSameId" >> TokenizeAndSerialize(vocab)
        resolved | "WriteSameId" >> WriteSplits(data, name="-".join(filter(None, (tag, "sameid"))))
        stats.append(resolved[STATS])

    p | "Accounted" >> Accounted(
        output_dir=staging, accounting_path=FileSystems.join(staging, ANALYSIS_DIR, accounting_file(generation)),
        inputs=(raw[RECORDS], raw[DROPPED]), dropped=(raw[DROPPED], cleaned[DROPPED], kept["dropped"]),
        lengths=stats, dead_letter_name="dropped" + generation_tag(generation))


def _duplicate_lists(staging: str, generation: int = 0) -> DuplicateLists:
    return DuplicateLists(FileSystems.join(staging, ANALYSIS_DIR), generation)


def _split_files(staging: str) -> dict[str, tuple[str, ...]]:
    out = {}
    for split in SPLITS:
        matched = FileSystems.match([FileSystems.join(staging, "data", f"{split}-*.tfrecord")])[0].metadata_list
        out[split] = tuple(sorted("data/" + m.path.rsplit("/", 1)[-1] for m in matched))
    return out


@contextlib.contextmanager
def _naming_the_inputs(inputs: list[dict]):
    """An empty train split (vocab.py) names the files it was read from, with their sizes."""
    try:
        yield
    except Exception as e:  # noqa: BLE001  (re-raised as it was unless it is the empty split)
        error = e if isinstance(e, InputError) else from_text(str(e))
        if not isinstance(error, InputError) or "holds no records" not in str(error):
            raise
        files = [i for i in inputs if "path" in i]
        if not files:
            raise error from None
        named = ", ".join(f"{i['path']} ({i['size']:,} bytes)" for i in files[:3])
        more = f" and {len(files) - 3} more" if len(files) > 3 else ""
        raise InputError(f"{error}; read from {named}{more}") from None


def run(config: Config, *, force: bool = False, allow_nonempty: bool = False, beam_args: Sequence[str] = (),
        make_pipeline: Callable[[], beam.Pipeline] | None = None, identity: completion.Run | None = None,
        append: bool = False, log: Callable[[str], None] = print) -> PreprocessResult:
    """Run the preprocessing job; returns quickly with status "skipped" when the same run already completed.

    identity: the run as `completion.check_preprocess` found it incomplete (jobs/preprocess.py decides that
    before loading Beam); computed here when not given. Both passes read the files it lists.
    append: add the new input files to the dataset in the output directory (pipeline/append.py), or say why
    it is built whole.
    """
    from pipeline.runner import make_pipeline as default_make_pipeline, pipeline_options

    start = time.time()
    out = config.preprocess.output_dir
    if identity is None:
        identity, done = completion.check_preprocess(config, allow_nonempty=allow_nonempty, force=force)
        if done is not None:
            log(completion.nothing_to_do(identity))
            return PreprocessResult("skipped", out, done, time.time() - start)
    plan = None
    if append and not force:
        plan, why = plan_append(config, identity)
        if plan is None:
            log(f"preprocess: --append: {why}; building the dataset whole")

    make = make_pipeline or (lambda: default_make_pipeline(pipeline_options(config.beam, beam_args)))
    with outputs.staged(out, job="preprocess", names=OUTPUT_NAMES, allow_nonempty=allow_nonempty,
                        inputs=identity.input_paths, claimed=True) as staging:  # claimed by the check; again here
        files.write_text(FileSystems.join(staging, "config.yaml"), config_yaml(config))
        # Both passes must read the inputs the run identity (and the manifest) records: checked again before
        # the commit, and instead of a pass's own error (a file rewritten while it was read).
        with completion.inputs_held(identity, config):
            if plan is None:
                _build(config, staging, identity, make, log)
            else:
                _append(config, staging, plan, make, log)
            manifest = _finish(config, staging, identity, plan)
        outputs.commit(staging, out, job="preprocess", marker=identity.fingerprint, keep=plan.kept if plan else ())
    unreached = None if plan else vocabulary_unreached(config, manifest)
    if unreached:
        log(unreached)
    log(_result_line(manifest, plan, time.time() - start, out))
    return PreprocessResult("written", out, manifest, time.time() - start)


def _build(config: Config, staging: str, identity: completion.Run, make, log) -> None:
    """A full build: both passes over every input file, the vocabulary learned (or copied) into staging."""
    dedup = config.dedup.exact or config.dedup.near
    learn_vocab = not config.tokenizer.model_path
    if config.tokenizer.model_path:
        with FileSystems.open(config.tokenizer.model_path) as src:
            files.write_bytes(FileSystems.join(staging, VOCAB_FILE), src.read())
    if dedup or learn_vocab:
        log("preprocess: pass 1/2 (clean, find duplicates" + (", learn vocabulary)" if learn_vocab else ")"))
        with _naming_the_inputs(identity.inputs), make() as p:
            build_analysis(p, config, staging, learn_vocab=learn_vocab, files=identity.input_splits)
    log("preprocess: pass 2/2 (clean, drop duplicates, tokenize, write TFRecords)")
    with make() as p:
        build_write(p, config, staging, files=identity.input_splits)


def _append(config: Config, staging: str, plan: AppendPlan, make, log) -> None:
    """An append: both passes over the new files only, against the dataset's index and with its vocabulary."""
    out = config.preprocess.output_dir
    log(f"preprocess: appending generation {plan.generation}: {len(plan.new_inputs)} new input file(s); the "
        f"dataset's {plan.previous.counts['written']:,} records stay in place")
    log("preprocess: pass 1/2 (clean, find duplicates, also of the dataset's records)")
    with make() as p:
        build_analysis(p, config, staging, learn_vocab=False, files=plan.new_splits, generation=plan.generation,
                       earlier=FileSystems.join(out, ANALYSIS_DIR))
    log("preprocess: pass 2/2 (clean, drop duplicates, tokenize with the dataset's vocabulary, write TFRecords)")
    with make() as p:
        build_write(p, config, staging, files=plan.new_splits, generation=plan.generation,
                    vocab=FileSystems.join(out, plan.previous.vocab.model_file))


def _result_line(manifest: Manifest, plan: AppendPlan | None, seconds: float, out: str) -> str:
    latest = manifest.generations[-1]
    c = latest["counts"]
    splits = ", ".join(f"{s}={i.num_records}" for s, i in manifest.splits.items())
    if plan is None:
        return (f"preprocess: wrote {c['written']} records {splits}; dropped {sum(c['dropped'].values())} "
                f"{c['dropped']}; {c['input']} input records; {seconds:.1f}s -> {out}")
    return (f"preprocess: appended generation {latest['generation']}: wrote {c['written']} records, dropped "
            f"{sum(c['dropped'].values())} {c['dropped']}, of {c['input']} input records in "
            f"{len(latest['inputs'])} new file(s); the dataset holds {manifest.counts['written']} records "
            f"{splits} in {len(manifest.generations)} generations; {seconds:.1f}s -> {out}")


def vocabulary_unreached(config: Config, manifest: Manifest) -> str | None:
    """The warning line when the vocabulary learned is smaller than tokenizer.vocab_size (SentencePiece stops
    where the training documents have no more pieces to give); None when it has the size asked for."""
    asked, reached = config.tokenizer.vocab_size, manifest.vocab.size
    if config.tokenizer.model_path or reached >= asked:
        return None
    return (f"preprocess: warning: tokenizer.vocab_size={asked} cannot be reached from these training documents; "
            f"the vocabulary has {reached} pieces (manifest.json vocab.size): the model is sized by it")


def _finish(config: Config, staging: str, identity: completion.Run, plan: AppendPlan | None) -> Manifest:
    """Check the generation's accounting, write stats.json and manifest.json into staging (for an append, of
    the whole dataset: the earlier generations' shards, counts and statistics with the new ones); return the
    manifest."""
    out = config.preprocess.output_dir
    generation = plan.generation if plan else 0
    accounting = read_accounting(FileSystems.join(staging, ANALYSIS_DIR, accounting_file(generation)))
    counts, lengths = accounting["counts"], accounting["lengths"]
    written = {split: lengths.get(split, {}).get("records", 0) for split in SPLITS}
    dropped = check_accounts(counts, written=sum(written.values()), output_dir=staging, what="records")
    now = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    this = {"generation": generation, "inputs": [i["path"] for i in (plan.new_inputs if plan else identity.inputs)
                                                 if "path" in i],
            "counts": {"input": counts["input"], "written": sum(written.values()), "dropped": dropped}, "created": now}
    shards = _split_files(staging)
    if plan is None:
        tokenizer = Tokenizer.load(FileSystems.join(staging, VOCAB_FILE))
        vocab = VocabInfo(model_file=VOCAB_FILE, sha256=tokenizer.vocab_sha256(), size=tokenizer.vocab_size)
        splits = {s: SplitInfo(files=shards[s], num_records=written[s]) for s in SPLITS}
        totals, generations, drops = this["counts"], [this], _duplicate_lists(staging).drops()
    else:
        previous = plan.previous
        vocab = previous.vocab
        splits = {s: SplitInfo(files=previous.splits[s].files + shards[s],
                               num_records=previous.splits[s].num_records + written[s]) for s in SPLITS}
        totals = _added(previous.counts, this["counts"])
        generations = list(previous.generations or [{
            "generation": 0, "inputs": [i["path"] for i in previous.inputs if "path" in i],
            "counts": previous.counts, "created": previous.created}]) + [this]
        for path in _matched(FileSystems.join(out, ANALYSIS_DIR, ACCOUNTING_PATTERN)):
            lengths = stats_lib.merge([lengths, read_accounting(path)["lengths"]])
        drops = all_drops(FileSystems.join(out, ANALYSIS_DIR)) + all_drops(FileSystems.join(staging, ANALYSIS_DIR))
    manifest = Manifest(
        format=MANIFEST_FORMAT, schema_version=SCHEMA_VERSION, splits=splits, vocab=vocab, counts=totals,
        inputs=identity.inputs, fingerprint=identity.fingerprint, config=to_dict(config),
        code_version=identity.code_version, seed=config.tokenizer.seed, created=now, generations=generations)
    statistics = {"lengths": stats_lib.summarize(lengths), "leakage": leakage_report(drops),
                  "config_fingerprint": config_fingerprint(config)}
    files.write_text(FileSystems.join(staging, "stats.json"), json.dumps(statistics, indent=2, sort_keys=True))
    files.write_text(FileSystems.join(staging, MANIFEST_NAME), manifest.to_json())
    return manifest


def _added(a: dict, b: dict) -> dict:
    """Counts {"input", "written", "dropped": {reason: n}} of two generations together."""
    dropped = dict(a["dropped"])
    for reason, n in b["dropped"].items():
        dropped[reason] = dropped.get(reason, 0) + n
    return {"input": a["input"] + b["input"], "written": a["written"] + b["written"],
            "dropped": dict(sorted(dropped.items()))}


def _matched(pattern: str) -> list[str]:
    return sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)
