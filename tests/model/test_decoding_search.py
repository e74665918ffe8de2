"""The decoding-settings search (model/decoding_search.py): its grid, and the exact choice on a scripted model
whose best point is known; through the CLI, `sumflow tune-decoding` writes decoding.json and export applies it."""

import json

import pytest

from configs.schema import DecodeConfig, DecodeTuneConfig
from contract.records import EOS_ID, PAD_ID
from model.decoding_search import grid, search


def test_the_grid_lists_every_combination_once_greedy_without_a_length_penalty():
    cfg = DecodeConfig(length_penalty=1.5, min_length=2, tune=DecodeTuneConfig(
        beam_size=(1, 4), length_penalty=(0.6, 1.0), no_repeat_ngram=(0, 3)))
    points = [(p.method, p.beam_size, p.length_penalty, p.min_length, p.no_repeat_ngram) for p in grid(cfg)]
    assert points == [("greedy", 1, 1.5, 2, 0), ("greedy", 1, 1.5, 2, 3),  # greedy: the length penalty unused
                      ("beam", 4, 0.6, 2, 0), ("beam", 4, 0.6, 2, 3), ("beam", 4, 1.0, 2, 0), ("beam", 4, 1.0, 2, 3)]
    # an empty list keeps the decode section's value
    assert [(p.method, p.beam_size) for p in grid(DecodeConfig(method="greedy", tune=DecodeTuneConfig(
        beam_size=(), length_penalty=(), no_repeat_ngram=())))] == [("greedy", 1)]


class EndsEarly:
    """The search interface of `EncoderDecoder` without a network: at every step EOS is the most likely token
    (log-prob ~0), then the article's token at that position (`junk` past its end). So min_length m writes the
    article's first m tokens; the article itself is the reference."""

    def __init__(self, vocab: int, junk: int):
        self.vocab, self.junk = vocab, junk

    def init_search(self, article_ids, *, max_length, cache=True):
        from keras import ops

        width = ops.shape(article_ids)[1]
        padded = ops.pad(article_ids, [[0, 0], [0, max(max_length - width, 0)]])
        script = ops.where(ops.equal(padded, PAD_ID), self.junk, padded)
        return {"script": script, "source_ids": article_ids}, {"steps": ops.zeros((ops.shape(article_ids)[0],),
                                                                                 "int32")}

    def search_step(self, tokens, *, position, memory, state):
        from keras import ops

        vocab = self.vocab
        logits = 10.0 * ops.one_hot(ops.full((ops.shape(tokens)[0],), EOS_ID, "int32"), vocab) + \
            9.0 * ops.one_hot(ops.take(memory["script"], position, axis=1), vocab)
        return (ops.log_softmax(logits, axis=-1), ops.zeros((ops.shape(tokens)[0], ops.shape(memory["source_ids"])[1])),
                {"steps": state["steps"] + 1})


@pytest.fixture(scope="module")
def tokenizer(tmp_path_factory):
    from contract.tokenizer import Tokenizer
    from tests.fixtures import pairs, vocabulary

    return Tokenizer.load(vocabulary(tmp_path_factory.mktemp("vocab"), pairs(60)))


def test_the_search_picks_the_best_point_and_ties_go_to_the_cheaper_one(tokenizer):
    words = [i for i in range(tokenizer.vocab_size) if tokenizer._sp.id_to_piece(i).startswith("\u2581")
             and tokenizer._sp.id_to_piece(i)[1:].isalpha()]
    articles = [words[0:5], words[5:10], words[10:15]]  # five one-piece words each
    references = [tokenizer.decode(a) for a in articles]
    cfg = DecodeConfig(max_length=12, no_repeat_ngram=0, no_repeat_word=False, tune=DecodeTuneConfig(
        beam_size=(1, 2), length_penalty=(1.0,), min_length=(0, 3, 5, 7), no_repeat_ngram=(), batch_size=2))
    best, points = search(EndsEarly(tokenizer.vocab_size, junk=words[15]), tokenizer, articles=articles, references=references, cfg=cfg,
                          max_source_tokens=40)
    by_point = {(p["settings"]["beam_size"], p["settings"]["min_length"]): p["rouge1"] for p in points}
    # min length 5 writes the reference; 0 nothing; 3 three of its five words; 7 two words more (the junk word twice)
    assert by_point[(1, 5)] == 100.0 and by_point[(1, 0)] == 0.0
    assert by_point[(1, 3)] == pytest.approx(100 * 2 * 0.6 / 1.6, abs=1e-3)
    assert by_point[(1, 7)] < 100.0 and by_point[(2, 5)] == 100.0  # beam 2 writes the same: a tie
    assert points[best]["settings"] == {"method": "greedy", "beam_size": 1, "length_penalty": 1.0, "min_length": 5,
                                        "no_repeat_ngram": 0, "no_repeat_word": False,
                                        "no_repeat_content_word": False}
    assert points[best]["back_to_back"] == 0.0 and by_point[(1, 7)] < by_point[(1, 5)]
    assert [p for p in points if p["settings"]["min_length"] == 7][0]["back_to_back"] == 1.0  # "junk junk"


@pytest.mark.slow
def test_tune_decoding_writes_its_choice_and_export_applies_it(tmp_path):
    from configs.load import load_config
    from model import trainer
    from tests.fixtures import TINY_MODEL, preprocessed
    from tests.jobs.test_trust import sumflow

    config = load_config([], TINY_MODEL + [f"train.data_dir={preprocessed(tmp_path, n=100)}",
                                           f"train.model_dir={tmp_path / 'model'}", "train.epochs=1",
                                           "train.steps_per_epoch=4", "decode.max_length=8"])
    trainer.train(config, verbose=0, log=lambda m: None)
    result = sumflow(["tune-decoding", "--model-dir", "model", "--set", "decode.tune.beam_size=[1,2]",
                      "--set", "decode.tune.length_penalty=[1.0]", "--set", "decode.tune.min_length=[1,4]",
                      "--set", "decode.tune.no_repeat_ngram=[0]", "--set", "decode.tune.documents=6"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((tmp_path / "model" / "decoding.json").read_text())
    assert (record["split"], record["documents"], record["metric"], len(record["points"])) == \
        ("validation", 6, "rouge1", 4)
    best = max(record["points"], key=lambda p: p["rouge1"])["rouge1"]
    first_best = next(p for p in record["points"] if p["rouge1"] == best)
    assert record["chosen"] == first_best["settings"]
    assert result.stderr.splitlines()[-1].startswith("tune-decoding: chose ")

    export = sumflow(["export", "--model-dir", "model", "--export-dir", "export"], tmp_path)
    assert export.returncode == 0, export.stderr[-3000:]
    info = json.loads((tmp_path / "export" / "sumflow_export.json").read_text())
    assert {k: info["decode"][k] for k in record["chosen"]} == record["chosen"]
    assert any(line.startswith("export: decoding settings chosen on 6 validation documents by rouge1")
               for line in export.stderr.splitlines())
    kept = sumflow(["export", "--model-dir", "model", "--export-dir", "export", "--set", "decode.min_length=2"],
                   tmp_path)
    assert kept.returncode == 0, kept.stderr[-3000:]
    info = json.loads((tmp_path / "export" / "sumflow_export.json").read_text())
    assert info["decode"]["min_length"] == 2 and info["decode"]["beam_size"] == record["chosen"]["beam_size"]
    assert "--set kept min_length" in kept.stderr
