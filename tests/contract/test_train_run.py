"""Whether a model directory holds a finished training run (contract/train_run.py), on directories laid out as
training leaves them (contract/model_dir.py); the trainer itself is tested in tests/model/test_trainer.py."""

import json
import math
import os
import shutil

import pytest

from configs.load import config_yaml, load_config
from contract import model_dir as layout, train_run
from contract.manifest import MANIFEST_NAME, VOCAB_FILE, Manifest, ManifestError, SplitInfo, VocabInfo
from contract.tokenizer import Tokenizer
from tests.fixtures import pairs, vocabulary
from workspace import outputs
from workspace.errors import UsageError


@pytest.fixture(scope="module")
def vocab_model(tmp_path_factory):
    return vocabulary(tmp_path_factory.mktemp("spm"), pairs(60))


def _data_dir(tmp_path, vocab_model, fingerprint="data-1"):
    """A preprocess output's manifest, marker and vocabulary (no records: nothing here reads them)."""
    data = tmp_path / "data"
    (data / "vocab").mkdir(parents=True, exist_ok=True)
    shutil.copy(vocab_model, data / VOCAB_FILE)
    tokenizer = Tokenizer.load(str(data / VOCAB_FILE))
    manifest = Manifest(
        format="sumflow.preprocess/v1", schema_version="sumflow.example/v1",
        splits={s: SplitInfo(files=(), num_records=0) for s in ("train", "validation", "test")},
        vocab=VocabInfo(model_file=VOCAB_FILE, sha256=tokenizer.vocab_sha256(), size=tokenizer.vocab_size),
        counts={}, inputs=[], fingerprint=fingerprint, config={}, code_version="x", seed=1, created="")
    (data / MANIFEST_NAME).write_text(manifest.to_json())
    (data / "_SUCCESS").write_text(fingerprint + "\n")
    return manifest


def _config(tmp_path, *more):
    return load_config([], [f"train.data_dir={tmp_path / 'data'}", f"train.model_dir={tmp_path / 'model'}", *more])


def _finished_model_dir(tmp_path, config, manifest):
    """What a finished training run leaves: its record, train.json, history and `_COMPLETE` (written last)."""
    model = tmp_path / "model"
    model.mkdir()
    outputs.record(str(model), job="train", files=layout.FILES)
    (model / layout.TRAIN_INFO).write_text(json.dumps({"vocab_sha256": manifest.vocab.sha256}))
    (model / layout.HISTORY).write_text("epoch,loss,val_loss\n0,5.0,4.5\n1,4.0,3.5\n")
    (model / layout.BEST_WEIGHTS).write_bytes(b"w")
    (model / layout.COMPLETE).write_text(train_run.run_fingerprint(config, manifest.fingerprint) + "\n")
    return model


def test_a_finished_run_of_the_same_config_and_data_is_found_without_writing(tmp_path, vocab_model):
    manifest = _data_dir(tmp_path, vocab_model)
    config = _config(tmp_path)
    model = _finished_model_dir(tmp_path, config, manifest)
    with outputs.locked(str(model)):
        pass  # the lock file exists from now on, as after any run
    before = {p: os.stat(model / p).st_mtime_ns for p in os.listdir(model)}
    done = train_run.already_trained(config)
    assert done == train_run.TrainResult(str(model / layout.MODEL_FILE), 2, 3.5, [
        {"epoch": 0.0, "loss": 5.0, "val_loss": 4.5}, {"epoch": 1.0, "loss": 4.0, "val_loss": 3.5}], 0.0)
    assert {p: os.stat(model / p).st_mtime_ns for p in os.listdir(model)} == before


