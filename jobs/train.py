"""`sumflow train`: train (or resume) the attention seq2seq on a preprocess output."""

from __future__ import annotations

import sys

import click

from jobs.options import config_options, load


@click.command("train")
@config_options
@click.option("--data-dir", default=None, help="A preprocess output (default: train.data_dir).")
@click.option("--model-dir", default=None, help="Where to write the model (default: train.model_dir).")
@click.option("--force", is_flag=True, help="Train again even if this model_dir already holds a finished run.")
def command(configs, overrides, data_dir, model_dir, force):
    """Train the summarizer; rerun the same command to resume an interrupted run.

    \b
    Examples:
      sumflow train                          # the built-in default (minutes on 2 CPU cores)
      sumflow train -c aeslc --set train.epochs=5
    """
    overrides = list(overrides) + ([f"train.data_dir={data_dir}"] if data_dir else []) + (
        [f"train.model_dir={model_dir}"] if model_dir else [])
    config = load(configs, overrides)
    from model import trainer
    from pipeline.manifest import ManifestError

    try:
        trainer.train(config, force=force, verbose="auto" if sys.stderr.isatty() else 2,
                      log=lambda m: click.echo(m, err=True))
    except ManifestError as e:
        click.echo(f"train: {e}", err=True)
        sys.exit(3)
