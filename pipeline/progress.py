"""`ShowProgress`: elements pass through unchanged and are counted on the operator's terminal
(workspace/progress.py: from every worker, one line per task)."""

from __future__ import annotations

import apache_beam as beam

from workspace.progress import Counter


class _Count(beam.DoFn):
    def __init__(self, task: str, unit: str, total: int):
        self._task, self._unit, self._total = task, unit, total

    def setup(self):
        self._counter = Counter(self._task, total=self._total, unit=self._unit)

    def process(self, element):
        self._counter.add()
        yield element

    def finish_bundle(self):
        self._counter.flush()


class ShowProgress(beam.PTransform):
    """pcoll -> the same pcoll, its elements counted as `task` progress (`total`: 0 when unknown)."""

    def __init__(self, task: str, *, unit: str = "records", total: int = 0):
        super().__init__()
        self._task, self._unit, self._total = task, unit, total

    def expand(self, pcoll):
        return pcoll | "Count" >> beam.ParDo(_Count(self._task, self._unit, self._total))
