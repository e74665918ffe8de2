"""The schema's defaults, its validation messages (whole, not fragments) and the loader's type checks that
tests/configs/test_load.py leaves out."""

import dataclasses

import pytest

from configs.load import load_config
from configs.schema import (SPLITS, Config, ConfigError, DecodeConfig, EvaluateConfig, SourceConfig, SplitConfig,
                            TokenizerConfig, TrainConfig, to_dict)
from workspace.errors import UsageError


def test_config_errors_are_usage_errors():
    assert issubclass(ConfigError, UsageError) and ConfigError.exit_code == 2
    assert SPLITS == ("train", "validation", "test")


def test_defaults():
    config = Config()
    assert config.source == SourceConfig(format="builtin", paths=(), split_paths={}, id_field="id",
                                         article_field="article", summary_field="summary",
                                         summary_marker="@highlight", tfds_name="", tfds_data_dir="",
                                         tfds_splits={"train": "train", "validation": "validation", "test": "test"},
                                         builtin_max_records=0)
    assert (config.split.train, config.split.validation, config.split.test, config.split.salt) == (
        0.9, 0.05, 0.05, "sumflow")
    assert (config.tokenizer.model_type, config.tokenizer.vocab_size, config.tokenizer.seed) == ("unigram", 8000, 17)
    assert (config.model.cell, config.model.attention, config.model.max_source_tokens,
            config.model.max_target_tokens) == ("gru", "bahdanau", 400, 100)
    assert (config.train.batch_size, config.train.epochs, config.train.learning_rate, config.train.decay,
            config.train.bucket_boundaries) == (32, 10, 0.001, "cosine", (50, 100, 200, 300))
    assert (config.train.select_by, config.train.validation_rouge_samples) == ("loss", 64)
    assert (config.decode.method, config.decode.beam_size, config.decode.no_repeat_ngram) == ("beam", 4, 3)
    assert config.evaluate.metrics == ("rouge1", "rouge2", "rougeL", "rougeLsum")
    assert (config.preprocess.output_dir, config.train.data_dir, config.train.model_dir,
            config.summarize.model_dir) == ("runs/default/data", "runs/default/data", "runs/default/model",
                                            "runs/default/export")


def test_mutable_defaults_are_not_shared():
    a, b = SourceConfig(), SourceConfig()
    a.tfds_splits["train"] = "train[:10%]"
    assert b.tfds_splits == {"train": "train", "validation": "validation", "test": "test"}


def test_sections_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'epochs'"):
        Config().train.epochs = 3


def test_to_dict_is_plain_data():
    d = to_dict(Config())
    assert list(d) == ["run_dir", "source", "clean", "dedup", "split", "tokenizer", "preprocess", "beam", "model",
                       "train", "decode", "summarize", "evaluate"]
    assert d["train"]["bucket_boundaries"] == [50, 100, 200, 300]
    assert d["evaluate"]["metrics"] == ["rouge1", "rouge2", "rougeL", "rougeLsum"]
    assert d["split"] == {"train": 0.9, "validation": 0.05, "test": 0.05, "salt": "sumflow"}
    assert to_dict(DecodeConfig(method="greedy")) == {
        "method": "greedy", "beam_size": 4, "min_length": 1, "max_length": 100, "length_penalty": 1.0,
        "coverage_penalty": 0.0, "no_repeat_ngram": 3, "no_repeat_word": True, "no_repeat_content_word": False,
        "use_tuned": True,
        "tune": {"beam_size": [1, 4], "length_penalty": [0.6, 1.0, 2.0], "min_length": [], "no_repeat_ngram": [0, 3],
                 "no_repeat_word": [], "no_repeat_content_word": [], "documents": 500, "metric": "rouge1", "batch_size": 32}}


