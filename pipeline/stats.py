"""Statistics of the written records (per split, histograms of article and summary token counts) and counts."""

from __future__ import annotations

import bisect

import apache_beam as beam

BIN_EDGES = (8, 16, 32, 64, 128, 256, 384, 512, 768, 1024, 1536, 2048, 4096)


def empty_stats() -> dict:
    return {}


def add_lengths(stats: dict, split: str, article_tokens: int, summary_tokens: int) -> None:
    s = stats.setdefault(split, {"records": 0, "article_tokens": [0] * (len(BIN_EDGES) + 1),
                                 "summary_tokens": [0] * (len(BIN_EDGES) + 1), "article_sum": 0,
                                 "summary_sum": 0, "article_max": 0, "summary_max": 0})
    s["records"] += 1
    for name, n in (("article", article_tokens), ("summary", summary_tokens)):
        s[f"{name}_tokens"][bisect.bisect_right(BIN_EDGES, n)] += 1
        s[f"{name}_sum"] += n
        s[f"{name}_max"] = max(s[f"{name}_max"], n)


def merge(all_stats) -> dict:
    out: dict = {}
    for stats in all_stats:
        for split, s in stats.items():
            if split not in out:
                out[split] = {k: (list(v) if isinstance(v, list) else v) for k, v in s.items()}
                continue
            o = out[split]
            for k, v in s.items():
                if isinstance(v, list):
                    o[k] = [a + b for a, b in zip(o[k], v)]
                elif k.endswith("_max"):
                    o[k] = max(o[k], v)
                else:
                    o[k] += v
    return out


def summarize(stats: dict) -> dict:
    """The JSON form: histograms labelled by bin, and mean lengths."""
    labels = [f"<{BIN_EDGES[0]}"] + [f"{a}-{b - 1}" for a, b in zip(BIN_EDGES, BIN_EDGES[1:])] + [f">={BIN_EDGES[-1]}"]
    out = {}
    for split, s in sorted(stats.items()):
        n = max(s["records"], 1)
        out[split] = {"records": s["records"],
                      "article_tokens": {"mean": round(s["article_sum"] / n, 1), "max": s["article_max"],
                                         "histogram": dict(zip(labels, s["article_tokens"]))},
                      "summary_tokens": {"mean": round(s["summary_sum"] / n, 1), "max": s["summary_max"],
                                         "histogram": dict(zip(labels, s["summary_tokens"]))}}
    return out


class Accounting(beam.CombineFn):
    """Per-bundle partials -> {"counts": {key: n}, "lengths": {split: length statistics}}: the job's accounting
    and statistics in one small value (one combine, one file: every stage costs the local runner a round trip
    to each worker). Elements are ("counts", {key: n}) from CountPerBundle and ("lengths", stats) from the
    tokenizer."""

    def create_accumulator(self):
        return {"counts": {}, "lengths": {}}

    def add_input(self, acc, element):
        kind, value = element
        if kind == "counts":
            for key, n in value.items():
                acc["counts"][key] = acc["counts"].get(key, 0) + n
        else:
            acc["lengths"] = merge([acc["lengths"], value])
        return acc

    def merge_accumulators(self, accs):
        out = self.create_accumulator()
        for acc in accs:
            self.add_input(out, ("counts", acc["counts"]))
            self.add_input(out, ("lengths", acc["lengths"]))
        return out

    def extract_output(self, acc):
        return acc


class CountPerBundle(beam.DoFn):
    """elements -> one ("counts", {key: n}) per bundle, key = key_fn(element), for `Accounting`.

    Counting without a per-record element downstream: on the local runner every element that crosses a
    stage boundary is encoded and sent through the runner; one small dict per bundle is not.
    """

    def __init__(self, key_fn):
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
