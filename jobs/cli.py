"""`sumflow`: one CLI, one subcommand per job. Each job module defines its click command; this file lists them."""

from __future__ import annotations

import logging
import os

import click

# Set before TF or Beam load (their workers inherit the environment): TF's C++ INFO lines and Beam's INFO
# logs would bury the jobs' own messages. Beam installs a root handler on import, hence force=True.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", force=True)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sumflow")
def main():
    """sumflow: turn piles of documents into summaries on a schedule.

    \b
    Typical flow (each step reads what the previous one wrote):
      sumflow preprocess -c aeslc        # raw pairs -> cleaned, tokenized TFRecords + manifest
      sumflow train -c aeslc             # TFRecords -> trained attention seq2seq
      sumflow export -c aeslc            # model -> SavedModel taking raw strings
      sumflow summarize -c aeslc ...     # documents -> summaries (Beam batch inference)
      sumflow evaluate ...               # summaries + references -> ROUGE report
    Every command takes -c CONFIG (repeatable, layered) and --set section.key=value overrides.
    """


# Job modules, each defining `command` (a click command). Their heavy imports (TF, Beam) happen inside the
# command, so `sumflow --help` stays fast.
JOB_MODULES = ("doctor", "preprocess", "train", "export", "summarize", "evaluate")


def _register():
    import importlib

    for name in JOB_MODULES:
        main.add_command(importlib.import_module(f"jobs.{name}").command)


_register()


if __name__ == "__main__":
    main()
