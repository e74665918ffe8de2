"""What the Dask runner (pipeline/dask_runner.py) runs on the workers: a bundle (one bag partition) through a
DoFn, collecting what `process`, the timers and `finish_bundle` emit, each value with its output's tag; the
grouping of a shuffle by encoded key; the reading of a source split.

A DoFn is unpickled and set up once per (job, transform, worker thread), reused by that thread's later bundles,
and torn down when the job ends (`finish_job`, run on every worker by the client), which also hands back the
Beam metrics (counters, distributions, ...) of the job's bundles that ran on that worker.
"""

from __future__ import annotations

import contextlib
import threading
import zlib

import apache_beam as beam
from apache_beam.internal import pickler
from apache_beam.metrics.execution import MetricsContainer
from apache_beam.runners.common import DoFnContext, DoFnInvoker, DoFnSignature, Receiver, _OutputHandler
from apache_beam.runners.direct.direct_userstate import DirectUserStateContext
from apache_beam.transforms import core
from apache_beam.transforms.sideinputs import SideInputMap
from apache_beam.transforms.window import GlobalWindows
from apache_beam.utils import counters

_MAX_TIMER_FIRINGS = 1_000_000  # per key: a DoFn that keeps resetting a timer would otherwise never end


_DOFNS: dict[tuple[str, str, int], beam.DoFn] = {}
_DOFNS_LOCK = threading.Lock()
_METRICS: dict[str, list] = {}  # job -> the MetricUpdates of its bundles that finished on this worker


def _set_up_dofn(job: str, op: str, payload: bytes) -> beam.DoFn:
    key = (job, op, threading.get_ident())
    with _DOFNS_LOCK:
        fn = _DOFNS.get(key)
    if fn is None:
        fn = pickler.loads(payload)
        fn.setup()
        with _DOFNS_LOCK:
            _DOFNS[key] = fn
    return fn


def finish_job(job: str) -> list:
    """Tears down the job's DoFns on this worker; returns the metric updates of its bundles that ran here."""
    with _DOFNS_LOCK:
        done = [k for k in _DOFNS if k[0] == job]
        fns = [_DOFNS.pop(k) for k in done]
        updates = _METRICS.pop(job, [])
    for fn in fns:
        fn.teardown()
    return updates


@contextlib.contextmanager
def _metrics_into(container: MetricsContainer, label: str):
    """Beam's metrics (`Metrics.counter(...).inc()`) go to the container of the current state of this thread's
    state sampler: a sampler of the bundle's own (a sampler keeps the first container given for a state name)."""
    from apache_beam.runners.worker import statesampler

    sampler = statesampler.StateSampler("", counters.CounterFactory())
    statesampler.set_current_tracker(sampler)
    try:
        with sampler.scoped_state(label, "process", metrics_container=container):
            yield
    finally:
        statesampler.set_current_tracker(None)


class _Collect(Receiver):
    def __init__(self, tag, out: list):
        self._tag, self._out = tag, out

    def receive(self, windowed_value):
        self._out.append((self._tag, windowed_value))


class _Receivers(dict):
    def __init__(self, out: list):
        super().__init__()
        self._out = out

    def __missing__(self, tag):
        self[tag] = receiver = _Collect(tag, self._out)
        return receiver


class _NoStoredState:
    """What DirectUserStateContext reads before the first write of a key's state: nothing (a key's state lives
    in the context's own runtime objects for the whole pass over that key)."""

    def get_keyed_state(self, encoded_key):
        return self

    def get_state(self, window, tag):
        return []


def run_bundle(items, job, op, payload, label, window_fn, args, kwargs, side_specs, *side_values, key_coder=None):
    """One bag partition through a DoFn: [(tag, WindowedValue)] including what `finish_bundle` emitted."""
    fn = _set_up_dofn(job, op, payload)
    metrics = MetricsContainer(label)
    with _metrics_into(metrics, label):
        out = _run_bundle(fn, items, label, window_fn, args, kwargs, side_specs, side_values, key_coder)
    with _DOFNS_LOCK:  # only a bundle that completed counts
        _METRICS.setdefault(job, []).append(metrics.get_cumulative())
    return out


