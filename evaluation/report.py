"""The ROUGE report: one JSON dict with every figure, its Markdown page, and per-document rows.

Scores in the JSON are fractions (0-1) as rouge-score gives them; the Markdown shows them x100. Systems
are keyed by role: "system" (the predictions), "compare" (a second system), "lead-k", "oracle".
"""

from __future__ import annotations

import dataclasses
import textwrap
from typing import Iterator, Optional, Sequence

import numpy as np

from evaluation.rouge import FIELDS

REPORT_FORMAT = "sumflow.evaluate/v1"
RANKING_METRIC = "rougeLsum"  # worst/best documents; the first metric when it is not computed
SHOWN = 5  # worst and best documents listed
SHOWN_MISSING = 5  # ids of unscored references named in report.md and report.html
BAR_WIDTH = 40
LABELS = {"rouge1": "R-1", "rouge2": "R-2", "rougeL": "R-L", "rougeLsum": "R-Lsum"}
REPETITION_KEYS = ("summaries_with_back_to_back_word", "summaries_with_repeated_content_word")
REPETITION_NOTE = ("Word back to back: a word (as ROUGE tokenizes, unstemmed) follows itself; repeated content "
                   "word: a word of 3 or more characters with a letter, not a stop word, occurs twice.")


@dataclasses.dataclass(frozen=True)
class SystemResult:
    """One system's figures. scores: (documents, metrics, 3) P/R/F; low/high: (metrics, 3) or None."""

    role: str
    name: str
    texts: Sequence[str]
    scores: np.ndarray
    low: Optional[np.ndarray]
    high: Optional[np.ndarray]
    stats: dict  # evaluation.summary_stats.summary_stats(...)


EXAMPLE_ARTICLE_CHARS = 300


def _length_summary(lengths: Sequence[int]) -> dict:
    values = np.asarray(lengths, dtype=np.float64)
    return {"mean": float(values.mean()), "median": float(np.median(values)), "min": int(values.min()),
            "max": int(values.max())}


def _text_stats(stats: dict) -> dict:
    novel = stats["novel"]
    return {"length": _length_summary(stats["length"]),
            "novel_ngrams": None if novel is None else {str(n): rate for n, rate in novel.items()},
            "repeated_ngrams": {str(n): rate for n, rate in stats["repeated"].items()},
            "summaries_with_repeat": {str(n): share for n, share in stats["with_repeat"].items()},
            "empty": stats["empty"],
            # shares of summaries (evaluation/summary_stats.py defines both)
            "summaries_with_back_to_back_word": stats["back_to_back"],
            "summaries_with_repeated_content_word": stats["repeated_content_word"]}


def _system_entry(result: SystemResult, metrics: Sequence[str]) -> dict:
    means = result.scores.mean(axis=0)  # (metrics, 3)
    scores = {}
    for m, metric in enumerate(metrics):
        scores[metric] = {field: {"mean": float(means[m, f]),
                                  "low": None if result.low is None else float(result.low[m, f]),
                                  "high": None if result.high is None else float(result.high[m, f])}
                          for f, field in enumerate(FIELDS)}
    return {"name": result.name, "scores": scores, **_text_stats(result.stats)}


def _ranked(ids, result: SystemResult, references, metrics) -> tuple[list, list]:
    key = metrics.index(RANKING_METRIC) if RANKING_METRIC in metrics else 0
    f = result.scores[:, key, 2]
    order = sorted(range(len(ids)), key=lambda i: (f[i], ids[i]))  # ties in id order

    def row(i: int) -> dict:
        return {"id": ids[i], **{metric: float(result.scores[i, m, 2]) for m, metric in enumerate(metrics)},
                "prediction": result.texts[i], "reference": references[i][0]}

    return [row(i) for i in order[:SHOWN]], [row(i) for i in reversed(order[-SHOWN:])]


def build_report(*, ids: Sequence[str], metrics: Sequence[str], results: Sequence[SystemResult],
                 references: Sequence[Sequence[str]], reference_stats: dict, histogram: dict,
                 paired: Optional[dict], settings: dict) -> dict:
    """The report dict; `results[0]` is the evaluated system (its documents are ranked)."""
    worst, best = _ranked(ids, results[0], references, list(metrics))
    return {
        "format": REPORT_FORMAT,
        "documents": len(ids),
        "metrics": list(metrics),
        "settings": settings,
        "systems": {r.role: _system_entry(r, metrics) for r in results},
        "reference": _text_stats(reference_stats),
        "length_histogram": histogram,
        "paired_test": paired,
        "ranked_by": metrics[metrics.index(RANKING_METRIC)] if RANKING_METRIC in metrics else metrics[0],
        "worst": worst,
        "best": best,
    }


