"""`sumflow summarize`: a Beam batch-inference job writing a summary for every document of a dump.

Exit codes: 0 done (or already complete: nothing to do), 1 the pipeline failed, 2 bad usage or config (an
empty --text or stdin, --format text_dir given a file), 3 unusable input or model (no document summarized,
the model changed during the run), 75 the output directory is locked by another run, or the model directory
by `sumflow export`.
"""

from __future__ import annotations

import re

import click

from jobs.options import BeamCommand, allow_nonempty_option, config_options, load


@click.command("summarize", cls=BeamCommand)
@config_options
@click.option("--input", "-i", "inputs", multiple=True,
              help="Documents: files or globs (repeatable); '-' reads plain-text documents from stdin (one per "
                   "line, or separated by blank lines) and prints their summaries.")
@click.option("--text", "texts", multiple=True, metavar="TEXT",
              help="Summarize this text and print the summary (repeatable); no output directory, no Beam job.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "text_dir", "tfrecord"]), default=None,
              help="Input format (default: summarize.format).")
@click.option("--model-dir", default=None, help="An exported model (default: summarize.model_dir).")
@click.option("--output-dir", "-o", default=None, help="Where to write (default: summarize.output_dir).")
@click.option("--force", is_flag=True, help="Rerun even if this output is already complete for these documents, "
                                            "model and config.")
@allow_nonempty_option
def command(configs, overrides, inputs, fmt, model_dir, output_dir, force, allow_nonempty, beam_args, texts):
    """Summarize documents with an exported model; output: sharded JSONL keyed by id.

    \b
    Output rows: {"id", "summary", "model", "source_tokens", "summary_tokens", "truncated"}.
    Documents longer than the model reads are truncated by default; --set summarize.long_documents=chunk
    summarizes consecutive chunks and joins their summaries, =reject dead-letters them.
    A document id seen twice is dead-lettered as duplicate_id (--set summarize.duplicate_ids=keep keeps both);
    ids keep their JSON type (1 and "1" differ), a document without one gets its position ("file.jsonl:17").
    A run that summarizes nothing fails (exit 3) with the most common drop reason and its fix.
    Examples:
      sumflow summarize --model-dir runs/default/export --text "A long text ..."
      cat notes.txt | sumflow summarize --model-dir runs/default/export -i -
      sumflow summarize -i dump/*.jsonl.gz --set summarize.text_field=body
      sumflow summarize -c aeslc -i emails/ --format text_dir -o out/subjects
    Arguments after `--` go to Beam unchanged (runner options).
    """
    if texts or inputs == ("-",):
        if any(not t.strip() for t in texts):
            raise click.UsageError("--text is empty; give the text to summarize")
        config = load(configs, overrides, {"summarize.model_dir": model_dir})
        documents = list(texts) if texts else split_documents(click.get_text_stream("stdin").read())
        if not documents:
            raise click.UsageError("-i - read no text from stdin; pipe the documents in (one a line, or blocks "
                                   "separated by blank lines)")
        _print_summaries(config, documents)
        return
    if "-" in inputs:
        raise click.UsageError("-i - (stdin) cannot be combined with other inputs")
    config = load(configs, overrides, {"summarize.inputs": inputs, "summarize.format": fmt,
                                       "summarize.model_dir": model_dir, "summarize.output_dir": output_dir})
    from pipeline import completion

    # The run's identity (documents matched once, model pinned, fingerprint), decided before Beam and TensorFlow
    # load: a rerun with nothing to do ends at once; otherwise the job reads exactly the files it lists.
    identity, done = completion.check_summarize(config, allow_nonempty=allow_nonempty, force=force)
    if done is not None:
        click.echo(completion.nothing_to_do(identity), err=True)
        return
    from pipeline import summarize

    summarize.run(config, force=force, allow_nonempty=allow_nonempty, beam_args=beam_args, identity=identity,
                  log=lambda m: click.echo(m, err=True))


def split_documents(stdin: str) -> list[str]:
    """Plain-text documents from stdin: separated by blank lines where there are any, else one per line."""
    text = stdin.replace("\r\n", "\n")
    blocks = re.split(r"\n\s*\n", text) if re.search(r"\n\s*\n", text.strip()) else text.split("\n")
    return [block.strip() for block in blocks if block.strip()]


def _print_summaries(config, documents: list[str]) -> None:
    """Summaries to stdout, one line each, in input order (a document empty after cleaning prints an empty
    line)."""
    from contract.exported_model import ExportedModel
    from contract.text import join_sentences

    model = ExportedModel.load(config.summarize.model_dir)
    for summary in model.summarize(documents, clean=config.clean, batch_size=config.summarize.batch_size):
        click.echo(join_sentences(summary.split("\n")))
