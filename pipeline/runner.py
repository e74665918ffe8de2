"""Beam pipeline construction shared by the jobs: the runner and its options.

`DirectRunner` here means Beam's local FnApiRunner, named explicitly: Beam 2.77's DirectRunner first tries
to download the Prism runner binary (`urlopen` with no timeout), which hangs or fails offline, and
the FnApi path is also faster. It runs in multi-process mode with one worker per core by default. Any other
runner (DataflowRunner, FlinkRunner, SparkRunner, PortableRunner) gets the pass-through Beam arguments as
they are, e.g. `-- --runner DataflowRunner --project P --region R --temp_location gs://b/tmp
--setup_file ./setup.py`. `--runner dask` (or `DaskRunner`, or Beam's class path) selects our Dask runner
(pipeline/dask_runner.py: Beam's, with what loses data fixed) on the cluster at `--dask_client_address`, or on a
LocalCluster started for the job when none is given.
"""

from __future__ import annotations

import atexit
import os
import shutil
from typing import Sequence

import apache_beam as beam
from apache_beam.options.pipeline_options import (DirectOptions, PipelineOptions, WorkerOptions,
                                                  StandardOptions)

from configs.schema import BeamConfig
from workspace.errors import UsageError

DASK_NAMES = ("dask", "DaskRunner", "apache_beam.runners.dask.dask_runner.DaskRunner",
              "pipeline.dask_runner.DaskRunner")


def pipeline_options(cfg: BeamConfig, beam_args: Sequence[str] = ()) -> PipelineOptions:
    options = PipelineOptions(list(beam_args))
    standard = options.view_as(StandardOptions)
    if not standard.runner:
        standard.runner = cfg.runner
    if standard.runner in ("DirectRunner", "FnApiRunner"):
        direct = options.view_as(DirectOptions)
        given = " ".join(beam_args)
        if "--direct_running_mode" not in given:
            direct.direct_running_mode = cfg.direct_running_mode
        if "--direct_num_workers" not in given:  # Beam's own default is 1 worker, not one per core
            direct.direct_num_workers = cfg.direct_num_workers or os.cpu_count() or 1
        harness = options.view_as(WorkerOptions)
        if "--default_sdk_harness_log_level" not in given:
            # Local workers would print INFO lines, and a failing bundle's traceback, among the job's own lines;
            # a failure reaches the launching process anyway, which reports it in one line (the whole
            # traceback with `sumflow --debug`). `sumflow -v` shows them.
            verbose = os.environ.get("SUMFLOW_VERBOSE", "") not in ("", "0")  # `sumflow -v`
            harness.default_sdk_harness_log_level = "INFO" if verbose else "CRITICAL"
    return options


_TEMP_DIRS: list[str] = []  # Beam's local temporary folder of every pipeline made here


def make_pipeline(options: PipelineOptions) -> beam.Pipeline:
    pipeline = _make_pipeline(options)
    _TEMP_DIRS.append(pipeline.local_tempdir)
    return pipeline


def remove_temp_dirs() -> None:
    """Remove the `beam-pipeline-temp*` folders of this process's pipelines that are left: Beam removes one when
    its pipeline has run, not when building it failed or the job was stopped first (also at exit)."""
    while _TEMP_DIRS:
        shutil.rmtree(_TEMP_DIRS.pop(), ignore_errors=True)


atexit.register(remove_temp_dirs)


def _make_pipeline(options: PipelineOptions) -> beam.Pipeline:
    runner = options.view_as(StandardOptions).runner
    if runner in ("DirectRunner", "FnApiRunner"):
        from apache_beam.portability.api import beam_provision_api_pb2
        from apache_beam.runners.portability.fn_api_runner import fn_runner
        from apache_beam.runners.portability.portable_runner import JobServiceHandle

        # The options reach the SDK workers only through the provision info (as Beam's DirectRunner does it):
        # without it the workers run with none, at INFO log level.
        encoded = JobServiceHandle.encode_pipeline_options(options.get_all_options(drop_default=True))
        provision = fn_runner.ExtendedProvisionInfo(beam_provision_api_pb2.ProvisionInfo(pipeline_options=encoded))
        return beam.Pipeline(runner=fn_runner.FnApiRunner(provision_info=provision), options=options)
    if runner in DASK_NAMES:
        try:
            from pipeline.dask_runner import DaskRunner
        except ImportError as e:
            raise UsageError(f"the Dask runner needs the dask extra ({e.name} is missing): "
                             f"pip install 'sumflow[dask]'") from e
        return beam.Pipeline(runner=DaskRunner(), options=options)
    return beam.Pipeline(options=options)