def examples(ids: Sequence[str], *, articles: Optional[Sequence[str]], references: Sequence[Sequence[str]],
             predictions: Sequence[str], count: int) -> list[dict]:
    """The first `count` documents in id order (not chosen by score): id, article (its first
    EXAMPLE_ARTICLE_CHARS characters), first reference, prediction."""
    order = sorted(range(len(ids)), key=lambda i: ids[i])[:count]
    return [{"id": ids[i], "article": None if articles is None else _clip(articles[i], EXAMPLE_ARTICLE_CHARS),
             "reference": references[i][0], "prediction": predictions[i]} for i in order]


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def render_examples(report: dict) -> str:
    """The report's example documents as plain text for a terminal ("" when it has none)."""
    lines = []
    for example in report.get("examples") or ():
        lines += ["", f"[{example['id']}]"]
        if example["article"] is not None:
            lines += textwrap.wrap(example["article"], 100, initial_indent="  document : ",
                                   subsequent_indent="             ")
        lines.append(f"  reference: {' '.join(example['reference'].split())}")
        lines.append(f"  summary  : {' '.join(example['prediction'].split()) or '(empty)'}")
    return "\n".join(lines)


def per_document_rows(ids: Sequence[str], metrics: Sequence[str],
                      results: Sequence[SystemResult]) -> Iterator[dict]:
    """One row a document: {"id", role: {metric: {"precision", "recall", "fmeasure"}}}."""
    for i, doc_id in enumerate(ids):
        row: dict = {"id": doc_id}
        for r in results:
            row[r.role] = {metric: dict(zip(FIELDS, map(float, r.scores[i, m]))) for m, metric in enumerate(metrics)}
        yield row


# --- Markdown ---------------------------------------------------------------------------------------------

def pct(value: Optional[float], digits: int = 2) -> str:
    """A share (0..1) as a percentage with `digits` decimals, "–" for none: report.md and report.html."""
    return "–" if value is None else f"{100 * value:.{digits}f}"


_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|~"} | {
    "<": "&lt;", ">": "&gt;", "&": "&amp;", "\n": " ", "\r": " "})


def escape(text: str) -> str:
    """A user's string (summary, id, system name) as literal Markdown text: no markup, no raw HTML, no table
    cell break. Every user string in the report goes through here."""
    return str(text).translate(_MARKDOWN_SPECIAL)


def _cell(text: str, limit: int = 100) -> str:
    flat = " / ".join(line.strip() for line in str(text).splitlines() if line.strip())
    flat = flat if len(flat) <= limit else flat[:limit - 1] + "…"
    return escape(flat)


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)] + ["| " + " | ".join(r) + " |" for r in rows]


def render_table(report: dict) -> str:
    """The F1 table with confidence intervals (what the job prints)."""
    metrics = report["metrics"]
    rows = []
    for entry in report["systems"].values():
        cells = [escape(entry["name"])]
        for metric in metrics:
            f = entry["scores"][metric]["fmeasure"]
            interval = "" if f["low"] is None else f" [{pct(f['low'])}, {pct(f['high'])}]"
            cells.append(pct(f["mean"]) + interval)
        rows.append(cells)
    return "\n".join(_table(["system"] + [f"{LABELS[m]} F1" for m in metrics], rows))


def _histogram_lines(histogram: dict) -> list[str]:
    edges = histogram["edges"]
    peak = max((max(c) for c in histogram["counts"].values()), default=0) or 1
    lines = ["```"]
    for name, counts in histogram["counts"].items():
        lines.append(str(name).replace("`", "'"))  # inside a code fence: no fence breaks
        for i, count in enumerate(counts):
            bar = "█" * round(BAR_WIDTH * count / peak)
            span = f"{edges[i]}-{edges[i + 1] - 1}" if i + 1 < len(edges) else f">= {edges[i]}"
            lines.append(f"  {span:>9} {bar:<{BAR_WIDTH}} {count}")
    return lines + ["```"]


def missing_note(report: dict, quote=repr) -> str:
    """One sentence on the references left unscored for want of a prediction ("" when none were); `quote`
    writes an id (escaped for the page it goes on)."""
    missing = report.get("missing_predictions") or {"count": 0, "ids": []}
    if not missing["count"]:
        return ""
    shown = ", ".join(quote(i) for i in missing["ids"][:SHOWN_MISSING])
    more = ", ..." if missing["count"] > SHOWN_MISSING else ""
    return (f"{missing['count']} references had no prediction and were not scored (--missing-predictions "
            f"skip): {shown}{more}; every id is in report.json, missing_predictions.")


