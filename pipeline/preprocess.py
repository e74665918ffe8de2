"""The preprocessing job: raw pairs -> cleaned, deduplicated, split, tokenized, sharded TFRecords + manifest.

Two Beam pipelines, like an analyze/transform pair:
  1. analysis: read -> clean -> find duplicates (exact + MinHash LSH) and repeated ids; learn the
     SentencePiece model from a deterministic sample of the train split.
  2. write:    read -> clean -> drop duplicates -> tokenize -> TFRecords per split; every dropped record goes
     to the dead-letter files with its reason, and counts are checked: input = written + dropped.
Re-reading and re-cleaning in pass two keeps each pipeline one fused stream (the local runner would otherwise
hold every record in memory between the passes). Pass one is skipped when there is nothing to analyse
(no dedup and a given vocabulary).
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
from pipeline.dedup import ApplyDuplicates, DuplicateLists, WriteDuplicateLists, leakage_report
from contract.manifest import MANIFEST_FORMAT, MANIFEST_NAME, VOCAB_FILE, Manifest, SplitInfo, VocabInfo
from contract.records import SCHEMA_VERSION
from pipeline.progress import ShowProgress
from pipeline.sources import ReadPairs
from pipeline.tfrecords import STATS, TokenizeAndSerialize, WriteSplits
from contract.tokenizer import Tokenizer
from pipeline.vocab import LearnVocabulary

ANALYSIS_DIR = completion.ANALYSIS_DIR  # pass one's duplicate lists (DuplicateLists) and pass two's accounting
ACCOUNTING_FILE = "accounting.json"  # in analysis/: {"counts": {input, dropped:REASON}, "lengths": per split}
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


def build_analysis(p: beam.Pipeline, config: Config, staging: str, *, learn_vocab: bool,
                   files: list[tuple[str, str]] | None = None) -> None:
    """Pass one (see the module docstring). Writes `analysis/` and, if asked, `vocab/spm.model`. files: the
    (path, split) input files the run's identity lists (matched from the config when not given)."""
    _, cleaned = _read_clean(p, config, "pass 1/2", files)
    records = cleaned[RECORDS]
    records | "WriteDuplicateLists" >> WriteDuplicateLists(config.dedup, _duplicate_lists(staging))
    if learn_vocab:
        (records | "TrainOnly" >> beam.Filter(lambda r: r["split"] == "train")
         | "LearnVocabulary" >> LearnVocabulary(config.tokenizer, FileSystems.join(staging, VOCAB_FILE)))


def build_write(p: beam.Pipeline, config: Config, staging: str,
                files: list[tuple[str, str]] | None = None) -> None:
    """Pass two (see the module docstring). Writes `data/`, `dead_letter/` and `analysis/accounting.json`."""
    raw, cleaned = _read_clean(p, config, "pass 2/2", files)
    kept = cleaned[RECORDS] | "ApplyDuplicates" >> ApplyDuplicates(_duplicate_lists(staging))
    vocab, data = FileSystems.join(staging, VOCAB_FILE), FileSystems.join(staging, "data")
    tokenized = kept["records"] | "TokenizeAndSerialize" >> TokenizeAndSerialize(vocab)
    tokenized | "WriteSplits" >> WriteSplits(data)
    stats = [tokenized[STATS]]
    if kept["same_id"] is not None:  # survivors of repeated ids: their own writer (see ApplyDuplicates)
        resolved = kept["same_id"] | "TokenizeSameId" >> TokenizeAndSerialize(vocab)
        resolved | "WriteSameId" >> WriteSplits(data, name="sameid")
        stats.append(resolved[STATS])

    p | "Accounted" >> Accounted(
        output_dir=staging, accounting_path=FileSystems.join(staging, ANALYSIS_DIR, ACCOUNTING_FILE),
        inputs=(raw[RECORDS], raw[DROPPED]), dropped=(raw[DROPPED], cleaned[DROPPED], kept["dropped"]),
        lengths=stats)


