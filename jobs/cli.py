"""`sumflow`: one CLI, one subcommand per job. Each job module defines its click command; this file lists them."""

from __future__ import annotations

import logging
import os
import re
import signal
import sys
import threading
import time

import click

from workspace import allocator

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
    """Every failure ends in one line on stderr with the README's exit code: 2 usage or config (an OS error on
    the output: a full disk, a directory sumflow may not write), 3 input, 75 locked, 130/143 interrupted or
    terminated, 1 anything else. The traceback only with --debug (or SUMFLOW_DEBUG=1)."""

    def main(self, args=None, **kwargs):
        from_command_line = args is None  # not called from Python (click's test runner, a script)
        args = list(sys.argv[1:] if args is None else args)
        ours = args[:args.index("--")] if "--" in args else args  # after `--`: the Beam runner's arguments
        verbose = any(a in VERBOSE_FLAGS for a in ours)  # -v anywhere before `--`, before or after the job
        args = [a for a in ours if a not in VERBOSE_FLAGS] + args[len(ours):]
        debug = "--debug" in args[:1] or os.environ.get(DEBUG_ENV, "") not in ("", "0")
        job = next((a for a in args if a in self.commands), "")
        _stop_state["job"] = job
        if from_command_line:  # the process is sumflow's: its descriptor 2, environment and signals are ours
            allocator.preload_for(job)  # first: it may restart the process (train under tcmalloc)
            _setup_output(verbose or debug)
            for number in _STOPPING:
                signal.signal(number, _stop)
        if not debug:
            # Beam logs a failing bundle's traceback at ERROR before raising it; the failure itself reaches
            # the user below, as one line.
            logging.getLogger("apache_beam").setLevel(logging.CRITICAL)
        try:
            code = super().main(args, standalone_mode=False, **kwargs)
        except click.exceptions.NoArgsIsHelpError as e:  # bare `sumflow`: the help, as click shows it
            e.show()
            sys.exit(e.exit_code)
        except click.UsageError as e:
            hint = f" (see 'sumflow {job} --help')" if job else " (see 'sumflow --help')"
            _fail(job, e.format_message().replace("\n", " ") + hint, 2)
        except (_Stopped, click.Abort) as e:
            _stopped(job, e.signal if isinstance(e, _Stopped) else signal.SIGINT, whole_process=from_command_line)
        except click.ClickException as e:
            _fail(job, e.format_message(), e.exit_code)
        except Exception as e:  # noqa: BLE001  (the one place every error is turned into one line)
            if _stop_state["signal"] is not None:  # raised on the way out of a stopped run (a cut-off worker)
                _stopped(job, _stop_state["signal"], whole_process=from_command_line)
            if debug:
                raise
            _fail(job, *_explain(e))
        sys.exit(code if isinstance(code, int) else 0)


# Ctrl-C and a scheduler's stop: one line, the run's staging folder and Beam's temporary folders removed (on the
# way out: workspace/outputs.py `staged`, pipeline/runner.py), exit 128 + the signal's number. The stop does not
# depend on the way out: Beam's own cleanup (`finally` blocks that join its worker threads) waits on workers that
# are still running, so the workers are ended first, and a watchdog ends the run if the way out still stalls.
_STOPPING = {signal.SIGINT: "interrupted", signal.SIGTERM: "terminated"}
_STOP_WATCHDOG_SECONDS = 20.0
_stop_state: dict = {"job": "", "signal": None}
_ending = threading.Lock()


class _Stopped(BaseException):
    """Raised in the main thread by the first SIGINT or SIGTERM; a BaseException, so no `except Exception` on
    the way (Beam's, TensorFlow's, ours) mistakes it for a failure to report."""

    def __init__(self, number: int):
        super().__init__(_STOPPING[number])
        self.signal = number


