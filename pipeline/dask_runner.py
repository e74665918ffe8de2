"""`DaskRunner`: Beam 2.77's Dask runner (apache_beam.runners.dask) with a translation that loses nothing.

Beam's own runner turns each transform into a `dask.bag` operation, but (probed on a `distributed.LocalCluster`)
it drops what a DoFn emits in `finish_bundle` (so `BatchElements` loses its tail and every file sink its
results), merges a ParDo's tagged outputs into one bag (dead letters flow into the main output), computes only
the last transform it visited (of several sinks, one runs), recomputes every side input inside every bundle
(a sink's `initialize_write` runs many times), cannot run stateful DoFns (`GroupIntoBatches`), turns a
primitive it does not know (`Impulse`, `Read`) into a silent no-op, leaves the LocalCluster it starts
running, and has no `result.metrics()`. This module keeps Beam's graph rewrites (`dask_overrides`) and its
options (`DaskOptions`: `--dask_client_address`, `--dask_npartitions`, ...) and replaces the translation:

- one bag per PCollection, of `WindowedValue`s; a ParDo's bag holds (tag, value) pairs, and each of its output
  PCollections is a view of one tag;
- a bundle is a bag partition: the DoFn's outputs are collected after `finish_bundle`; the DoFn is unpickled
  and set up once per worker thread and torn down when the job ends;
- a side input is computed once (one task) and handed to every bundle;
- GroupByKey groups by the encoded key (a deterministic coder, hashed with CRC32, not Python's salted `hash`);
- a stateful DoFn runs after a shuffle by key, with per-key state and timers that fire once the key's input
  is done (the watermark of a batch job jumping to the end);
- every PCollection that nothing consumes is computed, and the job waits for all of them;
- the Beam metrics of every completed bundle are gathered from the workers when the job ends.

What runs on the workers is in pipeline/dask_bundles.py. Each fix has a test in
tests/pipeline/test_dask_runner.py that fails on Beam's runner.
"""

from __future__ import annotations

import uuid

import apache_beam as beam
from apache_beam import pvalue
from apache_beam.coders import registry as coders_registry
from apache_beam.internal import pickler
from apache_beam.runners.common import DoFnSignature
from apache_beam.runners.dask import dask_runner as beam_dask
from apache_beam.runners.dask.overrides import (_Create, _Flatten, _GroupAlsoByWindow, _GroupByKeyOnly, _Read,
                                                _Reshuffle, dask_overrides)
from apache_beam.runners.direct.direct_metrics import DirectMetrics
from apache_beam.runners.runner import PipelineResult, PipelineState
from apache_beam.transforms import core
from apache_beam.transforms.window import GlobalWindows
from apache_beam.typehints import trivial_inference

from pipeline import dask_bundles as bundles
from workspace.errors import UsageError

_READ_BUNDLE_BYTES = 64 << 20  # the size of a source split read by one task
# A Create's elements each get a partition (a task), up to this many: the jobs' Creates list units of work
# (1 MB byte ranges of the input, files), so a task's output, which Dask holds as one list, stays small.
_MAX_CREATE_PARTITIONS = 1000


def _key_coder(pcoll, label: str):
    try:
        key_type, _ = trivial_inference.key_value_types(pcoll.element_type)
    except Exception:  # an untyped or non-KV element type: Beam's deterministic fallback for any key
        key_type = None
    return coders_registry.get_coder(key_type or object).as_deterministic_coder(label)


# ---- on the client: the pipeline's primitives -> dask bags ----

