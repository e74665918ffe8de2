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

import contextlib
import dataclasses
import hashlib
import json

from configs.load import fingerprint
from configs.schema import Config
from contract import export_format
from contract.manifest import MANIFEST_NAME, Manifest, read_manifest
from pipeline import builtin_corpus
from pipeline.input_matching import document_files, input_files
from workspace import outputs
from workspace.code_hash import code_version as _code_version
from workspace.errors import InputError
from workspace.input_files import file_identity
from workspace.readers import shared_lock

SHAPING_PACKAGES = ("pipeline", "contract", "configs", "workspace")  # their sources are the code version
ANALYSIS_DIR = "analysis"  # preprocess: pass one's duplicate lists and pass two's accounting
COUNTS_FILE = "counts.json"  # summarize: {"input": n, "summarized": n, "dropped:REASON": n}
# The top-level names each job writes in its output directory (workspace/outputs.py claims them).
PREPROCESS_OUTPUTS = ("data", "vocab", "dead_letter", ANALYSIS_DIR, "stats.json", "config.yaml", MANIFEST_NAME,
                      outputs.SUCCESS_NAME)
REUSE_FILE = "reuse.json"  # summarize: what an incremental run reused (pipeline/reuse.py)
SUMMARIZE_OUTPUTS = ("summaries", "dead_letter", COUNTS_FILE, REUSE_FILE, "config.yaml", outputs.SUCCESS_NAME)


@dataclasses.dataclass(frozen=True)
class Run:
    """One run of a job as its config describes it: where it writes, what it reads, its fingerprint."""

    job: str
    output_dir: str
    names: tuple[str, ...]  # top-level names the job writes in output_dir
    inputs: list[dict]  # [{"path", "size", "mtime", ...}] or a dataset's identity
    code_version: str
    fingerprint: str
    model: dict | None = None  # summarize: the exported model's identity (`exported_model`), pinned for the run
    # summarize: the fingerprint of everything but the documents (settings, model, code): an earlier output
    # with the same one can lend its summaries of unchanged documents (pipeline/reuse.py)
    settings_fingerprint: str = ""

    @property
    def input_paths(self) -> list[str]:
        return [i["path"] for i in self.inputs if "path" in i]

    @property
    def input_splits(self) -> list[tuple[str, str]]:
        """(path, split) of each preprocess input file: what `ReadPairs` is handed to read."""
        return [(i["path"], i.get("split", "")) for i in self.inputs if "path" in i]


def code_version() -> str:
    return _code_version(SHAPING_PACKAGES)


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
               fingerprint({"config": sections, "inputs": inputs, "code": version}))


def exported_model(model_dir: str) -> dict:
    """What identifies an exported model: its info file's hash and its graph file's size and mtime. Raises
    InputError (exit 3) when `model_dir` holds no complete export, LockedError (exit 75) while an export
    writes it (it holds the directory's lock: workspace/readers.py)."""
    with shared_lock(model_dir, what="summarize.model_dir"):
        return _exported_model(model_dir)


def _exported_model(model_dir: str) -> dict:
    for required in export_format.REQUIRED:
        if not outputs.exists(outputs.join(model_dir, required)):
            raise InputError(f"summarize.model_dir {model_dir!r} holds no complete exported model (no "
                             f"{required}); run `sumflow export` first or give --model-dir")
    info = outputs.read_text(outputs.join(model_dir, export_format.INFO_FILE))
    return {"info_sha256": hashlib.sha256(info.encode()).hexdigest(),
            "saved_model": file_identity(outputs.join(model_dir, "saved_model.pb"))}


def summarize_inputs(config: Config) -> list[dict]:
    """What identifies the documents: path, size and mtime of each file."""
    return [{"path": path, **file_identity(path)} for path in document_files(config.summarize)]


def summarize_run(config: Config) -> Run:
    cfg = config.summarize
    inputs = summarize_inputs(config)  # usage errors first
    model = exported_model(cfg.model_dir)
    version = code_version()
    settings = {k: v for k, v in dataclasses.asdict(cfg).items() if k != "output_dir"}
    sections = {"summarize": settings, "clean": dataclasses.asdict(config.clean)}
    shaping = {"summarize": {k: v for k, v in settings.items() if k != "inputs"}, "clean": sections["clean"]}
    return Run("summarize", cfg.output_dir, SUMMARIZE_OUTPUTS, inputs, version,
               fingerprint({"config": sections, "inputs": inputs, "model": model, "code": version}), model=model,
               settings_fingerprint=fingerprint({"config": shaping, "model": model, "code": version}))


