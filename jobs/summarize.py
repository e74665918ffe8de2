"""`sumflow summarize`: a Beam batch-inference job writing a summary for every document of a dump.

Exit codes: 0 done, 1 the pipeline failed, 2 bad usage or config, 3 unusable input or model, 75 locked.
"""

from __future__ import annotations

import click

from jobs.options import BeamCommand, allow_nonempty_option, config_options, load


@click.command("summarize", cls=BeamCommand)
@config_options
@click.option("--input", "-i", "inputs", multiple=True, help="Documents: files or globs (repeatable).")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "text_dir", "tfrecord"]), default=None,
              help="Input format (default: summarize.format).")
@click.option("--model-dir", default=None, help="An exported model (default: summarize.model_dir).")
@click.option("--output-dir", "-o", default=None, help="Where to write (default: summarize.output_dir).")
@allow_nonempty_option
def command(configs, overrides, inputs, fmt, model_dir, output_dir, allow_nonempty, beam_args):
    """Summarize documents with an exported model; output: sharded JSONL keyed by id.

    \b
    Output rows: {"id", "summary", "model", "source_tokens", "summary_tokens", "truncated"}.
    Documents longer than the model reads are truncated by default; --set summarize.long_documents=chunk
    summarizes consecutive chunks and joins their summaries, =reject dead-letters them.
    A document id seen twice is dead-lettered as duplicate_id (--set summarize.duplicate_ids=keep keeps both).
    Examples:
      sumflow summarize -i dump/*.jsonl.gz --set summarize.text_field=body
      sumflow summarize -c aeslc -i emails/ --format text_dir -o out/subjects
    Arguments after `--` go to Beam unchanged (runner options).
    """
    config = load(configs, overrides, {"summarize.inputs": inputs, "summarize.format": fmt,
                                       "summarize.model_dir": model_dir, "summarize.output_dir": output_dir})
    from pipeline import summarize

    summarize.run(config, allow_nonempty=allow_nonempty, beam_args=beam_args,
                  log=lambda m: click.echo(m, err=True))
