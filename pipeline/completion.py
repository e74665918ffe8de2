"""Whether a preprocess or summarize output is already complete, decided with plain Python: no Beam, no
TensorFlow, so a scheduled rerun that has nothing to do ends in a fraction of a second.

What identifies a run is its fingerprint, which `_SUCCESS` records when the run commits (workspace/outputs.py):
  preprocess  the input files (path, split, size, mtime; the dataset's identity for `builtin` and `tfds`), the
              config sections that shape the records (source, clean, dedup, split, tokenizer) and the code
  summarize   the document files (path, size, mtime), the summarize section (all but output_dir) and clean,
              the exported model (its sumflow_export.json and saved_model.pb) and the code
The code is sumflow's release and a hash of every source file of the packages that shape the output
(workspace/code_hash.py). The Beam jobs compute and record the fingerprint with these functions, and
`sumflow preprocess` / `sumflow summarize` call the same ones before loading Beam: one definition of
"complete". Local paths need only the standard library; remote ones (gs://) go through Beam's FileSystems.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from configs.schema import Config, SourceConfig, SummarizeConfig
from contract import export_format
from contract.manifest import MANIFEST_NAME, Manifest, read_manifest
from pipeline import builtin_corpus
from workspace import outputs
from workspace.code_hash import code_version as _code_version
from workspace.errors import InputError
from workspace.input_files import file_identity, match_files

SHAPING_PACKAGES = ("pipeline", "contract", "configs", "workspace")  # their sources are the code version
ANALYSIS_DIR = "analysis"  # preprocess: pass one's duplicate lists and pass two's accounting
COUNTS_FILE = "counts.json"  # summarize: {"input": n, "summarized": n, "dropped:REASON": n}
# The top-level names each job writes in its output directory (workspace/outputs.py claims them).
PREPROCESS_OUTPUTS = ("data", "vocab", "dead_letter", ANALYSIS_DIR, "stats.json", "config.yaml", MANIFEST_NAME,
                      outputs.SUCCESS_NAME)
SUMMARIZE_OUTPUTS = ("summaries", "dead_letter", COUNTS_FILE, "config.yaml", outputs.SUCCESS_NAME)


@dataclasses.dataclass(frozen=True)
class Run:
    """One run of a job as its config describes it: where it writes, what it reads, its fingerprint."""

    job: str
    output_dir: str
    names: tuple[str, ...]  # top-level names the job writes in output_dir
    inputs: list[dict]  # [{"path", "size", "mtime", ...}] or a dataset's identity
    code_version: str
    fingerprint: str

    @property
    def input_paths(self) -> list[str]:
        return [i["path"] for i in self.inputs if "path" in i]


def code_version() -> str:
    return _code_version(SHAPING_PACKAGES)


def _fingerprint(payload: dict) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()[:24]


def input_files(cfg: SourceConfig) -> list[tuple[str, str]]:
    """(path, split) for every input file matched; raises InputError naming a pattern that matched nothing."""
    patterns = [(p, "") for p in cfg.paths] + [(p, s) for s, p in sorted(cfg.split_paths.items())]
    if not patterns:
        raise InputError("source: no input given; pass -i FILE_OR_GLOB or set source.paths")
    out = []
    for pattern, split in patterns:
        out.extend((path, split) for path in match_files(pattern, folders=cfg.format == "text_dir",
                                                           what="source"))
    return out


def document_files(cfg: SummarizeConfig) -> list[str]:
    """The files summarize reads, in the order of the patterns given."""
    if not cfg.inputs:
        raise InputError("summarize: give the documents to summarize (--input FILE_OR_GLOB)")
    out = []
    for pattern in cfg.inputs:
        out.extend(match_files(pattern, folders=cfg.format == "text_dir", what="summarize.inputs"))
    return out


def preprocess_inputs(config: Config) -> list[dict]:
    """What identifies the inputs: path, size and mtime of each file; the dataset identity for TFDS/builtin."""
    cfg = config.source
    if cfg.format == "builtin":
        return [builtin_corpus.fingerprint(cfg.builtin_packages)]
    if cfg.format == "tfds":
        return [{"tfds": cfg.tfds_name, "data_dir": cfg.tfds_data_dir, "splits": cfg.tfds_splits}]
    return [{"path": path, "split": split, **file_identity(path)} for path, split in input_files(cfg)]


def preprocess_run(config: Config) -> Run:
    inputs, version = preprocess_inputs(config), code_version()
    sections = {k: dataclasses.asdict(getattr(config, k)) for k in ("source", "clean", "dedup", "split",
                                                                   "tokenizer")}
    return Run("preprocess", config.preprocess.output_dir, PREPROCESS_OUTPUTS, inputs, version,
               _fingerprint({"config": sections, "inputs": inputs, "code": version}))


def exported_model(model_dir: str) -> dict:
    """What identifies an exported model: its info file's hash and its graph file's size and mtime. Raises
    InputError (exit 3) when `model_dir` holds no complete export."""
    for required in export_format.REQUIRED:
        if not outputs.exists(outputs.join(model_dir, required)):
            raise InputError(f"summarize.model_dir {model_dir!r} holds no complete exported model (no "
                             f"{required}); run `sumflow export` first or give --model-dir")
    info = outputs.read_text(outputs.join(model_dir, export_format.INFO_FILE))
    return {"info_sha256": hashlib.sha256(info.encode()).hexdigest(),
            "saved_model": file_identity(outputs.join(model_dir, "saved_model.pb"))}


def summarize_run(config: Config) -> Run:
    cfg = config.summarize
    model = exported_model(cfg.model_dir)
    inputs = [{"path": path, **file_identity(path)} for path in document_files(cfg)]
    version = code_version()
    settings = {k: v for k, v in dataclasses.asdict(cfg).items() if k != "output_dir"}
    sections = {"summarize": settings, "clean": dataclasses.asdict(config.clean)}
    return Run("summarize", cfg.output_dir, SUMMARIZE_OUTPUTS, inputs, version,
               _fingerprint({"config": sections, "inputs": inputs, "model": model, "code": version}))


def _complete(run: Run, *, allow_nonempty: bool, force: bool) -> bool:
    """Whether `run.output_dir` holds the complete output of this very run (never with `force`). First, as the
    run itself does, refuses (UsageError) a directory it may not write (workspace/outputs.py `claim`)."""
    outputs.claim(run.output_dir, job=run.job, names=run.names, allow_nonempty=allow_nonempty,
                  inputs=run.input_paths)
    return not force and outputs.read_marker(run.output_dir) == run.fingerprint


def check_preprocess(config: Config, *, allow_nonempty: bool = False,
                     force: bool = False) -> tuple[Run, Manifest | None]:
    """(the run `config` describes, the manifest of its complete output or None when it must run)."""
    run = preprocess_run(config)
    if not _complete(run, allow_nonempty=allow_nonempty, force=force):
        return run, None
    return run, read_manifest(run.output_dir, verify_vocab=False)


def check_summarize(config: Config, *, allow_nonempty: bool = False,
                    force: bool = False) -> tuple[Run, dict | None]:
    """(the run `config` describes, the counts of its complete output or None when it must run)."""
    run = summarize_run(config)
    if not _complete(run, allow_nonempty=allow_nonempty, force=force):
        return run, None
    try:
        return run, json.loads(outputs.read_text(outputs.join(run.output_dir, COUNTS_FILE)))
    except (OSError, ValueError):  # counts lost or damaged since: run again
        return run, None


def nothing_to_do(run: Run) -> str:
    return (f"{run.job}: {run.output_dir} is already complete for these inputs and config (fingerprint "
            f"{run.fingerprint}); nothing to do. Use --force to rerun.")
