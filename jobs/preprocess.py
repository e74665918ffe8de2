"""`sumflow preprocess`: raw article/summary pairs -> cleaned, tokenized, sharded TFRecords with a manifest.

Exit codes a scheduler can act on: 0 done (or already complete: nothing to do), 1 the pipeline failed,
2 bad usage or config, 3 unusable input (not found, truncated, empty), 75 the output directory is locked by
another run (retry later). Errors are one line on stderr (jobs/cli.py).
"""

from __future__ import annotations

import click

from jobs.options import BeamCommand, allow_nonempty_option, config_options, load


@click.command("preprocess", cls=BeamCommand)
@config_options
@click.option("--input", "-i", "inputs", multiple=True,
              help="Input files or globs (repeatable; default: source.paths).")
@click.option("--output-dir", "-o", default=None, help="Where to write (default: preprocess.output_dir).")
@click.option("--force", is_flag=True, help="Rerun even if this output is already complete for these inputs.")
@click.option("--append", is_flag=True,
              help="Add the records of new input files to the dataset in the output directory (its next "
                   "generation), deduplicated against it and tokenized with its vocabulary; when that cannot be "
                   "done (a changed input or setting, ...) the dataset is built whole, and the job says why.")
@allow_nonempty_option
def command(configs, overrides, inputs, output_dir, force, append, allow_nonempty, beam_args):
    """Clean, deduplicate, split and tokenize article/summary pairs into TFRecords.

    \b
    With no config it preprocesses the built-in corpus (docstrings of the Python standard library).
    Examples:
      sumflow preprocess                                   # built-in corpus -> runs/default/data
      sumflow preprocess -c aeslc --set source.split_paths.train=my/train.jsonl
      sumflow preprocess -c jsonl -i 'dump/*.jsonl.gz' -o out/data
      sumflow preprocess -c jsonl -i 'dump/*.jsonl.gz' -o out/data --append   # nightly: new files only
      sumflow preprocess -c cnndm -- --runner DataflowRunner --project P --region R \\
          --temp_location gs://BUCKET/tmp --setup_file ./setup.py
    Arguments after `--` go to Beam unchanged (runner options).
    """
    config = load(configs, overrides, {"preprocess.output_dir": output_dir, "source.paths": inputs})
    from pipeline import completion

    # The run's identity (inputs matched once, fingerprint), decided before Beam loads: a rerun with nothing to
    # do ends at once; otherwise the job reads exactly the files it lists.
    identity, done = completion.check_preprocess(config, allow_nonempty=allow_nonempty, force=force)
    if done is not None:
        click.echo(completion.nothing_to_do(identity), err=True)
        return
    from pipeline import preprocess

    preprocess.run(config, force=force, allow_nonempty=allow_nonempty, beam_args=beam_args, identity=identity,
                   append=append, log=lambda m: click.echo(m, err=True))
