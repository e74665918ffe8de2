"""The `sumflow` command line: help, one-line errors with the README's exit codes, --debug. No job runs: every
failure here happens before a job's heavy imports."""

import os
import re
import subprocess
import sys

import pytest
from click.testing import CliRunner

from jobs import cli, train
from workspace.errors import InputError, LockedError, UsageError

SUMFLOW = os.path.join(os.path.dirname(sys.executable), "sumflow")  # the installed entry point


def _sumflow(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run([SUMFLOW, *args], capture_output=True, text=True, timeout=120,
                          env={**os.environ, **env})


def _invoke(args, **kwargs):
    return CliRunner().invoke(cli.main, args, prog_name="sumflow", **kwargs)


def test_bare_sumflow_shows_the_help_on_stderr_with_exit_code_2():
    out = _sumflow()
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.splitlines()
    assert lines[:3] == ["Usage: sumflow [OPTIONS] COMMAND [ARGS]...", "",
                         "  sumflow: turn piles of documents into summaries on a schedule."]
    commands = [line.split()[0] for line in lines[lines.index("Commands:") + 1:] if line.strip()]
    assert commands == ["doctor", "evaluate", "export", "preprocess", "summarize", "train", "tune-decoding"]


def test_version():
    out = _sumflow("--version")
    assert (out.returncode, out.stdout, out.stderr) == (0, "sumflow, version 0.1.0\n", "")


@pytest.mark.parametrize("args, line", [
    (["--bogus"], "sumflow: No such option '--bogus'. Did you mean '--verbose'? (see 'sumflow --help')"),
    (["nosuch"], "sumflow: No such command 'nosuch'. (see 'sumflow --help')"),
    (["--debug"], "sumflow: Missing command. (see 'sumflow --help')"),
    (["preprocess", "--ouput-dir", "x"],
     "sumflow preprocess: No such option '--ouput-dir'. (Did you mean one of: '--output-dir', '--run-dir'?) "
     "(see 'sumflow preprocess --help')"),
    (["doctor", "extra"], "sumflow doctor: Got unexpected extra argument (extra) (see 'sumflow doctor --help')"),
    (["evaluate", "--lead-words", "x"], "sumflow evaluate: Invalid value for '--lead-words': 'x' is not a valid "
                                        "integer. (see 'sumflow evaluate --help')"),
    (["summarize", "--format", "csv"], "sumflow summarize: Invalid value for '--format': 'csv' is not one of "
                                       "'jsonl', 'text_dir', 'tfrecord'. (see 'sumflow summarize --help')"),
])
def test_usage_errors_are_one_line_with_exit_code_2(args, line):
    out = _sumflow(*args)
    assert (out.returncode, out.stdout, out.stderr) == (2, "", line + "\n")


def test_a_config_error_is_one_line_with_exit_code_2():
    out = _sumflow("train", "--set", "train.epochs=0")
    assert (out.returncode, out.stdout, out.stderr) == (2, "", "sumflow train: train.epochs: must be > 0\n")
    out = _sumflow("train", "-c", "nosuch")
    assert (out.returncode, out.stderr) == (
        2, "sumflow train: config file 'nosuch' not found; give a path or one of the shipped configs: "
           "['aeslc', 'aeslc_transformer', 'cnndm', 'default', 'jsonl', 'zh']\n")


def _options(help_text: str) -> list[str]:
    return re.findall(r"^  (?:-\w, )?(--[\w-]+)", help_text, flags=re.MULTILINE)


COMMON = ["--config", "--set", "--run-dir"]


@pytest.mark.parametrize("command, options", [
    ("doctor", ["--job-endpoint", "--help"]),
    ("preprocess", COMMON + ["--input", "--output-dir", "--force", "--append", "--allow-nonempty", "--help"]),
    ("train", COMMON + ["--data-dir", "--model-dir", "--force", "--allow-nonempty", "--help"]),
    ("export", COMMON + ["--model-dir", "--export-dir", "--allow-nonempty", "--help"]),
    ("tune-decoding", COMMON + ["--model-dir", "--data-dir", "--help"]),
    ("summarize", COMMON + ["--input", "--text", "--format", "--model-dir", "--output-dir", "--force",
                            "--allow-nonempty", "--help"]),
    ("evaluate", COMMON + ["--predictions", "--prediction-field", "--references", "--reference-split",
                           "--reference-field", "--id-field", "--articles", "--article-field", "--compare",
                           "--compare-field", "--lead-words", "--examples", "--oracle", "--missing-predictions",
                           "--output-dir", "--allow-nonempty",
                           "--help"]),
])
def test_each_subcommand_help_lists_its_options(command, options):
    result = _invoke([command, "--help"])
    assert result.exit_code == 0
    assert result.stdout.startswith(f"Usage: sumflow {command} [OPTIONS]\n")
    assert _options(result.stdout) == options
    assert _invoke([command, "-h"]).stdout == result.stdout


def test_top_level_help_lists_its_options():
    result = _invoke(["--help"])
    assert result.exit_code == 0
    assert _options(result.stdout) == ["--version", "--debug", "--verbose", "--help"]


def _raise(error):
    def load(*args, **kwargs):
        raise error
    return load


@pytest.mark.parametrize("error, code, line", [
    (UsageError("pick another output directory"), 2, "sumflow train: pick another output directory"),
    (InputError("data/pairs.jsonl is empty [while running 'Read']"), 3, "sumflow train: data/pairs.jsonl is empty"),
    (LockedError("runs/m is locked by pid 7"), 75, "sumflow train: runs/m is locked by pid 7"),
    (RuntimeError("boom\nsecond line"), 1,
     "sumflow train: failed: RuntimeError: boom (rerun with --debug, or SUMFLOW_DEBUG=1, for the traceback)"),
    (KeyboardInterrupt(), 130, "\nsumflow train: interrupted"),
])
def test_a_failure_is_one_line_with_its_exit_code(monkeypatch, error, code, line):
    monkeypatch.setattr(train, "load", _raise(error))  # fails where the job loads its config
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    result = _invoke(["train"])
    assert (result.exit_code, result.stdout, result.stderr) == (code, "", line + "\n")


def test_debug_shows_the_traceback_instead(monkeypatch):
    monkeypatch.setattr(train, "load", _raise(RuntimeError("boom")))
    monkeypatch.delenv(cli.DEBUG_ENV, raising=False)
    result = _invoke(["--debug", "train"])
    assert type(result.exception) is RuntimeError and str(result.exception) == "boom"
    assert result.stderr == ""
    result = _invoke(["train"], env={cli.DEBUG_ENV: "1"})
    assert type(result.exception) is RuntimeError and str(result.exception) == "boom"
    result = _invoke(["train"], env={cli.DEBUG_ENV: "0"})  # 0 is off
    assert result.exit_code == 1 and result.stderr.startswith("sumflow train: failed: RuntimeError: boom")


def test_explain_keeps_the_first_line_of_a_foreign_error_to_300_characters():
    message, code = cli._explain(ValueError("x" * 400 + "\nrest"))
    assert code == 1
    assert message == f"failed: ValueError: {'x' * 300} (rerun with --debug, or SUMFLOW_DEBUG=1, for the traceback)"
    assert cli._explain(ValueError("")) == (
        "failed: ValueError:  (rerun with --debug, or SUMFLOW_DEBUG=1, for the traceback)", 1)


def test_explain_finds_our_error_inside_a_runners_wrapped_error():
    wrapped = RuntimeError("Pipeline job failed.\nTraceback (most recent call last):\n"
                           "workspace.errors.InputError: /d/a.jsonl.gz is truncated [while running 'Read']\nmore")
    assert cli._explain(wrapped) == ("/d/a.jsonl.gz is truncated", 3)
