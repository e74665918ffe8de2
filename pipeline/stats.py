"""Statistics of the written records: per split, histograms of article and summary token counts (plain Python;
`Accounting` in pipeline/accounting.py merges the per-bundle partials)."""

from __future__ import annotations

import bisect

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