def _duplicate_lists(staging: str) -> DuplicateLists:
    return DuplicateLists(FileSystems.join(staging, ANALYSIS_DIR))


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
        log: Callable[[str], None] = print) -> PreprocessResult:
    """Run the preprocessing job; returns quickly with status "skipped" when the same run already completed.

    identity: the run as `completion.check_preprocess` found it incomplete (jobs/preprocess.py decides that
    before loading Beam); computed here when not given. Both passes read the files it lists.
    """
    from pipeline.runner import make_pipeline as default_make_pipeline, pipeline_options

    start = time.time()
    out = config.preprocess.output_dir
    if identity is None:
        identity, done = completion.check_preprocess(config, allow_nonempty=allow_nonempty, force=force)
        if done is not None:
            log(completion.nothing_to_do(identity))
            return PreprocessResult("skipped", out, done, time.time() - start)
    inputs, version, fingerprint = identity.inputs, identity.code_version, identity.fingerprint
    input_paths = identity.input_paths

    make = make_pipeline or (lambda: default_make_pipeline(pipeline_options(config.preprocess, beam_args)))
    with outputs.staged(out, job="preprocess", names=OUTPUT_NAMES, allow_nonempty=allow_nonempty,
                        inputs=input_paths, claimed=True) as staging:  # claimed by the check (again under the lock)
        files.write_text(FileSystems.join(staging, "config.yaml"), config_yaml(config))
        dedup = config.dedup.exact or config.dedup.near
        learn_vocab = not config.tokenizer.model_path
        if config.tokenizer.model_path:
            with FileSystems.open(config.tokenizer.model_path) as src:
                files.write_bytes(FileSystems.join(staging, VOCAB_FILE), src.read())
        # Both passes must read the inputs the run identity (and the manifest) records: checked again before
        # the commit, and instead of a pass's own error (a file rewritten while it was read).
        with completion.inputs_held(identity, config):
            if dedup or learn_vocab:
                log("preprocess: pass 1/2 (clean, find duplicates"
                    + (", learn vocabulary)" if learn_vocab else ")"))
                with _naming_the_inputs(identity.inputs), make() as p:
                    build_analysis(p, config, staging, learn_vocab=learn_vocab, files=identity.input_splits)
            log("preprocess: pass 2/2 (clean, drop duplicates, tokenize, write TFRecords)")
            with make() as p:
                build_write(p, config, staging, files=identity.input_splits)
            manifest = _finish(config, staging, inputs, fingerprint, version)
        outputs.commit(staging, out, job="preprocess", marker=fingerprint)
    unreached = vocabulary_unreached(config, manifest)
    if unreached:
        log(unreached)
    seconds = time.time() - start
    c = manifest.counts
    log(f"preprocess: wrote {c['written']} records "
        + ", ".join(f"{s}={i.num_records}" for s, i in manifest.splits.items())
        + f"; dropped {sum(c['dropped'].values())} {c['dropped']}; {c['input']} input records; "
        f"{seconds:.1f}s -> {out}")
    return PreprocessResult("written", out, manifest, seconds)


def vocabulary_unreached(config: Config, manifest: Manifest) -> str | None:
    """The warning line when the vocabulary learned is smaller than tokenizer.vocab_size (SentencePiece stops
    where the training documents have no more pieces to give); None when it has the size asked for."""
    asked, reached = config.tokenizer.vocab_size, manifest.vocab.size
    if config.tokenizer.model_path or reached >= asked:
        return None
    return (f"preprocess: warning: tokenizer.vocab_size={asked} cannot be reached from these training documents; "
            f"the vocabulary has {reached} pieces (manifest.json vocab.size): the model is sized by it")


def _finish(config: Config, staging: str, inputs: list[dict], fingerprint: str, version: str) -> Manifest:
    """Check the accounting, write stats.json and manifest.json into staging; return the manifest."""
    accounting = read_accounting(FileSystems.join(staging, ANALYSIS_DIR, ACCOUNTING_FILE))
    counts, lengths = accounting["counts"], accounting["lengths"]
    written = {split: lengths.get(split, {}).get("records", 0) for split in SPLITS}
    dropped = check_accounts(counts, written=sum(written.values()), output_dir=staging, what="records")
    n_input = counts["input"]
    tokenizer = Tokenizer.load(FileSystems.join(staging, VOCAB_FILE))
    shards = _split_files(staging)
    manifest = Manifest(
        format=MANIFEST_FORMAT, schema_version=SCHEMA_VERSION,
        splits={s: SplitInfo(files=shards[s], num_records=written[s]) for s in SPLITS},
        vocab=VocabInfo(model_file=VOCAB_FILE, sha256=tokenizer.vocab_sha256(), size=tokenizer.vocab_size),
        counts={"input": n_input, "written": sum(written.values()), "dropped": dropped},
        inputs=inputs, fingerprint=fingerprint, config=to_dict(config),
        code_version=version, seed=config.tokenizer.seed,
        created=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"))
    statistics = {"lengths": stats_lib.summarize(lengths), "leakage": leakage_report(_duplicate_lists(staging).drops()),
                  "config_fingerprint": config_fingerprint(config)}
    files.write_text(FileSystems.join(staging, "stats.json"), json.dumps(statistics, indent=2, sort_keys=True))
    files.write_text(FileSystems.join(staging, MANIFEST_NAME), manifest.to_json())
    return manifest