def render_markdown(report: dict) -> str:
    metrics, settings = report["metrics"], report["settings"]
    labels = [LABELS[m] for m in metrics]
    systems = report["systems"]
    ci = (f"{100 * settings['confidence']:g}% bootstrap intervals ({settings['bootstrap_samples']} resamples, "
          f"seed {settings['seed']})" if settings["bootstrap_samples"] else "no bootstrap intervals")
    out = ["# ROUGE report", "",
           f"{report['documents']} documents; rouge-score {settings['rouge_score_version']}, tokenizer "
           f"`{settings['tokenizer']}`, stemming {'on' if settings['use_stemmer'] else 'off'}; {ci}. "
           "Scores x100.", ""]
    if missing_note(report):
        out += [missing_note(report, quote=lambda i: escape(repr(i))), ""]
    split = settings["split_by_regex"]
    if split["predictions"] or split["references"]:
        out += [f"For ROUGE-Lsum, {split['predictions']} predictions and {split['references']} references had "
                "no newline and were split into sentences by the regex splitter (contract/sentences.py).", ""]
    out += ["## F1 [confidence interval]", "", render_table(report), "", "## Precision / recall", ""]
    out += _table(["system"] + [f"{label} P / R" for label in labels],
                  [[escape(e["name"])] + [f"{pct(e['scores'][m]['precision']['mean'])} / "
                                  f"{pct(e['scores'][m]['recall']['mean'])}" for m in metrics]
                   for e in systems.values()])
    paired = report["paired_test"]
    if paired:
        out += ["", f"## Paired bootstrap test: {escape(paired['a'])} vs {escape(paired['b'])}", "",
                f"p-value of \"{escape(paired['a'])} is not better\" ({paired['samples']} resamples, seed "
                f"{paired['seed']}); F1 difference x100.", ""]
        out += _table(["metric", "Δ F1", "interval", "p-value", "A wins"],
                      [[LABELS[m], pct(t["delta"]), f"[{pct(t['low'])}, {pct(t['high'])}]", f"{t['p_value']:.4f}",
                        f"{100 * t['a_wins']:.1f}%"] for m, t in paired["metrics"].items()])
    texts = list(systems.values()) + [dict(report["reference"], name="reference")]
    out += ["", "## Lengths (tokens)", ""]
    out += _table(["text", "mean", "median", "min", "max"],
                  [[escape(e["name"]), f"{e['length']['mean']:.1f}", f"{e['length']['median']:g}",
                    str(e["length"]["min"]), str(e["length"]["max"])] for e in texts])
    out += [""] + _histogram_lines(report["length_histogram"])
    orders = list(report["reference"]["repeated_ngrams"])
    if report["reference"]["novel_ngrams"] is not None:
        out += ["", "## Novel n-grams (% of a summary's n-grams not in its article)", ""]
        out += _table(["text"] + [f"{n}-grams" for n in orders],
                      [[escape(e["name"])] + [pct(e["novel_ngrams"][n], 1) for n in orders] for e in texts])
    out += ["", "## Repeated n-grams (% of a summary's n-grams that repeat one earlier in it)", ""]
    out += _table(["text"] + [f"{n}-grams" for n in orders],
                  [[escape(e["name"])] + [pct(e["repeated_ngrams"][n], 1) for n in orders] for e in texts])
    out += ["", "## Degenerate summaries (% of summaries)", "", REPETITION_NOTE, ""]
    out += _table(["text", "empty", "word back to back", "repeated content word"]
                  + [f"with a repeated {n}-gram" for n in orders],
                  [[escape(e["name"]), pct(e["empty"], 1)] + [pct(e[key], 1) for key in REPETITION_KEYS]
                   + [pct(e["summaries_with_repeat"][n], 1) for n in orders] for e in texts])
    for title, rows in (("Worst", report["worst"]), ("Best", report["best"])):
        out += ["", f"## {title} {len(rows)} documents by {LABELS[report['ranked_by']]} F1 "
                    f"({escape(systems['system']['name'])})", ""]
        out += _table(["id"] + labels + ["prediction", "reference"],
                      [[_cell(r["id"], 40)] + [pct(r[m]) for m in metrics] + [_cell(r["prediction"]),
                                                                             _cell(r["reference"])] for r in rows])
    return "\n".join(out) + "\n"
