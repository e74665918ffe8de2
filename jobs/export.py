"""`sumflow export`: a trained model -> a SavedModel taking raw strings and returning summaries.

The config is the one the model was trained with (`config.yaml` in the model directory, which `sumflow train`
writes): the source length, the decoding settings and the export directory of that run, with any -c files and
--set overrides of this command over it. One line says which config was used. The decoding settings that
`sumflow tune-decoding` chose on validation (MODEL_DIR/decoding.json) go over the config's, except keys given
as --set decode.KEY=... (decode.use_tuned: false ignores them); a second line says where they came from.

Exit codes: 0 done, 2 bad usage or config, 3 no usable trained model, 75 the export directory is locked.
"""

from __future__ import annotations

import click

from jobs.options import allow_nonempty_option, config_options, explicit_keys, load_trained


@click.command("export")
@config_options
@click.option("--model-dir", default=None, help="A trained model (default: train.model_dir).")
@click.option("--export-dir", default=None, help="Where to write the SavedModel (default: summarize.model_dir).")
@allow_nonempty_option
def command(configs, overrides, model_dir, export_dir, allow_nonempty):
    """Export the trained model with its tokenizer and decoder in one TensorFlow graph.

    \b
    The settings come from the config the model was trained with (MODEL_DIR/config.yaml); -c files and the
    overrides go over it, e.g. the decoder:
      sumflow export -c aeslc --set decode.method=beam --set decode.beam_size=4
    """
    config, used = load_trained(configs, overrides, {"train.model_dir": model_dir,
                                                     "summarize.model_dir": export_dir})
    click.echo(f"export: config {used}", err=True)
    from contract.tuned_decoding import applied

    decode_cfg, source = applied(config.train.model_dir, config.decode, explicit=explicit_keys(overrides, "decode"))
    click.echo(f"export: {source}", err=True)
    from model.export import export

    info = export(model_dir=config.train.model_dir, export_dir=config.summarize.model_dir,
                  decode_cfg=decode_cfg, max_source_tokens=config.model.max_source_tokens,
                  allow_nonempty=allow_nonempty)
    click.echo(f"export: {config.summarize.model_dir} (weights {info.fingerprint}, "
               f"{decode_cfg.method} decoding)", err=True)