def test_a_finished_run_reports_the_figure_its_select_by_followed(tmp_path, vocab_model):
    manifest = _data_dir(tmp_path, vocab_model)
    config = _config(tmp_path, "train.select_by=rouge")
    model = _finished_model_dir(tmp_path, config, manifest)
    (model / layout.HISTORY).write_text("epoch,loss,val_loss,val_rouge1\n0,5.0,4.5,21.5\n1,4.0,3.5,18.25\n")
    (model / layout.CONFIG).write_text(config_yaml(config))
    done = train_run.already_trained(config)
    assert (done.monitor, done.best, done.best_val_loss) == ("val_rouge1", 21.5, 3.5)
    (model / layout.CONFIG).unlink()  # the config given says how the run selected (it is in the fingerprint)
    done = train_run.finished_run(str(model), train_run.run_fingerprint(config, manifest.fingerprint),
                                  select_by="rouge")
    assert (done.monitor, done.best, done.best_val_loss) == ("val_rouge1", 21.5, 3.5)
    (model / layout.HISTORY).write_text("epoch,loss\n0,5.0\n1,4.0\n")  # no validation data: the training loss
    done = train_run.finished_run(str(model), train_run.run_fingerprint(config, manifest.fingerprint),
                                  select_by="rouge")
    assert (done.monitor, done.best, done.best_val_loss) == ("loss", 4.0, 4.0)
    assert train_run.best_value([{"val_rouge1": 1.0}], "val_loss") == math.inf
    assert train_run.best_value([{"val_loss": 1.0}], "val_rouge1") == -math.inf


def test_another_config_or_data_or_no_marker_means_training_decides(tmp_path, vocab_model):
    manifest = _data_dir(tmp_path, vocab_model)
    config = _config(tmp_path)
    model = _finished_model_dir(tmp_path, config, manifest)
    assert train_run.already_trained(_config(tmp_path, "train.epochs=7")) is None
    assert train_run.already_trained(_config(tmp_path, "model.encoder_units=8")) is None
    _data_dir(tmp_path, vocab_model, fingerprint="data-2")  # preprocessed again: other records
    assert train_run.already_trained(config) is None
    _data_dir(tmp_path, vocab_model)
    assert train_run.already_trained(config) is not None
    os.remove(model / layout.COMPLETE)
    assert train_run.already_trained(config) is None
    assert train_run.already_trained(_config(tmp_path, f"train.model_dir={tmp_path / 'new'}")) is None
    assert not (tmp_path / "new").exists()


def test_it_refuses_what_training_refuses_and_leaves_a_locked_directory_to_training(tmp_path, vocab_model):
    manifest = _data_dir(tmp_path, vocab_model)
    config = _config(tmp_path)
    model = _finished_model_dir(tmp_path, config, manifest)
    with outputs.locked(str(model)):  # another run is at work there: training decides (and says so)
        assert train_run.already_trained(config) is None
    (model / layout.TRAIN_INFO).write_text(json.dumps({"vocab_sha256": "f" * 64}))
    with pytest.raises(ManifestError, match="is not the one this model was trained with"):
        train_run.already_trained(config)
    os.remove(model / outputs.OWNED_NAME)
    with pytest.raises(UsageError, match="holds no earlier `sumflow train` output"):
        train_run.already_trained(config)


def test_completed_run_clears_another_finished_run_and_keeps_this_one(tmp_path, vocab_model):
    manifest = _data_dir(tmp_path, vocab_model)
    config = _config(tmp_path)
    model = _finished_model_dir(tmp_path, config, manifest)
    fingerprint = train_run.run_fingerprint(config, manifest.fingerprint)
    assert train_run.completed_run(str(model), fingerprint, force=False, select_by="loss").best_val_loss == 3.5
    assert (model / layout.COMPLETE).exists()
    assert train_run.completed_run(str(model), "another", force=False, select_by="loss") is None
    assert not [n for n in (layout.COMPLETE, layout.HISTORY, layout.BEST_WEIGHTS) if (model / n).exists()]
    assert (model / layout.TRAIN_INFO).exists()  # what a resumed run checks stays
    shutil.rmtree(model)
    model = _finished_model_dir(tmp_path, config, manifest)
    assert train_run.completed_run(str(model), fingerprint, force=True, select_by="loss") is None  # --force: afresh
    assert not (model / layout.COMPLETE).exists()