def check_inputs_unchanged(run: Run, config: Config, *, records_read: int | None = None,
                           records_counted: int | None = None) -> None:
    """Raise InputError (exit 3) when an input file is no longer what the run recorded at its start: another
    size or mtime, gone, or a new file matched by the same patterns (a file rewritten between preprocess's
    passes, or while a pass read it). `records_read` / `records_counted`: a single pass's records as read by
    the job and as counted before it, where both are known exactly. Call it before anything is marked
    complete; `config` is the run's own (the patterns are matched again)."""
    recorded = {i["path"]: i for i in run.inputs if "path" in i}
    if not recorded:  # the built-in corpus, a TFDS dataset: nothing a user rewrites
        return
    try:
        now = {i["path"]: i for i in (preprocess_inputs(config) if run.job == "preprocess"
                                      else summarize_inputs(config))}
    except InputError:  # a pattern matches nothing now, or a file cannot be opened: say which one went
        now = {path: file_identity(path) for path in recorded if _still_there(path)}
    for path, before in recorded.items():
        after = now.get(path)
        if after is None:
            _changed(path, "it is gone")
        if after["size"] != before["size"]:
            _changed(path, f"{before['size']} bytes when the run began, {after['size']} now")
        if after["mtime"] != before["mtime"]:
            _changed(path, f"modified at {_utc(after['mtime'])}, {_utc(before['mtime'])} when the run began")
    for path in now:
        if path not in recorded:
            _changed(path, "a new file matched by the input patterns since the run began")
    if records_read is not None and records_counted is not None and records_read != records_counted:
        paths = ", ".join(recorded)
        _changed(paths if len(recorded) == 1 else f"one of {paths}",
                 f"{records_counted} records counted when the run began, {records_read} read")


def _still_there(path: str) -> bool:
    try:
        file_identity(path)
        return True
    except InputError:
        return False


def _utc(mtime: float | None) -> str:
    import datetime

    if mtime is None:
        return "an unknown time"
    return datetime.datetime.fromtimestamp(mtime, datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")[:-4] \
        + " UTC"


def _changed(path: str, detail: str) -> None:
    raise InputError(f"input {path} changed while it was read ({detail}); nothing was marked complete: rerun")


@contextlib.contextmanager
def inputs_held(run: Run, config: Config):
    """A block that reads the run's inputs: an input that changed meanwhile fails it with the one line of
    `check_inputs_unchanged`, raised at the end of the block, or instead of the block's own error (a file
    rewritten while it was read may look truncated or hold other records)."""
    try:
        yield
    except Exception:
        check_inputs_unchanged(run, config)
        raise
    check_inputs_unchanged(run, config)


def check_model_unchanged(model_dir: str, pinned: dict) -> None:
    """Raise InputError (exit 3) when the exported model in `model_dir` is no longer the one a run pinned at
    its start (an export replaced it while the run read it). Call it holding `shared_lock(model_dir)`."""
    if _exported_model(model_dir) != pinned:
        raise InputError(f"summarize.model_dir {model_dir}: the model changed during the run (exported again "
                         f"while the documents were summarized); nothing was marked complete: run summarize again")


def _complete(run: Run, *, allow_nonempty: bool, force: bool) -> bool:
    """Whether `run.output_dir` holds the complete output of this very run (never with `force`). First, as the
    run itself does, refuses (UsageError) a directory it may not write (workspace/outputs.py `claim`)."""
    outputs.claim(run.output_dir, job=run.job, names=run.names, allow_nonempty=allow_nonempty,
                  inputs=run.input_paths)
    complete = not force and outputs.read_marker(run.output_dir) == run.fingerprint
    if complete:
        outputs.tidy_complete(run.output_dir)  # a crashed later run's staging folder goes, as a run would remove it
    return complete


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
