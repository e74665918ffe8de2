"""run_dir (issue 24): one setting from which the run's data, model, export, summaries and evaluation folders
default; a path given keeps its value, and "{run_dir}" in one is the run's folder."""

import json

import pytest

from configs.load import load_config
from configs.schema import ConfigError


def _paths(config):
    return (config.preprocess.output_dir, config.train.data_dir, config.train.model_dir, config.summarize.model_dir,
            config.summarize.output_dir, config.evaluate.output_dir)


def test_every_path_of_a_run_defaults_to_a_folder_of_run_dir():
    assert _paths(load_config([], [])) == ("runs/default/data", "runs/default/data", "runs/default/model",
                                           "runs/default/export", "runs/default/summaries", "runs/default/evaluation")
    for shipped in ("default", "aeslc", "cnndm", "jsonl", "zh"):  # the shipped configs name only their run_dir
        config = load_config([shipped], ["run_dir=/elsewhere/run"])
        assert _paths(config) == ("/elsewhere/run/data", "/elsewhere/run/data", "/elsewhere/run/model",
                                  "/elsewhere/run/export", "/elsewhere/run/summaries", "/elsewhere/run/evaluation")


def test_a_given_path_wins_and_a_template_follows_the_run():
    config = load_config(["aeslc", "aeslc_transformer"], ["run_dir=gs://bucket/aeslc/", "train.data_dir=/data/x"])
    assert _paths(config) == ("gs://bucket/aeslc/data", "/data/x", "gs://bucket/aeslc/transformer",
                              "gs://bucket/aeslc/transformer-export", "gs://bucket/aeslc/summaries",
                              "gs://bucket/aeslc/evaluation")


@pytest.mark.parametrize("value", ["''", "[a, b]"])
def test_a_run_dir_that_is_no_folder_is_one_line(value):
    with pytest.raises(ConfigError, match=r"^run_dir: expected a folder"):
        load_config([], [f"run_dir={value}"])


def test_the_run_dir_option_moves_a_job_through_the_cli(tmp_path):
    from tests.jobs.test_trust import sumflow

    (tmp_path / "p.jsonl").write_text(json.dumps({"id": "a", "summary": "a cat", "reference": "a cat sat"}) + "\n")
    result = sumflow(["evaluate", "--run-dir", "my run", "--predictions", "p.jsonl", "--prediction-field",
                      "summary", "--reference-field", "reference", "--set", "evaluate.bootstrap_samples=10"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    assert (tmp_path / "my run" / "evaluation" / "report.json").exists()
