"""Issue 23, item 8, through the real CLI: config values that were silently changed or ignored are errors (one
line, exit 2, naming the key), a vocabulary that cannot reach its size is a warning with the size reached
(recorded in the manifest), the shipped `-c jsonl` takes split_paths alone, and `export` uses the config the
model was trained with and says so."""

import json

import pytest

from tests.fixtures import pairs, write_jsonl
from tests.jobs.test_trust import first_line, one_line_failure, sumflow


@pytest.mark.parametrize("args, line", [
    (["train", "--set", "train.warmup_steps=-5"], "sumflow train: train.warmup_steps: must be >= 0"),
    (["export", "--set", "decode.max_length=-1"], "sumflow export: decode.max_length: must be >= 1"),
    (["summarize", "--set", "summarize=5", "-i", "docs.jsonl", "-o", "out"],
     "sumflow summarize: summarize: expected a section (mapping), got 5"),
    (["preprocess", "-c", "jsonl", "-o", "out"],
     "sumflow preprocess: source.paths: give input files with -i FILE_OR_GLOB, source.paths or "
     "source.split_paths.SPLIT for format jsonl"),
])
def test_a_config_value_that_would_be_changed_or_ignored_is_one_line(tmp_path, args, line):
    write_jsonl(tmp_path / "docs.jsonl", [{"id": "a", "article": "A river stone."}])
    result = sumflow(args, tmp_path)
    one_line_failure(result, 2)
    assert first_line(result) == line
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_jsonl_with_split_paths_alone_and_a_vocabulary_it_cannot_fill(tmp_path):
    write_jsonl(tmp_path / "train.jsonl", pairs(60))
    write_jsonl(tmp_path / "test.jsonl", pairs(10, seed=1))
    result = sumflow(["preprocess", "-c", "jsonl", "--set", "source.split_paths.train=train.jsonl",
                      "--set", "source.split_paths.test=test.jsonl", "--set", "tokenizer.vocab_size=50000",
                      "--set", "clean.min_article_words=5", "-o", "out"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    reached = manifest["vocab"]["size"]
    assert 256 < reached < 50000 and manifest["config"]["tokenizer"]["vocab_size"] == 50000
    warning = (f"preprocess: warning: tokenizer.vocab_size=50000 cannot be reached from these training documents; "
               f"the vocabulary has {reached} pieces (manifest.json vocab.size): the model is sized by it")
    assert warning in result.stderr.splitlines()
    assert manifest["counts"]["input"] == 70 and manifest["splits"]["test"]["num_records"] > 0


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny trained model directory whose config differs from the schema's defaults where export reads it."""
    from configs.load import load_config
    from model import trainer
    from tests.fixtures import TINY_MODEL, preprocessed

    tmp = tmp_path_factory.mktemp("trained")
    config = load_config([], TINY_MODEL + [f"train.data_dir={preprocessed(tmp, n=100)}",
                                           f"train.model_dir={tmp / 'model'}", "train.epochs=1",
                                           "train.steps_per_epoch=2", "decode.max_length=8",
                                           "decode.length_penalty=2.0", "decode.method=greedy",
                                           f"summarize.model_dir={tmp / 'trained_export'}"])
    trainer.train(config, verbose=0, log=lambda m: None)
    return tmp / "model"


def _export_info(folder) -> dict:
    from contract import export_format

    return json.loads((folder / export_format.INFO_FILE).read_text())


@pytest.mark.slow
def test_export_without_a_config_uses_the_training_runs_and_says_so(tmp_path, trained):
    result = sumflow(["export", "--model-dir", str(trained), "--export-dir", "export"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"export: config {trained}/config.yaml (the training run's)" in result.stderr.splitlines()
    info = _export_info(tmp_path / "export")
    assert info["max_source_tokens"] == 40  # TINY_MODEL's, not the schema's 400
    assert (info["decode"]["max_length"], info["decode"]["length_penalty"], info["decode"]["method"]) == \
        (8, 2.0, "greedy")
    # the command line still wins, key by key; the export directory defaults to the training run's
    again = sumflow(["export", "--model-dir", str(trained), "--set", "decode.max_length=12"], tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"export: config {trained}/config.yaml (the training run's) + 1 --set" in again.stderr.splitlines()
    info = _export_info(trained.parent / "trained_export")
    assert (info["max_source_tokens"], info["decode"]["max_length"], info["decode"]["length_penalty"]) == \
        (40, 12, 2.0)
