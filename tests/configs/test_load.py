import re

import pytest

from configs.load import config_yaml, load_config, parse_override
from configs.schema import Config, ConfigError


def test_defaults_and_layering(tmp_path):
    base = tmp_path / "base.yaml"
    base.write_text("tokenizer:\n  vocab_size: 4000\nsource:\n  format: jsonl\n  paths: [a.jsonl]\n")
    mine = tmp_path / "mine.yaml"
    mine.write_text("tokenizer:\n  model_type: bpe\n")
    config = load_config([str(base), str(mine)], ["tokenizer.vocab_size=16000", "clean.rules=[cnn_byline]"])
    assert config.tokenizer.vocab_size == 16000
    assert config.tokenizer.model_type == "bpe"
    assert config.source.paths == ("a.jsonl",)
    assert config.clean.rules == ("cnn_byline",)
    assert load_config() == Config()


def test_parse_override_types():
    assert parse_override("a.b=3") == {"a": {"b": 3}}
    assert parse_override("a.b=[1, 2]") == {"a": {"b": [1, 2]}}
    assert parse_override("x=hello") == {"x": "hello"}


@pytest.mark.parametrize("override, message", [
    ("tokenizer.vocab_sise=10", "did you mean tokenizer.vocab_size"),
    ("tokenizer.vocab_size=big", "tokenizer.vocab_size: expected int"),
    ("split.train=0.5", "train + validation + test must be 1.0"),
    ("source.format=xml", "source.format: 'xml' is not one of"),
    ("model.cell=rnn", "model.cell: use gru or lstm"),
    ("novalue", "write it as section.key=value"),
])
def test_errors_say_what_to_fix(override, message):
    with pytest.raises(ConfigError, match=re.escape(message)):
        load_config([], [override])


def test_shipped_configs_load_and_round_trip(tmp_path):
    import os

    from configs.load import CONFIG_DIR

    names = sorted(f for f in os.listdir(CONFIG_DIR) if f.endswith(".yaml"))
    assert names, "configs/ ships YAML files"
    for name in names:
        config = load_config([name])
        again = tmp_path / name
        again.write_text(config_yaml(config))
        assert load_config([str(again)]) == config


def test_the_transformer_layer_keeps_the_datasets_settings():
    base, layered = load_config(["aeslc"]), load_config(["aeslc", "aeslc_transformer"])
    assert (base.model.architecture, layered.model.architecture) == ("rnn", "transformer")
    assert layered.source == base.source and layered.decode == base.decode
    assert layered.train.data_dir == base.train.data_dir and layered.train.model_dir != base.train.model_dir


def test_a_section_set_to_a_value_is_an_error_even_when_options_fill_it_later():
    """`--set summarize=5 -i docs.jsonl -o out`: the options' keys land in a section the override made a value."""
    with pytest.raises(ConfigError) as e:
        load_config([], ["summarize=5"], {"summarize.inputs": ["docs.jsonl"], "summarize.output_dir": "out"})
    assert str(e.value) == "summarize: expected a section (mapping), got 5"
    with pytest.raises(ConfigError) as e:
        load_config([], ["source.split_paths=3", "source.split_paths.train=t.jsonl"])
    assert str(e.value) == "source.split_paths: expected a section (mapping), got 3"


def test_an_empty_section_in_a_file_is_filled_by_the_options(tmp_path):
    (tmp_path / "c.yaml").write_text("summarize:\n")  # a section with nothing under it yet: YAML's null
    assert load_config([str(tmp_path / "c.yaml")], [], {"summarize.output_dir": "out"}).summarize.output_dir == "out"


@pytest.mark.parametrize("name", ["jsonl", "zh"])
def test_the_jsonl_configs_take_their_files_from_split_paths_alone(name):
    config = load_config([name], ["source.split_paths.train=t.jsonl", "source.split_paths.test=s.jsonl"])
    assert config.source.paths == () and config.source.split_paths == {"train": "t.jsonl", "test": "s.jsonl"}
    assert load_config([name], [], {"source.paths": ["dump/*.jsonl"]}).source.paths == ("dump/*.jsonl",)
    assert load_config([name]).source.paths == ()  # train, export, summarize -c jsonl need no input files