class _Translate(beam.pipeline.PipelineVisitor):
    def __init__(self, job: str, bag_kwargs: dict, shuffle_partitions: int):
        self._job, self._bag_kwargs, self._shuffle_partitions = job, bag_kwargs, shuffle_partitions
        self.bags: dict = {}  # PCollection -> bag of WindowedValue
        self._consumed: set = set()
        self._sides: dict = {}  # PCollection -> its whole content, computed once

    def leaves(self) -> list:
        """The bags of the PCollections nothing reads: computing them runs every transform."""
        return [bag for pcoll, bag in self.bags.items() if pcoll not in self._consumed]

    def visit_transform(self, node) -> None:
        import dask.bag as db

        transform = node.transform
        inputs = [self.bags[i] for i in node.inputs if not isinstance(i, pvalue.PBegin)]
        self._consumed.update(node.inputs)
        self._consumed.update(side.pvalue for side in node.side_inputs)
        if isinstance(transform, beam.ParDo):
            self._pardo(node, inputs[0])
            if isinstance(transform, _GroupAlsoByWindow):  # values as a list, as Beam's other runners give them
                for pcoll in node.outputs.values():
                    self.bags[pcoll] = self.bags[pcoll].map(bundles.listed_values)
            return
        if isinstance(transform, _Create):
            bag = self._create(list(transform.values))
        elif isinstance(transform, core.Impulse):
            bag = db.from_sequence([GlobalWindows.windowed_value(b"")], npartitions=1)
        elif isinstance(transform, _Read):
            splits = list(transform.source.split(desired_bundle_size=_READ_BUNDLE_BYTES))
            bag = db.from_sequence(splits, partition_size=1).map(bundles.read_split).flatten()
        elif isinstance(transform, _Flatten):
            bag = db.concat(inputs) if inputs else db.from_sequence([], npartitions=1)
        elif isinstance(transform, _Reshuffle):
            bag = inputs[0]
        elif isinstance(transform, _GroupByKeyOnly):
            key_coder = _key_coder(node.inputs[0], node.full_label)
            bag = self._shuffle(inputs[0], key_coder).map_partitions(bundles.group_values)
        else:
            raise NotImplementedError(f"the Dask runner cannot run {type(transform).__name__} "
                                      f"({node.full_label}); run this job on another runner")
        for pcoll in node.outputs.values():
            self.bags[pcoll] = bag

    def _create(self, items: list):
        import dask.bag as db

        npartitions, size = self._bag_kwargs.get("npartitions"), self._bag_kwargs.get("partition_size")
        windowed = [GlobalWindows.windowed_value(v) for v in items]
        if size:
            return db.from_sequence(windowed, partition_size=size)
        return db.from_sequence(windowed, npartitions=npartitions or max(1, min(len(items), _MAX_CREATE_PARTITIONS)))

    def _shuffle(self, bag, key_coder):
        """Group by the CRC32 of the encoded key: the same partition on every worker (Python's `hash` of a str
        differs between processes). Into at most `shuffle_partitions`, in one stage where that is at most 64:
        Dask's task shuffle makes (input partitions x output partitions) tasks per stage, and with as many
        partitions as the input's 1 MB ranges the scheduler, not the work, took most of a job's time."""
        from operator import itemgetter

        partitions = min(bag.npartitions, self._shuffle_partitions)
        if bag.npartitions > partitions:
            bag = bag.repartition(npartitions=partitions)
        one_stage = max(partitions, 2) if partitions <= 64 else 32  # Dask: stages = log(n) / log(max_branch)
        return bag.map(bundles.keyed_by_crc, key_coder).groupby(itemgetter(0), shuffle="tasks",
                                                                npartitions=partitions, max_branch=one_stage)

    def _side(self, pcoll):
        if pcoll not in self._sides:
            # Not optimized here: an optimized copy renames its keys, and everything upstream of it would be
            # computed twice, once for the side input and once for the main path.
            self._sides[pcoll] = self.bags[pcoll].reduction(list, bundles.concat).to_delayed(optimize_graph=False)
        return self._sides[pcoll]

    def _pardo(self, node, bag) -> None:
        transform = node.transform
        args, kwargs = transform.raw_side_inputs
        main = next(iter(node.main_inputs.values()))
        window_fn = main.windowing.windowfn if hasattr(main, "windowing") else None
        side_specs = [(type(side), side._view_options()) for side in node.side_inputs]
        side_values = [self._side(side.pvalue) for side in node.side_inputs]
        key_coder = None
        if DoFnSignature(transform.fn).is_stateful_dofn():
            key_coder = _key_coder(main, node.full_label)
            bag = self._shuffle(bag, key_coder).map_partitions(bundles.ungroup)
        tagged = bag.map_partitions(bundles.run_bundle, self._job, uuid.uuid4().hex, pickler.dumps(transform.fn),
                                    node.full_label, window_fn, list(args), kwargs, side_specs, *side_values,
                                    key_coder=key_coder)
        for tag, pcoll in node.outputs.items():
            self.bags[pcoll] = tagged.map_partitions(bundles.tagged, tag)


