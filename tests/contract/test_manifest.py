import dataclasses
import json

import pytest

from contract.manifest import (MANIFEST_FORMAT, MANIFEST_NAME, VOCAB_FILE, Manifest, ManifestError, SplitInfo,
                               VocabInfo, read_manifest, split_paths, vocab_path)
from contract.tokenizer import Tokenizer
from tests.fixtures import pairs, vocabulary
from workspace.errors import InputError

MANIFEST = Manifest(
    format="sumflow.preprocess/v1", schema_version="sumflow.example/v1",
    splits={"train": SplitInfo(files=("data/train-00000-of-00002.tfrecord", "data/train-00001-of-00002.tfrecord"),
                               num_records=90),
            "validation": SplitInfo(files=("data/validation-00000-of-00001.tfrecord",), num_records=5),
            "test": SplitInfo(files=("data/test-00000-of-00001.tfrecord",), num_records=5)},
    vocab=VocabInfo(model_file="vocab/spm.model", sha256="0" * 64, size=400),
    counts={"input": 103, "written": 100, "dropped": {"exact_duplicate": 3}},
    inputs=[{"path": "/in/pairs.jsonl", "size": 2048, "mtime": 1700000000.5}],
    fingerprint="fp-123", config={"split": {"salt": "sumflow"}}, code_version="abc", seed=42,
    created="2024-01-02T03:04:05Z")


def _write(data_dir, manifest=MANIFEST, *, success=True, text=None):
    data_dir.mkdir(exist_ok=True)
    (data_dir / MANIFEST_NAME).write_text(manifest.to_json() if text is None else text)
    if success:
        (data_dir / "_SUCCESS").write_text("fp-123")
    return str(data_dir)


@pytest.fixture(scope="module")
def vocab_model(tmp_path_factory):
    return vocabulary(tmp_path_factory.mktemp("spm"), pairs(60))


def test_names_and_versions():
    assert (MANIFEST_FORMAT, MANIFEST_NAME, VOCAB_FILE) == ("sumflow.preprocess/v1", "manifest.json",
                                                            "vocab/spm.model")
    assert issubclass(ManifestError, InputError) and ManifestError.exit_code == 3


def test_the_manifest_is_sorted_json_with_lists_for_tuples():
    d = json.loads(MANIFEST.to_json())
    assert sorted(d) == ["code_version", "config", "counts", "created", "fingerprint", "format", "generations",
                         "inputs", "schema_version", "seed", "splits", "vocab"]
    assert d["splits"]["train"] == {"files": ["data/train-00000-of-00002.tfrecord",
                                              "data/train-00001-of-00002.tfrecord"], "num_records": 90}
    assert d["vocab"] == {"model_file": "vocab/spm.model", "sha256": "0" * 64, "size": 400, "pad_id": 0,
                          "unk_id": 1, "bos_id": 2, "eos_id": 3}
    assert MANIFEST.to_json().startswith('{\n  "code_version": "abc",\n  "config": {\n    "split": {')


def test_from_dict_restores_the_typed_manifest():
    back = Manifest.from_dict(json.loads(MANIFEST.to_json()))
    assert back == MANIFEST
    assert back.splits["validation"] == SplitInfo(files=("data/validation-00000-of-00001.tfrecord",), num_records=5)
    assert type(back.splits["train"].files) is tuple
    assert back.vocab == VocabInfo(model_file="vocab/spm.model", sha256="0" * 64, size=400)


def test_a_written_manifest_reads_back(tmp_path):
    data_dir = _write(tmp_path / "data")
    manifest = read_manifest(data_dir, verify_vocab=False)
    assert manifest == MANIFEST
    assert manifest.counts == {"input": 103, "written": 100, "dropped": {"exact_duplicate": 3}}
    assert manifest.seed == 42 and manifest.created == "2024-01-02T03:04:05Z"


def test_an_unfinished_run_is_refused(tmp_path):
    data_dir = _write(tmp_path / "data", success=False)
    with pytest.raises(ManifestError) as e:
        read_manifest(data_dir, verify_vocab=False)
    assert str(e.value) == (f"{data_dir}: no _SUCCESS marker; the preprocess run there did not finish "
                            f"(rerun `sumflow preprocess` with this output directory)")


