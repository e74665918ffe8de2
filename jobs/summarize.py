"""`sumflow summarize`: a Beam batch-inference job writing a summary for every document of a dump."""

from __future__ import annotations

import sys

import click

from jobs.options import config_options, load


@click.command("summarize", context_settings={"ignore_unknown_options": True})
@config_options
@click.option("--input", "-i", "inputs", multiple=True, help="Documents: files or globs (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "text_dir", "tfrecord"]), default=None,
              help="Input format (default: summarize.format).")
@click.option("--model-dir", default=None, help="An exported model (default: summarize.model_dir).")
@click.option("--output-dir", "-o", default=None, help="Where to write (default: summarize.output_dir).")
@click.argument("beam_args", nargs=-1, type=click.UNPROCESSED)
def command(configs, overrides, inputs, fmt, model_dir, output_dir, beam_args):
    """Summarize documents with an exported model; output: sharded JSONL keyed by id.

    \b
    Output rows: {"id", "summary", "model", "source_tokens", "summary_tokens", "truncated"}.
    Documents longer than the model reads are truncated by default; --set summarize.long_documents=chunk
    summarizes consecutive chunks and joins their summaries, =reject dead-letters them.
    Examples:
      sumflow summarize -i dump/*.jsonl.gz --set summarize.text_field=body
      sumflow summarize -c aeslc -i emails/ --format text_dir -o out/subjects
    Arguments after `--` go to Beam unchanged (runner options).
    """
    overrides = list(overrides)
    if inputs:
        overrides.append("summarize.inputs=[" + ", ".join(repr(i) for i in inputs) + "]")
    for key, value in (("format", fmt), ("model_dir", model_dir), ("output_dir", output_dir)):
        if value:
            overrides.append(f"summarize.{key}={value}")
    config = load(configs, overrides)
    from pipeline import outputs, summarize

    try:
        summarize.run(config, beam_args=beam_args, log=lambda m: click.echo(m, err=True))
    except FileNotFoundError as e:
        click.echo(f"summarize: {e}", err=True)
        sys.exit(3)
    except outputs.LockedError as e:
        click.echo(f"summarize: {e}", err=True)
        sys.exit(75)
