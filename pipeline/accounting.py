"""`Accounted`: the tail both Beam jobs share. Dead letters to `dead_letter/`, and one small accounting file
that `check_accounts` reads after the pipeline: input = written + dropped, or the job fails.

Counting is per bundle (`CountPerBundle`), combined once (`Accounting`): on the local runner every element
that crosses a stage boundary is encoded and sent through the runner; one small dict per bundle is not.
"""

from __future__ import annotations

import json
from typing import Callable, Iterable

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipeline import dead_letters, stats as stats_lib
from workspace.errors import InputError, SumflowError


class AccountingError(SumflowError):
    """Records went missing: input != written + dropped."""


class CountPerBundle(beam.DoFn):
    """elements -> one ("counts", {key: n}) per bundle, key = key_fn(element), for `Accounting`."""

    def __init__(self, key_fn: Callable[[object], str]):
        self._key_fn = key_fn

    def start_bundle(self):
        self._counts = {}

    def process(self, element):
        key = self._key_fn(element)
        self._counts[key] = self._counts.get(key, 0) + 1
        return ()

    def finish_bundle(self):
        from apache_beam.transforms.window import GlobalWindows

        if self._counts:
            yield GlobalWindows.windowed_value(("counts", self._counts))


class Accounting(beam.CombineFn):
    """Per-bundle partials -> {"counts": {key: n}, "lengths": {split: length statistics}}: a job's accounting
    and statistics in one small value (one combine, one file). Elements are ("counts", {key: n}) from
    CountPerBundle and ("lengths", stats) from the tokenizer (pipeline/stats.py)."""

    def create_accumulator(self):
        return {"counts": {}, "lengths": {}}

    def add_input(self, acc, element):
        kind, value = element
        if kind == "counts":
            for key, n in value.items():
                acc["counts"][key] = acc["counts"].get(key, 0) + n
        else:
            acc["lengths"] = stats_lib.merge([acc["lengths"], value])
        return acc

    def merge_accumulators(self, accs):
        out = self.create_accumulator()
        for acc in accs:
            self.add_input(out, ("counts", acc["counts"]))
            self.add_input(out, ("lengths", acc["lengths"]))
        return out

    def extract_output(self, acc):
        return acc


class Accounted(beam.PTransform):
    """Counts a job's records and writes its dead letters: applied to the pipeline, given the PCollections.

    inputs: each element one input record (records read, and the dead letters of what could not be read);
    written: {key: PCollection}, each element one record written, counted under `key`;
    dropped: dead letters, written to `{output_dir}/dead_letter/{dead_letter_name}-*.jsonl` (dropped-*.jsonl) and
      counted as "dropped:REASON";
    lengths: per-bundle length statistics (pipeline/stats.py), merged into "lengths".
    Writes {"counts": {...}, "lengths": {...}} (or the counts alone, `counts_only`) to `accounting_path`.
    """

    def __init__(self, *, output_dir: str, accounting_path: str, inputs: Iterable, dropped: Iterable,
                 written: dict | None = None, lengths: Iterable = (), counts_only: bool = False,
                 dead_letter_name: str = "dropped"):
        super().__init__()
        self._output_dir, self._path, self._counts_only = output_dir, accounting_path, counts_only
        self._dead_letter_name = dead_letter_name
        self._inputs, self._dropped = [p for p in inputs if p is not None], [p for p in dropped if p is not None]
        self._written, self._lengths = dict(written or {}), list(lengths)

    def expand(self, pbegin):
        dropped = tuple(self._dropped) | "AllDropped" >> beam.Flatten(pipeline=pbegin.pipeline)
        (dropped | "DeadLetterJson" >> beam.Map(dead_letters.to_json)
         | "WriteDeadLetters" >> beam.io.WriteToText(
             FileSystems.join(self._output_dir, dead_letters.DIRECTORY, self._dead_letter_name),
             file_name_suffix=".jsonl"))
        # Input is counted where records enter, independently of what happens to them later.
        partials = [pcoll | f"CountInput{i}" >> beam.ParDo(CountPerBundle(lambda _: "input"))
                    for i, pcoll in enumerate(self._inputs)]
        partials += [pcoll | f"Count{key.title()}" >> beam.ParDo(CountPerBundle(lambda _, key=key: key))
                     for key, pcoll in sorted(self._written.items())]
        partials.append(dropped | "DropReasons" >> beam.ParDo(CountPerBundle(lambda d: "dropped:" + d["reason"])))
        partials += [lengths | f"AsLengths{i}" >> beam.Map(lambda partial: ("lengths", partial))
                     for i, lengths in enumerate(self._lengths)]
        counts_only = self._counts_only
        return (partials | "AllPartials" >> beam.Flatten()
                | "Accounting" >> beam.CombineGlobally(Accounting())
                | "WriteAccounting" >> beam.Map(_write_json, self._path, counts_only))


def _write_json(value: dict, path: str, counts_only: bool) -> None:
    """One small file from a singleton (rewritten whole if the bundle is retried)."""
    with FileSystems.create(path) as f:
        f.write(json.dumps(value["counts"] if counts_only else value, sort_keys=True).encode("utf-8"))


def read_accounting(path: str) -> dict:
    with FileSystems.open(path) as f:
        return json.loads(f.read().decode("utf-8") or "{}")


def check_accounts(counts: dict, *, written: int, output_dir: str, what: str) -> dict[str, int]:
    """The dropped counts by reason, after checking that the job used all of its input: no unreadable file
    (InputError, exit 3), some input (InputError), input = written + dropped (AccountingError)."""
    dropped = {k.split(":", 1)[1]: v for k, v in sorted(counts.items()) if k.startswith("dropped:")}
    dead_letters.check_readable(counts, output_dir)  # success means all of the input
    n_input = counts.get("input", 0)
    if n_input == 0:
        raise InputError(f"the input holds no {what} (empty files, or only blank lines); check the input paths "
                         f"and format")
    if n_input != written + sum(dropped.values()):
        raise AccountingError(f"{n_input} {what} read but {written} written and {sum(dropped.values())} dropped: "
                              f"{what} were lost")
    return dropped
