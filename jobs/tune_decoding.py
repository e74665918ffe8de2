"""`sumflow tune-decoding`: choose the decoding settings on the validation split, for `sumflow export`.

Every point of decode.tune's grid (beam size, length penalty, min length, n-gram and word blocking) decodes
the first decode.tune.documents validation documents (by id) of the data the model was trained on; the best by
decode.tune.metric F1 is written to MODEL_DIR/decoding.json with every point's figures, and `sumflow export`
applies it. The test split is not read. The config is the training run's (MODEL_DIR/config.yaml) with -c files
and --set overrides over it.

Exit codes: 0 done, 2 bad usage or config, 3 no finished model or no validation data, 75 the model
directory is locked (training is writing it).
"""

from __future__ import annotations

import click

from jobs.options import config_options, load_trained


@click.command("tune-decoding")
@config_options
@click.option("--model-dir", default=None, help="A trained model (default: train.model_dir).")
@click.option("--data-dir", default=None,
              help="The preprocess output whose validation split is scored (default: the training run's).")
def command(configs, overrides, model_dir, data_dir):
    """Score a grid of decoding settings on validation documents; export then uses the best.

    \b
    Examples:
      sumflow tune-decoding -c aeslc
      sumflow tune-decoding --set decode.tune.beam_size=[1,4,8] --set decode.tune.documents=200
    """
    config, used = load_trained(configs, overrides, {"train.model_dir": model_dir, "train.data_dir": data_dir})
    click.echo(f"tune-decoding: config {used}", err=True)
    from model.decoding_search import tune

    tune(config, log=lambda m: click.echo(m, err=True))
