"""`sumflow export`: a trained model -> a SavedModel taking raw strings and returning summaries.

Exit codes: 0 done, 2 bad usage or config, 3 no usable trained model, 75 the export directory is locked.
"""

from __future__ import annotations

import click

from jobs.options import allow_nonempty_option, config_options, load


@click.command("export")
@config_options
@click.option("--model-dir", default=None, help="A trained model (default: train.model_dir).")
@click.option("--export-dir", default=None, help="Where to write the SavedModel (default: summarize.model_dir).")
@allow_nonempty_option
def command(configs, overrides, model_dir, export_dir, allow_nonempty):
    """Export the trained model with its tokenizer and decoder in one TensorFlow graph.

    \b
    The decoder settings come from the `decode` config section, e.g.
      sumflow export -c aeslc --set decode.method=beam --set decode.beam_size=4
    """
    config = load(configs, overrides, {"train.model_dir": model_dir, "summarize.model_dir": export_dir})
    from model.export import export

    info = export(model_dir=config.train.model_dir, export_dir=config.summarize.model_dir,
                  decode_cfg=config.decode, max_source_tokens=config.model.max_source_tokens,
                  allow_nonempty=allow_nonempty)
    click.echo(f"export: {config.summarize.model_dir} (weights {info.fingerprint}, "
               f"{config.decode.method} decoding)", err=True)
