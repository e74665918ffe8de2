"""`sumflow`: one CLI, one subcommand per job. Each job module defines its click command; this file lists them."""

from __future__ import annotations

import logging
import os
import sys

import click

DEBUG_ENV = "SUMFLOW_DEBUG"
VERBOSE_ENV = "SUMFLOW_VERBOSE"  # set by -v; read by the local Beam runner (its workers' log level)
VERBOSE_FLAGS = ("-v", "--verbose")


def _setup_output(verbose: bool) -> None:
    """Before TF or Beam load (their workers inherit the environment and descriptor 2): by default the
    terminal gets sumflow's own lines and real problems only (workspace/terminal.py); -v shows everything."""
    if verbose:
        os.environ[VERBOSE_ENV] = "1"
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "0")
        logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s", force=True)
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Beam installs a root handler on import, hence force=True.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s", force=True)
    from workspace.terminal import quiet_dependencies

    quiet_dependencies()


class _Jobs(click.Group):
    """Every failure ends in one line on stderr with the README's exit code: 2 usage or config, 3 input,
    75 locked, 1 anything else. The traceback only with --debug (or SUMFLOW_DEBUG=1)."""

    def main(self, args=None, **kwargs):
        from_command_line = args is None  # not called from Python (click's test runner, a script)
        args = list(sys.argv[1:] if args is None else args)
        ours = args[:args.index("--")] if "--" in args else args  # after `--`: the Beam runner's arguments
        verbose = any(a in VERBOSE_FLAGS for a in ours)  # -v anywhere before `--`, before or after the job
        args = [a for a in ours if a not in VERBOSE_FLAGS] + args[len(ours):]
        debug = "--debug" in args[:1] or os.environ.get(DEBUG_ENV, "") not in ("", "0")
        if from_command_line:  # the process is sumflow's: its descriptor 2 and environment are ours to set
            _setup_output(verbose or debug)
        if not debug:
            # Beam logs a failing bundle's traceback at ERROR before raising it; the failure itself reaches
            # the user below, as one line.
            logging.getLogger("apache_beam").setLevel(logging.CRITICAL)
        job = next((a for a in args if a in self.commands), "")
        try:
            code = super().main(args, standalone_mode=False, **kwargs)
        except click.exceptions.NoArgsIsHelpError as e:  # bare `sumflow`: the help, as click shows it
            e.show()
            sys.exit(e.exit_code)
        except click.UsageError as e:
            hint = f" (see 'sumflow {job} --help')" if job else " (see 'sumflow --help')"
            _fail(job, e.format_message().replace("\n", " ") + hint, 2)
        except click.Abort:
            _fail(job, "interrupted", 130)
        except click.ClickException as e:
            _fail(job, e.format_message(), e.exit_code)
        except Exception as e:  # noqa: BLE001  (the one place every error is turned into one line)
            if debug:
                raise
            _fail(job, *_explain(e))
        sys.exit(code if isinstance(code, int) else 0)


def _explain(error: Exception) -> tuple[str, int]:
    """(one line, exit code) for an exception that reached the CLI."""
    from workspace.errors import SumflowError, from_text, without_stage

    if not isinstance(error, SumflowError):
        error = from_text(str(error)) or error  # ours, raised in a Beam worker and wrapped by the runner
    if isinstance(error, SumflowError):
        return without_stage(str(error)), error.exit_code
    first = (str(error).strip().splitlines() or [""])[0][:300]
    return (f"failed: {type(error).__name__}: {first} (rerun with --debug, or {DEBUG_ENV}=1, for the "
            f"traceback)", 1)


def _fail(job: str, message: str, code: int) -> None:
    click.echo(f"sumflow {job}: {message}" if job else f"sumflow: {message}", err=True)
    sys.exit(code)


@click.group(cls=_Jobs, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="sumflow")
@click.option("--debug", is_flag=True, help=f"Show the traceback of a failure (or set {DEBUG_ENV}=1).")
@click.option("-v", "--verbose", is_flag=True,
              help="Show every log line of the dependencies too (TensorFlow, Beam workers); also after the job.")
def main(debug, verbose):
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