@pytest.mark.parametrize("override, message", [
    # a bad key
    ("tokenizer.vocab_sise=10", "tokenizer.vocab_sise: unknown key (did you mean tokenizer.vocab_size?); known keys: "
                                "model_path, model_type, vocab_size, character_coverage, byte_fallback, "
                                "sample_documents, seed"),
    ("nosection.x=1", "nosection: unknown key; known keys: run_dir, source, clean, dedup, split, tokenizer, "
                      "preprocess, beam, model, train, decode, summarize, evaluate"),
    # a bad type
    ("tokenizer.vocab_size=true", "tokenizer.vocab_size: expected int, got True"),
    ("train.epochs=2.5", "train.epochs: expected int, got 2.5"),
    ("source=3", "source: expected a section (mapping), got 3"),
    ("source.paths={a: 1}", "source.paths: expected a list, got {'a': 1}"),
    ("source.split_paths=[a]", "source.split_paths: expected a mapping, got ['a']"),
    ("train.bucket_boundaries=[1, x]", "train.bucket_boundaries[1]: expected int, got 'x'"),
    # a value out of range or not among the choices
    ("source.split_paths.dev=x", "source.split_paths.dev: split must be one of ('train', 'validation', 'test')"),
    ("source.format=tfds", "source.tfds_name: set the TFDS dataset name (e.g. cnn_dailymail) when source.format is "
                           "tfds"),
    ("source.builtin_max_records=-1", "source.builtin_max_records: must be >= 0"),
    ("clean.unicode_form=NFX", "clean.unicode_form: use NFKC (default), NFC, NFD, NFKD or '' for none"),
    ("clean.rules=[x]", "clean.rules: unknown rule 'x'; known: ('cnn_byline',)"),
    ("clean.min_article_words=20000", "clean.min_article_words: must be >= 0 and <= clean.max_article_words"),
    ("clean.min_summary_words=-1", "clean.min_summary_words: must be >= 0 and <= clean.max_summary_words"),
    ("dedup.shingle_words=0", "dedup.shingle_words: must be >= 1"),
    ("dedup.num_perm=0", "dedup.num_perm: must be >= 1"),
    ("dedup.bands=5", "dedup.bands: dedup.num_perm (64) must be a multiple of dedup.bands (5)"),
    ("dedup.threshold=0", "dedup.threshold: must be in (0, 1]"),
    ("split.train=1.1", "split: train + validation + test must be 1.0 and each >= 0 (got 1.2)"),
    ("tokenizer.model_type=wordpiece", "tokenizer.model_type: use unigram or bpe"),
    ("tokenizer.vocab_size=299", "tokenizer.vocab_size: must be >= 300 (byte fallback alone needs 256 pieces)"),
    ("tokenizer.character_coverage=0.5", "tokenizer.character_coverage: must be in [0.9, 1]"),
    ("tokenizer.sample_documents=0", "tokenizer.sample_documents: must be > 0"),
    ("tokenizer.seed=-1", "tokenizer.seed: must be >= 0"),
    ("beam.direct_num_workers=-2", "beam.direct_num_workers: must be >= 0 (0 = one per core)"),
    ("preprocess.output_dir=", "preprocess.output_dir: set an output directory"),
    ("beam.direct_running_mode=x", "beam.direct_running_mode: use in_memory, multi_threading or multi_processing"),
    ("preprocess.direct_num_workers=2", "preprocess.direct_num_workers: moved to beam.direct_num_workers (one "
                                        "runner section that preprocess and summarize both read); rename it there"),
    ("model.attention=dot", "model.attention: use bahdanau or luong"),
    ("model.decoder_units=0", "model.decoder_units: must be > 0"),
    ("model.dropout=1", "model.dropout: must be in [0, 1)"),
    ("train.batch_size=0", "train.batch_size: must be > 0"),
    ("train.epochs=0", "train.epochs: must be > 0"),
    ("train.learning_rate=0", "train.learning_rate: must be > 0"),
    ("train.steps_per_epoch=-1", "train.steps_per_epoch: must be >= 0 (0 = one pass over the train split)"),
    ("train.warmup_steps=-5", "train.warmup_steps: must be >= 0"),
    ("train.clip_norm=-1", "train.clip_norm: must be >= 0 (0 = no clipping)"),
    ("train.coverage_loss_weight=-0.5", "train.coverage_loss_weight: must be >= 0"),
    ("train.shuffle_buffer=0", "train.shuffle_buffer: must be >= 1"),
    ("train.bucket_boundaries=[100, 50]", "train.bucket_boundaries: must be increasing lengths > 0"),
    ("train.bucket_boundaries=[0, 50]", "train.bucket_boundaries: must be increasing lengths > 0"),
    ("train.seed=-1", "train.seed: must be >= 0"),
    ("train.early_stopping_patience=-1", "train.early_stopping_patience: must be >= 0"),
    ("train.validation_rouge_samples=-1", "train.validation_rouge_samples: must be >= 0 (0 = none)"),
    ("train.decay=linear", "train.decay: use cosine, constant or rsqrt"),
    ("train.mixed_precision=fp16", "train.mixed_precision: use auto or off"),
    ("train.jit_compile=yes", "train.jit_compile: expected str, got True"),  # YAML's yes is a bool
    ("train.jit_compile=always", "train.jit_compile: use auto, on or off"),
    ("train.strategy=tpu", "train.strategy: use auto, default, mirrored or multi_worker"),
    ("train.label_smoothing=1.0", "train.label_smoothing: must be in [0, 1)"),
    ("train.select_by=bleu", "train.select_by: use loss or rouge"),
    ("decode.method=sample", "decode.method: use greedy or beam"),
    ("decode.beam_size=0", "decode.beam_size: must be >= 1"),
    ("decode.max_length=-1", "decode.max_length: must be >= 1"),
    ("decode.max_length=0", "decode.max_length: must be >= 1"),
    ("decode.length_penalty=-1", "decode.length_penalty: must be >= 0 (0 = none)"),
    ("decode.coverage_penalty=-0.2", "decode.coverage_penalty: must be >= 0 (0 = none)"),
    ("decode.min_length=101", "decode.min_length: must be in [0, max_length]"),
    ("summarize.duplicate_ids=x", "summarize.duplicate_ids: use drop or keep"),
    ("summarize.format=csv", "summarize.format: use jsonl, text_dir or tfrecord"),
    ("summarize.long_documents=x", "summarize.long_documents: use truncate, chunk or reject"),
    ("summarize.batch_size=0", "summarize.batch_size: must be > 0"),
    ("evaluate.metrics=[]", "evaluate.metrics: list at least one metric"),
    ("evaluate.metrics=[bleu]", "evaluate.metrics: unknown metric 'bleu'"),
    ("evaluate.tokenizer=x", "evaluate.tokenizer: use unicode or default"),
    ("evaluate.confidence=1", "evaluate.confidence: must be in (0, 1)"),
    ("evaluate.bootstrap_samples=-1", "evaluate.bootstrap_samples: must be >= 0"),
    ("evaluate.seed=-1", "evaluate.seed: must be >= 0"),
    ("evaluate.lead_words=-4", "evaluate.lead_words: must be >= 0 (0 = off)"),
    ("evaluate.reference_split=dev", "evaluate.reference_split: use one of ('train', 'validation', 'test') (or "
                                     "leave it empty for a JSONL references file)"),
    ("evaluate.lead_k=-1", "evaluate.lead_k: must be >= 0 (0 = no lead baseline)"),
    ("evaluate.workers=-1", "evaluate.workers: must be >= 0 (0 = one per core)"),
    ("evaluate.output_dir=", "evaluate.output_dir: set an output directory"),
])
def test_each_bad_value_gets_its_whole_message(override, message):
    with pytest.raises(ConfigError) as e:
        load_config([], [override])
    assert str(e.value) == message