class DaskRunner(beam_dask.DaskRunner):
    """Runs a pipeline on the Dask cluster at `--dask_client_address` (or `--dask_scheduler_file`); without
    one, on a LocalCluster of worker processes started for the job and closed when it ends."""

    def run_pipeline(self, pipeline, options):
        from dask import distributed

        dask_options = options.view_as(beam_dask.DaskOptions).get_all_options(drop_default=True,
                                                                                 current_only=True)
        bag_kwargs = beam_dask.DaskOptions._extract_bag_kwargs(dask_options)
        address = dask_options.pop("address", None)
        cluster = None
        if address is None and dask_options.get("scheduler_file") is None:
            cluster = distributed.LocalCluster(processes=True, dashboard_address=":0")
        try:
            client = distributed.Client(address or cluster, **dask_options)
        except OSError as e:  # no scheduler there (Dask waits `--dask_connection_timeout`, 30 s by default)
            where = address or dask_options.get("scheduler_file")
            raise UsageError(f"cannot reach the Dask scheduler at {where} ({e}); start it (`dask scheduler`) or "
                             f"give its address with --dask_client_address") from e
        try:
            pipeline.replace_all(dask_overrides())
            job = uuid.uuid4().hex
            # two shuffle partitions per worker thread
            translate = _Translate(job, bag_kwargs, shuffle_partitions=max(2, 2 * sum(client.nthreads().values())))
            pipeline.visit(translate)
            futures = client.compute([leaf.count() for leaf in translate.leaves()])
        except BaseException:
            client.close()
            if cluster is not None:
                cluster.close()
            raise
        return DaskRunnerResult(client, futures, job, cluster)


class DaskRunnerResult(PipelineResult):
    def __init__(self, client, futures, job: str, cluster=None):
        super().__init__(PipelineState.RUNNING)
        self._client, self._futures, self._job, self._cluster = client, futures, job, cluster
        self._metrics = DirectMetrics()

    def wait_until_finish(self, duration=None):
        from dask import distributed

        if self._state != PipelineState.RUNNING:
            return self._state
        try:
            # Gathering each result is what raises a worker's error here; the results are counts.
            for _ in distributed.as_completed(self._futures, timeout=duration and duration / 1000,
                                              with_results=True):
                pass
            self._state = PipelineState.DONE
        except BaseException:
            self._state = PipelineState.FAILED
            self._release(quiet=True)  # the job's error is the one to report
            raise
        self._release()
        return self._state

    def _release(self, *, quiet: bool = False) -> None:
        try:
            per_worker = self._client.run(bundles.finish_job, self._job)
            self._metrics = DirectMetrics()
            for update in (u for updates in per_worker.values() for u in updates):
                self._metrics.commit_logical(None, update)
                self._metrics.commit_physical(None, update)
        except Exception:
            if not quiet:
                raise
        finally:
            self._client.close()
            if self._cluster is not None:
                self._cluster.close()

    def cancel(self):
        self._client.cancel(self._futures)
        self._release(quiet=True)
        self._state = PipelineState.CANCELLED
        return self._state

    def metrics(self):
        """The Beam metrics of the job's bundles, once it has finished (a bundle run twice, after a worker was
        lost, counts twice)."""
        return self._metrics
