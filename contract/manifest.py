"""The preprocess output's manifest: how training and summarization find and verify the data.

Layout of a preprocess output directory:
  manifest.json            this manifest (written before the marker)
  config.yaml              the resolved config of the run
  vocab/spm.model          the SentencePiece model (`vocab.model_file`)
  data/{split}-*.tfrecord  tf.train.Example records (contract/records.py); an appended generation's shards
                           carry its tag (data/train-g0001-*.tfrecord), all listed in `splits`
  dead_letter/*.jsonl      every dropped record with its reason
  stats.json               length histograms, dedup and leakage report
  _SUCCESS                 completion marker, written last; holds the run fingerprint

A reader calls `read_manifest(data_dir)`: it refuses a directory without `_SUCCESS`, an unknown format or
schema, and a vocabulary whose hash differs from the one recorded.
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import Any

from workspace.errors import InputError
from workspace.outputs import SUCCESS_NAME
from contract.records import SCHEMA_VERSION

MANIFEST_FORMAT = "sumflow.preprocess/v1"
MANIFEST_NAME = "manifest.json"
VOCAB_FILE = "vocab/spm.model"


class ManifestError(InputError):
    """The data directory is incomplete, from another version, or does not match what the reader expects."""


@dataclasses.dataclass(frozen=True)
class SplitInfo:
    files: tuple[str, ...]  # relative to the data directory
    num_records: int


@dataclasses.dataclass(frozen=True)
class VocabInfo:
    model_file: str  # relative to the data directory
    sha256: str  # Tokenizer.vocab_sha256()
    size: int
    pad_id: int = 0
    unk_id: int = 1
    bos_id: int = 2
    eos_id: int = 3


@dataclasses.dataclass(frozen=True)
class Manifest:
    format: str
    schema_version: str
    splits: dict[str, SplitInfo]
    vocab: VocabInfo
    counts: dict[str, Any]  # {"input": n, "written": n, "dropped": {reason: n}}
    inputs: list[dict]  # [{"path", "size", "mtime"}] or the TFDS dataset's identity
    fingerprint: str  # inputs + config + code version: what `_SUCCESS` records
    config: dict
    code_version: str
    seed: int
    created: str
    # One entry per generation (`sumflow preprocess --append`: pipeline/append.py), the first a full build:
    # {"generation": n, "inputs": [paths read], "counts": {"input", "written", "dropped"}, "created"}.
    generations: list[dict] = dataclasses.field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_dict(cls, d: dict) -> "Manifest":
        d = dict(d)
        d["splits"] = {k: SplitInfo(files=tuple(v["files"]), num_records=v["num_records"])
                       for k, v in d["splits"].items()}
        d["vocab"] = VocabInfo(**d["vocab"])
        return cls(**d)


# Local paths with the standard library (deciding that a run is already complete must not wait ~4 s for
# TensorFlow); remote ones (gs://) with tf.io.gfile, not Beam's FileSystems: training must not import Beam.


def _exists(path: str) -> bool:
    if "://" not in path:
        return os.path.exists(path)
    import tensorflow as tf

    return tf.io.gfile.exists(path)


def _read_bytes(path: str) -> bytes:
    """The file's bytes; FileNotFoundError if it is not there."""
    if "://" not in path:
        with open(path, "rb") as f:
            return f.read()
    import tensorflow as tf

    try:
        with tf.io.gfile.GFile(path, "rb") as f:
            return f.read()
    except tf.errors.NotFoundError as e:
        raise FileNotFoundError(str(e)) from None


def _join(data_dir: str, rel: str) -> str:
    return data_dir.rstrip("/") + "/" + rel


def read_manifest(data_dir: str, *, verify_vocab: bool = True) -> Manifest:
    """Load and check a preprocess output's manifest (see the module docstring)."""
    if not _exists(_join(data_dir, SUCCESS_NAME)):
        raise ManifestError(f"{data_dir}: no {SUCCESS_NAME} marker; the preprocess run there did not finish "
                            f"(rerun `sumflow preprocess` with this output directory)")
    path = _join(data_dir, MANIFEST_NAME)
    try:
        raw = json.loads(_read_bytes(path).decode("utf-8"))
    except (FileNotFoundError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ManifestError(f"{path}: cannot be read as a manifest ({type(e).__name__}); rerun "
                            f"`sumflow preprocess --force`") from None
    found = raw.get("format") if isinstance(raw, dict) else None
    if found != MANIFEST_FORMAT:
        raise ManifestError(f"{data_dir}: manifest format {found!r}, this sumflow reads "
                            f"{MANIFEST_FORMAT!r}; rerun `sumflow preprocess --force`")
    if raw.get("schema_version") != SCHEMA_VERSION:
        raise ManifestError(f"{data_dir}: records use schema {raw.get('schema_version')!r}, this sumflow reads "
                            f"{SCHEMA_VERSION!r}; rerun `sumflow preprocess --force`")
    try:
        manifest = Manifest.from_dict(raw)
    except (KeyError, TypeError) as e:
        raise ManifestError(f"{path}: not a complete manifest ({type(e).__name__}: {e}); rerun "
                            f"`sumflow preprocess --force`") from None
    if verify_vocab:
        from contract.tokenizer import Tokenizer

        actual = Tokenizer.load(_join(data_dir, manifest.vocab.model_file)).vocab_sha256()
        if actual != manifest.vocab.sha256:
            raise ManifestError(f"{data_dir}: {manifest.vocab.model_file} hashes to {actual[:12]}, the manifest "
                                f"records {manifest.vocab.sha256[:12]}; the vocabulary was replaced after "
                                f"preprocessing. Rerun `sumflow preprocess --force`")
    return manifest


def load_manifest(data_dir: str, *, expected_vocab_sha256: str | None = None) -> Manifest:
    """The manifest of `data_dir`, refusing data whose vocabulary is not the one expected (e.g. a resumed model's)."""
    manifest = read_manifest(data_dir)
    if expected_vocab_sha256 and manifest.vocab.sha256 != expected_vocab_sha256:
        raise ManifestError(
            f"{data_dir}: its vocabulary ({manifest.vocab.sha256[:12]}) is not the one this model was trained "
            f"with ({expected_vocab_sha256[:12]}); train into a new train.model_dir, or point train.data_dir at "
            f"data preprocessed with the model's vocabulary (tokenizer.model_path)")
    return manifest


def split_paths(data_dir: str, manifest: Manifest, split: str) -> list[str]:
    """Absolute paths of one split's TFRecord shards, as the manifest lists them."""
    if split not in manifest.splits:
        raise ManifestError(f"{data_dir}: no split {split!r}; the manifest has {sorted(manifest.splits)}")
    return [_join(data_dir, rel) for rel in manifest.splits[split].files]


def vocab_path(data_dir: str, manifest: Manifest) -> str:
    return _join(data_dir, manifest.vocab.model_file)