def test_another_manifest_format_is_refused(tmp_path):
    data_dir = _write(tmp_path / "data", dataclasses.replace(MANIFEST, format="sumflow.preprocess/v0"))
    with pytest.raises(ManifestError) as e:
        read_manifest(data_dir, verify_vocab=False)
    assert str(e.value) == (f"{data_dir}: manifest format 'sumflow.preprocess/v0', this sumflow reads "
                            f"'sumflow.preprocess/v1'; rerun `sumflow preprocess --force`")


def test_another_record_schema_is_refused(tmp_path):
    data_dir = _write(tmp_path / "data", dataclasses.replace(MANIFEST, schema_version="sumflow.example/v0"))
    with pytest.raises(InputError) as e:
        read_manifest(data_dir, verify_vocab=False)
    assert type(e.value) is ManifestError
    assert str(e.value) == (f"{data_dir}: records use schema 'sumflow.example/v0', this sumflow reads "
                            f"'sumflow.example/v1'; rerun `sumflow preprocess --force`")


def test_a_manifest_without_a_schema_version_is_refused(tmp_path):
    d = json.loads(MANIFEST.to_json())
    del d["schema_version"]
    data_dir = _write(tmp_path / "data", text=json.dumps(d))
    with pytest.raises(ManifestError, match=r"rerun `sumflow preprocess --force`"):
        read_manifest(data_dir, verify_vocab=False)


def test_a_newer_format_with_other_fields_is_refused_by_its_format(tmp_path):
    data_dir = _write(tmp_path / "data", text=json.dumps({"format": "sumflow.preprocess/v2", "shards": {}}))
    with pytest.raises(ManifestError, match=r"manifest format 'sumflow.preprocess/v2', this sumflow reads"):
        read_manifest(data_dir, verify_vocab=False)


def test_the_vocabulary_is_checked_against_its_recorded_hash(tmp_path, vocab_model):
    actual = Tokenizer.load(vocab_model).vocab_sha256()
    data_dir = tmp_path / "data"
    (data_dir / "vocab").mkdir(parents=True)
    (data_dir / "vocab" / "spm.model").write_bytes(open(vocab_model, "rb").read())
    good = dataclasses.replace(MANIFEST, vocab=VocabInfo(model_file=VOCAB_FILE, sha256=actual, size=400))
    assert read_manifest(_write(data_dir, good)) == good
    with pytest.raises(ManifestError) as e:
        read_manifest(_write(data_dir, MANIFEST))  # records "000..."
    assert str(e.value) == (f"{data_dir}: vocab/spm.model hashes to {actual[:12]}, the manifest records "
                            f"000000000000; the vocabulary was replaced after preprocessing. Rerun "
                            f"`sumflow preprocess --force`")
    assert read_manifest(str(data_dir), verify_vocab=False) == MANIFEST


def test_split_and_vocab_paths_join_the_data_dir():
    assert split_paths("gs://bucket/data/", MANIFEST, "train") == [
        "gs://bucket/data/data/train-00000-of-00002.tfrecord", "gs://bucket/data/data/train-00001-of-00002.tfrecord"]
    assert split_paths("/d", MANIFEST, "test") == ["/d/data/test-00000-of-00001.tfrecord"]
    assert vocab_path("/d/", MANIFEST) == "/d/vocab/spm.model"


def test_an_unknown_split_is_refused_with_the_splits_there_are():
    with pytest.raises(ManifestError) as e:
        split_paths("/d", MANIFEST, "dev")
    assert str(e.value) == "/d: no split 'dev'; the manifest has ['test', 'train', 'validation']"


def test_a_missing_or_broken_manifest_is_one_clear_error(tmp_path):
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "_SUCCESS").write_text("")
    with pytest.raises(ManifestError, match=r"manifest.json: cannot be read as a manifest \(FileNotFoundError\); rerun"):
        read_manifest(str(data_dir), verify_vocab=False)
    (data_dir / "manifest.json").write_text("{not json")
    with pytest.raises(ManifestError, match=r"manifest.json: cannot be read as a manifest \(JSONDecodeError\)"):
        read_manifest(str(data_dir), verify_vocab=False)