def test_select_by_rouge_needs_the_validation_rouge_sample():
    with pytest.raises(ConfigError) as e:
        load_config([], ["train.select_by=rouge", "train.validation_rouge_samples=0"])
    assert str(e.value) == ("train.select_by: rouge needs train.validation_rouge_samples > 0: set it, or use "
                            "select_by: loss")
    assert load_config([], ["train.select_by=rouge"]).train.validation_rouge_samples == 64  # the default has one
    assert TrainConfig(select_by="loss", validation_rouge_samples=0).select_by == "loss"


def test_the_loader_widens_and_wraps_values_to_the_schema_types():
    config = load_config([], ["train.learning_rate=1", "source.format=jsonl", "source.paths=a.jsonl",
                              "source.split_paths={train: 5}", "train.bucket_boundaries=[]"])
    assert config.train.learning_rate == 1.0 and type(config.train.learning_rate) is float
    assert config.source.paths == ("a.jsonl",)  # one string is a list of one
    assert config.source.split_paths == {"train": "5"}  # mapping values are strings
    assert config.train.bucket_boundaries == ()


def test_split_fractions_must_each_be_non_negative_even_when_they_sum_to_one():
    with pytest.raises(ConfigError) as e:
        SplitConfig(train=1.1, validation=-0.1, test=0.0)
    assert str(e.value) == "split: train + validation + test must be 1.0 and each >= 0 (got 1)"
    assert SplitConfig(train=1.0, validation=0.0, test=0.0).train == 1.0


def test_valid_combinations_the_checks_allow():
    assert SourceConfig(format="tfds", tfds_name="cnn_dailymail").paths == ()  # tfds needs no paths
    assert SourceConfig(format="csv", split_paths={"train": "t.csv"}).paths == ()  # split_paths replace paths
    assert TokenizerConfig(vocab_size=100, model_path="my.model").vocab_size == 100  # a reused model's size
    assert DecodeConfig(min_length=0, max_length=1).max_length == 1
    assert SourceConfig(format="jsonl").paths == ()  # the input may come with -i: preprocess checks it
    assert TrainConfig(warmup_steps=0, clip_norm=0.0, early_stopping_patience=0).clip_norm == 0.0
    assert EvaluateConfig(reference_split="test").reference_split == "test"
    assert TrainConfig(label_smoothing=0.0, learning_rate=1e-9).learning_rate == 1e-9


@pytest.mark.parametrize("text, value", [("2e-3", 2e-3), ("1E5", 1e5), ("3.5e+2", 350.0), ("4e+0", 4.0), (".5e1", 5.0)])
def test_exponent_floats_without_a_dot_are_floats(text, value):
    # PyYAML (YAML 1.1) reads `2e-3` as the string "2e-3"; a float field takes it as the number it means.
    assert load_config([], [f"train.learning_rate={text}"]).train.learning_rate == value


def test_a_word_in_a_float_field_is_still_an_error():
    with pytest.raises(ConfigError) as e:
        load_config([], ["train.learning_rate=fast"])
    assert str(e.value) == "train.learning_rate: expected float, got 'fast'"
