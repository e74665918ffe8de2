"""The Transformer from the CLI, as a user switches to it: train with the shipped config layer's architecture,
export, summarize; the exported model has the RNN's signature, so summarize needs nothing else."""

import json

import pytest

from tests.fixtures import TINY_MODEL, TINY_TRANSFORMER, pairs, write_jsonl
from tests.jobs.test_end_to_end import sumflow


@pytest.mark.slow
def test_train_export_and_summarize_a_transformer(tmp_path):
    write_jsonl(tmp_path / "pairs.jsonl", pairs(120))
    overrides = TINY_MODEL + TINY_TRANSFORMER + [
        "train.epochs=2", "train.steps_per_epoch=4", "train.select_by=rouge", "train.validation_rouge_samples=4",
        "decode.max_length=8", "tokenizer.vocab_size=400", "clean.min_article_words=5", "split.train=0.8",
        "split.validation=0.1", "split.test=0.1"]
    common = ["-c", "jsonl", "--set", f"source.paths=[{tmp_path / 'pairs.jsonl'}]"] + sum(
        (["--set", o] for o in overrides), [])
    sumflow("preprocess", *common, "-o", "data", cwd=tmp_path)
    trained = sumflow("train", *common, "--data-dir", "data", "--model-dir", "model", cwd=tmp_path)
    assert "best val_rouge1" in trained.stdout + trained.stderr
    config = (tmp_path / "model" / "config.yaml").read_text()
    assert "architecture: transformer" in config
    sumflow("export", *common, "--model-dir", "model", "--export-dir", "export", cwd=tmp_path)
    info = json.load(open(tmp_path / "export" / "sumflow_export.json"))
    assert info["decode"]["max_length"] == 8
    texts = [row["article"] for row in pairs(3, seed=5)]
    out = sumflow("summarize", "--model-dir", "export", *sum((["--text", t] for t in texts), []), cwd=tmp_path)
    lines = out.stdout.rstrip("\n").split("\n")
    assert len(lines) == 3  # one summary a line, in order (a tiny model's summaries may be any words)