def _run_bundle(fn, items, label, window_fn, args, kwargs, side_specs, side_values, key_coder):
    out: list = []
    receivers = _Receivers(out)
    handler = _OutputHandler(window_fn=window_fn, main_receivers=receivers[None], tagged_receivers=receivers,
                             per_element_output_counter=None, output_batch_converter=None,
                             process_yields_batches=False, process_batch_yields_elements=False)
    sides = [SideInputMap(view, options, values) for (view, options), values in zip(side_specs, side_values)]

    def invoker(state=None):
        return DoFnInvoker.create_invoker(DoFnSignature(fn), handler, context=DoFnContext(label, state=None),
                                          side_inputs=sides, input_args=args, input_kwargs=kwargs,
                                          user_state_context=state, bundle_finalizer_param=core._BundleFinalizerParam())

    if key_coder is None:
        bundle = invoker()
        bundle.invoke_start_bundle()
        for item in items:
            bundle.invoke_process(item)
        bundle.invoke_finish_bundle()
        return out
    # A stateful DoFn: `items` is one shuffle group, [(encoded key, WindowedValue)]; one pass per key.
    keys: dict[bytes, list] = {}
    for encoded, item in items:
        keys.setdefault(encoded, []).append(item)
    for encoded, values in keys.items():
        state = DirectUserStateContext(_NoStoredState(), fn, key_coder)
        bundle = invoker(state)
        bundle.invoke_start_bundle()
        for item in values:
            bundle.invoke_process(item)
        _fire_timers(bundle, state, key_coder.decode(encoded))
        bundle.invoke_finish_bundle()
    return out


def _fire_timers(bundle, state: DirectUserStateContext, key) -> None:
    """Fire the key's timers, earliest first, until none is set (a timer may set others)."""
    for _ in range(_MAX_TIMER_FIRINGS):
        pending = [(recording.timestamp, tag, cache_key, timer)
                   for cache_key, timer in state.cached_timers.items()
                   for tag, recording in timer._timer_recordings.items()
                   if not recording.cleared and recording.timestamp is not None]
        if not pending:
            return
        timestamp, tag, (_, window, spec), timer = min(pending, key=lambda p: p[0])
        timer.clear(tag)
        bundle.invoke_user_timer(spec, key, window, timestamp, None, tag)
    raise RuntimeError(f"timers kept firing for key {key!r}: a timer callback sets its timer again every time")


def tagged(pairs, tag):
    return [value for t, value in pairs if t == tag]


def ungroup(groups):
    """Dask's groupby: [(crc, [(crc, (encoded key, value)), ...])] -> [(encoded key, value), ...]."""
    return [keyed for _, members in groups for _, keyed in members]


def concat(parts):
    return [item for part in parts for item in part]


def keyed_by_crc(windowed, key_coder):
    encoded = key_coder.encode(windowed.value[0])
    return zlib.crc32(encoded), (encoded, windowed)


def group_values(groups):
    """[(crc, [(crc, (encoded key, WindowedValue((k, v)))), ...])] -> WindowedValue((k, [v, ...])) per key."""
    keys: dict[bytes, tuple] = {}
    for encoded, windowed in ungroup(groups):
        k, v = windowed.value
        keys.setdefault(encoded, (k, []))[1].append(v)
    return [GlobalWindows.windowed_value(kv) for kv in keys.values()]


def read_split(split):
    source = split.source
    tracker = source.get_range_tracker(split.start_position, split.stop_position)
    return [GlobalWindows.windowed_value(v) for v in source.read(tracker)]


def listed_values(windowed):
    """WindowedValue((k, iterable)) -> WindowedValue((k, list)): a grouped key's values, which the trigger driver
    gives as a one-pass iterable, as a list (code written for Beam's other runners calls len() on them)."""
    k, values = windowed.value
    return windowed.with_value((k, list(values)))
