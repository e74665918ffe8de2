"""pipeline/dask_runner.py: each fix to Beam's Dask runner, shown by a pipeline whose output Beam's runner gets
wrong (or fails on) and ours gets right, on a LocalCluster of two worker processes."""

import glob
import socket
import json
import os
import uuid

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.dask import dask_runner as beam_dask

from pipeline.dask_runner import DaskRunner

RUNNERS = {"beam": beam_dask.DaskRunner, "ours": DaskRunner}


@pytest.fixture(scope="module")
def address():
    from dask import distributed

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


class _Record(beam.DoFn):
    """Writes each element as JSON to a file of its own in `folder` (a sink that needs no runner support)."""

    def __init__(self, folder):
        self._folder = str(folder)

    def process(self, element):
        with open(os.path.join(self._folder, uuid.uuid4().hex), "w") as f:
            json.dump(element, f)


def recorded(folder) -> list:
    return sorted(json.load(open(p)) for p in glob.glob(os.path.join(str(folder), "*")))


def outcome(runner: str, address: str, build, *beam_args: str):
    """Runs `build(pipeline)` on the named runner; the exception's type name if it fails."""
    options = PipelineOptions(["--dask_client_address", address, *beam_args])
    try:
        with beam.Pipeline(runner=RUNNERS[runner](), options=options) as p:
            build(p)
    except Exception as e:
        return type(e).__name__
    return None


def folder(tmp_path, name):
    path = tmp_path / name
    path.mkdir()
    return path


@pytest.mark.parametrize("runner", RUNNERS)
def test_outputs_emitted_in_finish_bundle_are_kept(runner, address, tmp_path):
    out = folder(tmp_path, "out")
    outcome(runner, address, lambda p: (p | beam.Create(range(10)) | beam.BatchElements(4, 4)
                                        | beam.FlatMap(lambda batch: batch) | beam.ParDo(_Record(out))))
    assert (recorded(out) == list(range(10))) is (runner == "ours")  # Beam's runner loses the tail batch


class _EvenOdd(beam.DoFn):
    def process(self, n):
        yield n if n % 2 == 0 else beam.pvalue.TaggedOutput("odd", n)


@pytest.mark.parametrize("runner", RUNNERS)
def test_tagged_outputs_stay_apart(runner, address, tmp_path):
    out = folder(tmp_path, "even")
    outcome(runner, address, lambda p: (p | beam.Create(range(6)) | beam.ParDo(_EvenOdd()).with_outputs(
        "odd", main="even"))["even"] | beam.ParDo(_Record(out)))
    assert (recorded(out) == [0, 2, 4]) is (runner == "ours")  # Beam's: the odd numbers too


@pytest.mark.parametrize("runner", RUNNERS)
def test_every_sink_runs(runner, address, tmp_path):
    first, second = folder(tmp_path, "first"), folder(tmp_path, "second")

    def build(p):
        numbers = p | beam.Create([1, 2, 3])
        numbers | "First" >> beam.ParDo(_Record(first))
        numbers | "Double" >> beam.Map(lambda n: 2 * n) | "Second" >> beam.ParDo(_Record(second))

    outcome(runner, address, build)
    assert (recorded(first) == [1, 2, 3] and recorded(second) == [2, 4, 6]) is (runner == "ours")


def _count_call(_, calls):
    _Record(calls).process("computed")
    return "side"


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_side_input_is_computed_once(runner, address, tmp_path):
    out, calls = folder(tmp_path, "out"), folder(tmp_path, "calls")

    def build(p):
        side = p | "Side" >> beam.Create([0]) | "Compute" >> beam.Map(_count_call, str(calls))
        (p | "Main" >> beam.Create(range(6)) | beam.Map(lambda n, s: [n, s], beam.pvalue.AsSingleton(side))
         | beam.ParDo(_Record(out)))

    outcome(runner, address, build, "--dask_npartitions=3")  # three bundles read the side input
    assert recorded(out) == [[n, "side"] for n in range(6)]
    assert (len(recorded(calls)) == 1) is (runner == "ours")  # Beam's: once per bundle


@pytest.mark.parametrize("runner", RUNNERS)
def test_group_by_key_then_write_to_text_writes_every_group(runner, address, tmp_path):
    def build(p):
        (p | beam.Create([("a", 1), ("b", 2), ("a", 3), ("c", 4)]) | beam.GroupByKey()
         | beam.MapTuple(lambda k, vs: f"{k}={sorted(vs)}x{len(vs)}") | beam.io.WriteToText(str(tmp_path / "out")))

    outcome(runner, address, build)
    lines = sorted(line for path in glob.glob(str(tmp_path / "out*")) for line in open(path).read().splitlines())
    assert (lines == ["a=[1, 3]x2", "b=[2]x1", "c=[4]x1"]) is (runner == "ours")  # Beam's: an empty file


@pytest.mark.parametrize("runner", RUNNERS)
def test_group_into_batches_a_stateful_dofn_runs(runner, address, tmp_path):
    out = folder(tmp_path, "out")
    error = outcome(runner, address, lambda p: (
        p | beam.Create([("a", n) for n in range(5)] + [("b", 9)]) | beam.GroupIntoBatches(2)
        | beam.MapTuple(lambda k, batch: [k, len(list(batch)), sorted(batch)]) | beam.ParDo(_Record(out))))
    batches = recorded(out)
    if runner == "beam":
        assert error is not None
        return
    assert error is None
    assert sorted(n for k, size, batch in batches if k == "a" for n in batch) == list(range(5))
    assert [batch for k, _, batch in batches if k == "b"] == [[9]]
    assert all(size <= 2 for _, size, _ in batches)


