"""`sumflow preprocess`: raw article/summary pairs -> cleaned, tokenized, sharded TFRecords with a manifest.

Exit codes a scheduler can act on: 0 done (or already complete: nothing to do), 1 the pipeline failed,
2 bad usage or config, 3 input not found, 75 the output directory is locked by another run (retry later).
"""

from __future__ import annotations

import sys

import click

from jobs.options import config_options, load

EXIT_FAILED, EXIT_INPUT, EXIT_LOCKED = 1, 3, 75


@click.command("preprocess", context_settings={"ignore_unknown_options": True})
@config_options
@click.option("--output-dir", "-o", default=None, help="Where to write (default: preprocess.output_dir).")
@click.option("--force", is_flag=True, help="Rerun even if this output is already complete for these inputs.")
@click.argument("beam_args", nargs=-1, type=click.UNPROCESSED)
def command(configs, overrides, output_dir, force, beam_args):
    """Clean, deduplicate, split and tokenize article/summary pairs into TFRecords.

    \b
    With no config it preprocesses the built-in corpus (docstrings of the Python standard library).
    Examples:
      sumflow preprocess                                   # built-in corpus -> runs/default/data
      sumflow preprocess -c aeslc --set source.split_paths.train=my/train.jsonl
      sumflow preprocess -c jsonl --set source.paths=[dump/*.jsonl.gz] -o out/data
      sumflow preprocess -c cnndm -- --runner DataflowRunner --project P --region R \\
          --temp_location gs://BUCKET/tmp --setup_file ./setup.py
    Arguments after `--` go to Beam unchanged (runner options).
    """
    overrides = list(overrides) + ([f"preprocess.output_dir={output_dir}"] if output_dir else [])
    config = load(configs, overrides)
    from pipeline import outputs, preprocess

    try:
        preprocess.run(config, force=force, beam_args=beam_args, log=lambda m: click.echo(m, err=True))
    except FileNotFoundError as e:
        click.echo(f"preprocess: input not found: {e}", err=True)
        sys.exit(EXIT_INPUT)
    except outputs.LockedError as e:
        click.echo(f"preprocess: {e}", err=True)
        sys.exit(EXIT_LOCKED)
