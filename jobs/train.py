"""`sumflow train`: train (or resume) the attention seq2seq on a preprocess output.

Exit codes: 0 done (or already complete), 1 training failed, 2 bad usage or config, 3 unusable data,
75 the model directory is locked by another training run.
"""

from __future__ import annotations

import sys

import click

from jobs.options import allow_nonempty_option, config_options, load


@click.command("train")
@config_options
@click.option("--data-dir", default=None, help="A preprocess output (default: train.data_dir).")
@click.option("--model-dir", default=None, help="Where to write the model (default: train.model_dir).")
@click.option("--force", is_flag=True, help="Train again even if this model_dir already holds a finished run.")
@allow_nonempty_option
def command(configs, overrides, data_dir, model_dir, force, allow_nonempty):
    """Train the summarizer; rerun the same command to resume an interrupted run.

    \b
    Examples:
      sumflow train                          # the built-in default (minutes on 2 CPU cores)
      sumflow train -c aeslc --set train.epochs=5
      TF_CONFIG='{...}' sumflow train --set train.strategy=multi_worker   # one of several workers (README)
    """
    config = load(configs, overrides, {"train.data_dir": data_dir, "train.model_dir": model_dir})
    # Decided before TensorFlow loads: a rerun with nothing to do ends at once. Not for one of several workers:
    # each would take the model dir's lock at the same moment; the trainer decides there, the chief under it.
    if not force and config.train.strategy != "multi_worker":
        from contract.train_run import already_trained, nothing_to_do

        if already_trained(config, allow_nonempty=allow_nonempty) is not None:
            click.echo(nothing_to_do(config.train.model_dir), err=True)
            return
    from model import trainer

    trainer.train(config, force=force, allow_nonempty=allow_nonempty,
                  verbose="auto" if sys.stderr.isatty() else 2, log=lambda m: click.echo(m, err=True))