@pytest.mark.parametrize("runner", RUNNERS)
def test_read_from_text_reads_the_file(runner, address, tmp_path):
    (tmp_path / "in.txt").write_text("one\ntwo\nthree\n")
    out = folder(tmp_path, "out")
    outcome(runner, address, lambda p: p | beam.io.ReadFromText(str(tmp_path / "in.txt")) | beam.ParDo(_Record(out)))
    assert (recorded(out) == ["one", "three", "two"]) is (runner == "ours")  # Beam's: Read is a no-op


class _Lifecycle(beam.DoFn):
    def __init__(self, calls):
        self._calls = str(calls)

    def setup(self):
        _Record(self._calls).process("setup")

    def process(self, n):
        yield n

    def teardown(self):
        _Record(self._calls).process("teardown")


@pytest.mark.parametrize("runner", RUNNERS)
def test_a_dofn_is_set_up_once_per_worker_thread_and_torn_down(runner, address, tmp_path):
    calls, out = folder(tmp_path, "calls"), folder(tmp_path, "out")
    outcome(runner, address, lambda p: (p | beam.Create(range(40)) | beam.ParDo(_Lifecycle(calls))
                                        | beam.ParDo(_Record(out))), "--dask_npartitions=20")
    assert recorded(out) == list(range(40))
    setups = recorded(calls).count("setup")
    # two workers of one thread each; Beam's runner sets up (and tears down) the DoFn for every bundle
    assert (setups <= 2 and recorded(calls).count("teardown") == setups) is (runner == "ours")


def test_a_primitive_it_cannot_run_fails_with_its_name(address):
    """Beam's runner treats any primitive it does not know as a no-op."""
    from apache_beam.testing.test_stream import TestStream

    options = PipelineOptions(["--dask_client_address", address])
    with pytest.raises(NotImplementedError, match=r"cannot run TestStream \(Stream\)"):
        with beam.Pipeline(runner=DaskRunner(), options=options) as p:
            p | "Stream" >> TestStream().add_elements([1])


def test_without_an_address_it_runs_on_a_local_cluster_that_it_closes(tmp_path):
    import time

    import psutil

    def children():  # but multiprocessing's resource tracker, started once and kept for the process's life
        return {c.pid for c in psutil.Process().children(recursive=True)
                if c.is_running() and c.status() != psutil.STATUS_ZOMBIE
                and "resource_tracker" not in " ".join(c.cmdline())}

    before = children()
    out = folder(tmp_path, "out")
    with beam.Pipeline(runner=DaskRunner(), options=PipelineOptions([])) as p:
        p | beam.Create([1, 2, 3]) | beam.ParDo(_Record(out))
    assert recorded(out) == [1, 2, 3]
    for _ in range(50):  # worker processes exit shortly after the cluster closes
        if children() <= before:
            break
        time.sleep(0.2)
    assert children() <= before


class _Counted(beam.DoFn):
    def __init__(self):
        self._seen = beam.metrics.Metrics.counter("test", "seen")
        self._sizes = beam.metrics.Metrics.distribution("test", "size")

    def process(self, n):
        self._seen.inc()
        self._sizes.update(n)
        yield n


@pytest.mark.parametrize("runner", RUNNERS)
def test_the_result_has_the_beam_metrics(runner, address):
    from apache_beam.metrics.metric import MetricsFilter

    options = PipelineOptions(["--dask_client_address", address, "--dask_npartitions=4"])
    p = beam.Pipeline(runner=RUNNERS[runner](), options=options)
    p | beam.Create(range(1, 11)) | "Count" >> beam.ParDo(_Counted())
    result = p.run()
    result.wait_until_finish()
    try:
        found = result.metrics().query(MetricsFilter().with_namespace("test"))
    except NotImplementedError:  # Beam's runner
        assert runner == "beam"
        return
    assert [(c.key.step, c.key.metric.name, c.committed) for c in found["counters"]] == [("Count", "seen", 10)]
    [sizes] = found["distributions"]
    assert (sizes.committed.count, sizes.committed.sum, sizes.committed.min, sizes.committed.max) == (10, 55, 1, 10)


def test_an_unreachable_scheduler_is_one_line_naming_the_address():
    from workspace.errors import UsageError

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{s.getsockname()[1]}"
    options = PipelineOptions(["--dask_client_address", address, "--dask_connection_timeout", "1"])
    with pytest.raises(UsageError, match=f"cannot reach the Dask scheduler at {address} .*--dask_client_address"):
        with beam.Pipeline(runner=DaskRunner(), options=options) as p:
            p | beam.Create([1])


def test_a_group_by_key_of_a_single_partition(address, tmp_path):
    out = folder(tmp_path, "out")
    def build(p):
        (p | beam.Create([("a", 1), ("a", 2)]) | beam.GroupByKey() | beam.MapTuple(lambda k, vs: [k, sorted(vs)])
         | beam.ParDo(_Record(out)))

    error = outcome("ours", address, build, "--dask_npartitions=1")
    assert error is None and recorded(out) == [["a", [1, 2]]]