def _stop(number, frame) -> None:
    for other in _STOPPING:  # a second Ctrl-C must not cut the cleanup short
        signal.signal(other, signal.SIG_IGN)
    _stop_state["signal"] = number
    if "workspace.terminal" in sys.modules:
        from workspace.terminal import silence

        silence()  # the workers' last words (their own KeyboardInterrupt, cancelled calls) are noise now
    from workspace.processes import end_descendants

    end_descendants()  # before unwinding: Beam's cleanup on the way out joins threads that wait on them
    threading.Thread(target=_watchdog, args=(number,), name="sumflow-stop", daemon=True).start()
    raise _Stopped(number)


def _watchdog(number: int) -> None:
    """Ends a stopped run whose way out stalls: its staging folders removed here, then the same line and code."""
    time.sleep(_STOP_WATCHDOG_SECONDS)
    if "workspace.outputs" in sys.modules:
        sys.modules["workspace.outputs"].remove_open_staging()
    _stopped(_stop_state["job"], number, whole_process=True)


def _stopped(job: str, number: int, *, whole_process: bool) -> None:
    """The stop's one line; the process (when it is sumflow's) ends now, with the workers it started: the
    interpreter's exit would wait on threads of a pipeline that was cut short (Beam's worker handlers)."""
    if not _ending.acquire(blocking=False):  # the watchdog and the way out both got here: the first ends it
        while True:
            time.sleep(60)
    if "pipeline.runner" in sys.modules:  # Beam was loaded: its temporary folders of pipelines not run
        sys.modules["pipeline.runner"].remove_temp_dirs()
    if not whole_process:
        _ending.release()
        _fail(job, _STOPPING[number], 128 + number)
    from workspace.processes import end_descendants

    click.echo(f"sumflow {job}: {_STOPPING[number]}" if job else f"sumflow: {_STOPPING[number]}", err=True)
    end_descendants()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(128 + number)


def _explain(error: Exception) -> tuple[str, int]:
    """(one line, exit code) for an exception that reached the CLI."""
    from workspace.errors import SumflowError, from_text, os_error, without_stage

    if not isinstance(error, SumflowError):
        # ours, or an OS error (a full disk), raised in a Beam worker and wrapped by the runner
        error = from_text(str(error)) or os_error(error) or error
    if isinstance(error, SumflowError):
        return without_stage(str(error)), error.exit_code
    kind, _, message = _last_error_line(error).partition(": ")  # the message cut to 300 characters, not the type
    return (f"failed: {kind}: {message[:300]} (rerun with --debug, or {DEBUG_ENV}=1, for the "
            f"traceback)", 1)


def _last_error_line(error: Exception) -> str:
    """"Type: message" of the error; for a runner's error that wraps a worker's traceback, the traceback's own
    last error line (the runner's first line is "Traceback (most recent call last):")."""
    lines = [line.strip() for line in str(error).replace("\\n", "\n").splitlines()]
    final = [line for line in lines if re.match(r"[A-Za-z_][\w.]*(Error|Exception|Exit|Interrupt)\b", line)]
    return final[-1] if final else f"{type(error).__name__}: {(lines or [''])[0]}"


def _fail(job: str, message: str, code: int) -> None:
    if _stop_state["signal"] is not None:  # a failure on the way out of a stopped run is the stop's
        _stopped(job, _stop_state["signal"], whole_process=True)  # (set only where the process is sumflow's)
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
      sumflow tune-decoding -c aeslc     # decoding settings chosen on the validation split
      sumflow export -c aeslc            # model -> SavedModel taking raw strings
      sumflow summarize -c aeslc ...     # documents -> summaries (Beam batch inference)
      sumflow evaluate ...               # summaries + references -> ROUGE report
    Every command takes -c CONFIG (repeatable, layered) and --set section.key=value overrides.
    """


# Job modules, each defining `command` (a click command). Their heavy imports (TF, Beam) happen inside the
# command, so `sumflow --help` stays fast.
JOB_MODULES = ("doctor", "preprocess", "train", "tune_decoding", "export", "summarize", "evaluate")


def _register():
    import importlib

    for name in JOB_MODULES:
        main.add_command(importlib.import_module(f"jobs.{name}").command)


_register()


if __name__ == "__main__":
    main()
