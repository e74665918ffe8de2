import click
import pytest
from click.testing import CliRunner

from configs.schema import ConfigError
from jobs.options import BeamCommand, allow_nonempty_option, config_options, load


@click.command("job", cls=BeamCommand)
@config_options
@click.option("--output-dir", "-o", default=None)
@allow_nonempty_option
def beam_job(configs, overrides, output_dir, allow_nonempty, beam_args):
    click.echo(repr((configs, overrides, output_dir, allow_nonempty, beam_args)))


@click.command("plain")
@config_options
@allow_nonempty_option
def plain_job(configs, overrides, allow_nonempty):
    click.echo(repr((configs, overrides, allow_nonempty)))


def _run(command, args):
    return CliRunner().invoke(command, args)


def test_the_shared_options_parse_repeated_values_in_order():
    result = _run(plain_job, ["-c", "aeslc", "--config", "mine.yaml", "--set", "a.b=1", "--set", "c.d=2",
                              "--allow-nonempty"])
    assert result.exit_code == 0
    assert result.stdout == "(('aeslc', 'mine.yaml'), ('a.b=1', 'c.d=2'), True)\n"
    result = _run(plain_job, [])
    assert result.stdout == "((), (), False)\n"


def test_the_shared_options_in_help():
    result = _run(plain_job, ["--help"])
    assert result.exit_code == 0
    help_text = " ".join(result.stdout.split())
    assert "--set SECTION.KEY=VALUE Override one config value (repeatable), parsed as YAML, e.g. --set " \
           "tokenizer.vocab_size=16000." in help_text
    assert "-c, --config FILE YAML config, layered in order (repeatable). A shipped name works too: -c aeslc." \
           in help_text
    assert "--allow-nonempty Write into a directory that already holds other files (sumflow still touches only " \
           "the files it writes)." in help_text


def test_arguments_after_the_double_dash_go_to_beam_unchanged():
    result = _run(beam_job, ["-o", "out", "--", "--runner", "DataflowRunner", "--set", "x", "--"])
    assert result.exit_code == 0
    assert result.stdout == "((), (), 'out', False, ('--runner', 'DataflowRunner', '--set', 'x', '--'))\n"
    result = _run(beam_job, ["--allow-nonempty"])
    assert result.stdout == "((), (), None, True, ())\n"


def test_a_mistyped_option_before_the_double_dash_is_a_usage_error_not_a_beam_argument():
    result = _run(beam_job, ["--ouput-dir", "out", "--", "--runner", "DirectRunner"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines()[-1] == ("Error: No such option '--ouput-dir'. "
                                             "(Did you mean one of: '--output-dir', '--run-dir'?)")


def test_load_applies_options_last_and_literally():
    config = load((), ("preprocess.output_dir=from-set",), {"preprocess.output_dir": "2024"})
    assert config.preprocess.output_dir == "2024"  # a string, as typed, not the YAML int 2024
    assert load((), (), {"preprocess.output_dir": "yes # not a comment"}).preprocess.output_dir == \
        "yes # not a comment"
    with pytest.raises(ConfigError) as e:
        load((), ("preprocess.output_dir=2024",))  # --set parses YAML
    assert str(e.value) == "preprocess.output_dir: expected str, got 2024"


def test_load_leaves_out_options_that_were_not_given():
    config = load((), ("source.format=jsonl", "source.paths=[from-set.jsonl]", "preprocess.output_dir=o"),
                  {"source.paths": (), "preprocess.output_dir": None})
    assert config.source.paths == ("from-set.jsonl",)
    assert config.preprocess.output_dir == "o"


def test_load_takes_a_tuple_option_as_a_list():
    config = load((), ("source.format=jsonl",), {"source.paths": ("a.jsonl", "b*.jsonl")})
    assert config.source.paths == ("a.jsonl", "b*.jsonl")


def test_load_layers_config_files(tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text("train:\n  epochs: 3\n  batch_size: 4\n")
    config = load((str(path),), ("train.epochs=5",), {"train.model_dir": "m"})
    assert (config.train.epochs, config.train.batch_size, config.train.model_dir) == (5, 4, "m")


def test_a_bad_option_value_is_a_config_error_naming_the_key():
    with pytest.raises(ConfigError) as e:
        load((), (), {"train.epochs": "3"})  # an option's string is never parsed
    assert str(e.value) == "train.epochs: expected int, got '3'"
