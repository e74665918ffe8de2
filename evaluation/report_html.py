"""report.html: the ROUGE report as one self-contained page (inline CSS and SVG, no script, nothing fetched).

    render_html(report, rows)  the page of a `report.build_report` dict and its `report.per_document_rows`:
                               the F1 table with intervals (and the paired test), per-document F1
                               histograms per system, summary and reference length histograms, the system
                               against every other system document by document, and the worst and best
                               documents with the words shared by summary and reference marked.

Every user string (ids, texts, system names) is escaped with `html.escape`, here or in `evaluation.svg`.
"""

from __future__ import annotations

from html import escape
from typing import Sequence

import regex

from contract.scripts import UNSPACED_CHAR
from evaluation import svg
from evaluation.report import LABELS, REPETITION_KEYS, REPETITION_NOTE, pct, missing_note
from evaluation.rouge import RougeTokenizer

F1_BINS = 20  # per-document F1 histogram: bins of 5 points
MAX_POINTS = 1000  # documents drawn in a scatter; more are thinned evenly (the caption says so)
KINDS = {"system": "evaluated", "compare": "compared", "oracle": "upper bound"}  # other roles: baselines

# The words ROUGE tokenizes, found in the original text so they can be marked in place: rouge.RougeTokenizer's
# unicode rule (one Han/kana character a word; runs of letters, marks and digits), before lowercasing.
_WORD = regex.compile(UNSPACED_CHAR + r"|[[\p{L}\p{M}\p{Nd}]--" + UNSPACED_CHAR + "]+", regex.V1)

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto; max-width: 1150px;
       padding: 0 1em; color: #222; }
h1 { margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ddd; }
.note { color: #555; }
table { border-collapse: collapse; margin: 0.6em 0; }
th, td { padding: 0.3em 0.8em; border-bottom: 1px solid #e4e4e4; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.ci { color: #777; font-size: 0.85em; }
tr.system td { font-weight: bold; }
.plots { display: flex; flex-wrap: wrap; gap: 1.2em; align-items: flex-start; }
figure { margin: 0; } figcaption { color: #555; font-size: 0.85em; max-width: 560px; }
.doc { border: 1px solid #ddd; border-radius: 6px; padding: 0.6em 0.9em; margin: 0.8em 0; }
.doc h3 { margin: 0 0 0.4em; font-size: 1em; } .doc .scores { font-weight: normal; color: #555; }
.pair { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
.pair p { white-space: pre-line; margin: 0.2em 0; }
mark { background: #ffe58a; }
"""


def highlight(text: str, other: str, *, tokenizer: RougeTokenizer) -> str:
    """`text` HTML-escaped, each word whose ROUGE token(s) also occur in `other` wrapped in <mark>."""
    shared = set(tokenizer.tokenize(other))
    out, last = [], 0
    for match in _WORD.finditer(text):
        if any(t in shared for t in tokenizer.tokenize(match.group())):
            out += [escape(text[last:match.start()]), "<mark>", escape(match.group()), "</mark>"]
            last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


def _f1_cell(f: dict) -> str:
    interval = "" if f["low"] is None else f' <span class="ci">[{pct(f["low"])}, {pct(f["high"])}]</span>'
    return f'<td class="num">{pct(f["mean"])}{interval}</td>'


def _score_table(report: dict) -> list[str]:
    metrics = report["metrics"]
    out = ["<table><tr><th>system</th><th>kind</th>" + "".join(f"<th>{LABELS[m]} F1</th>" for m in metrics)
           + "</tr>"]
    for role, entry in report["systems"].items():
        out.append(f'<tr class="{escape(role)}"><td>{escape(entry["name"])}</td>'
                   f'<td>{KINDS.get(role, "baseline")}</td>'
                   + "".join(_f1_cell(entry["scores"][m]["fmeasure"]) for m in metrics) + "</tr>")
    return out + ["</table>"]


def _paired_table(paired: dict) -> list[str]:
    a, b = escape(paired["a"]), escape(paired["b"])
    out = [f"<h2>Paired bootstrap test: {a} vs {b}</h2>",
           f'<p class="note">p-value of &ldquo;{a} is not better&rdquo; ({paired["samples"]} resamples, seed '
           f'{paired["seed"]}); F1 difference x100.</p>',
           "<table><tr><th>metric</th><th>&Delta; F1</th><th>interval</th><th>p-value</th><th>A wins</th></tr>"]
    for metric, t in paired["metrics"].items():
        out.append(f'<tr><td>{LABELS[metric]}</td><td class="num">{pct(t["delta"])}</td>'
                   f'<td class="num">[{pct(t["low"])}, {pct(t["high"])}]</td>'
                   f'<td class="num">{t["p_value"]:.4f}</td><td class="num">{100 * t["a_wins"]:.1f}%</td></tr>')
    return out + ["</table>"]


def _repetition_table(report: dict) -> list[str]:
    """Shares of empty summaries and of summaries that repeat a word, per system and for the references."""
    texts = list(report["systems"].values()) + [dict(report["reference"], name="reference")]
    out = ["<h2>Degenerate summaries (% of summaries)</h2>", f'<p class="note">{escape(REPETITION_NOTE)}</p>',
           "<table><tr><th>text</th><th>empty</th><th>word back to back</th><th>repeated content word</th></tr>"]
    for entry in texts:
        out.append(f'<tr><td>{escape(entry["name"])}</td><td class="num">{pct(entry["empty"], 1)}</td>'
                   + "".join(f'<td class="num">{pct(entry[key], 1)}</td>' for key in REPETITION_KEYS) + "</tr>")
    return out + ["</table>"]


def f1_counts(values: Sequence[float]) -> list[int]:
    """Per-document F1 (0-1) counted in `F1_BINS` bins of equal width; 1.0 falls in the last bin."""
    counts = [0] * F1_BINS
    for f in values:  # the epsilon keeps 0.15 (14.999... x 100) in the 15-20 bin
        counts[min(int(f * F1_BINS + 1e-9), F1_BINS - 1)] += 1
    return counts


def _figure(chart: str, caption: str) -> str:
    return f"<figure>{chart}<figcaption>{caption}</figcaption></figure>"


def _plots(report: dict, rows: Sequence[dict]) -> list[str]:
    metric = report["ranked_by"]
    label = f"{LABELS[metric]} F1"
    names = {role: entry["name"] for role, entry in report["systems"].items()}
    scores = {role: [row[role][metric]["fmeasure"] for row in rows] for role in names}
    width = 100 // F1_BINS
    bins = [f"{i * width}-{(i + 1) * width}" for i in range(F1_BINS)]
    out = [_figure(svg.bar_rows([(names[r], f1_counts(scores[r])) for r in names], bins,
                                title=f"Per-document {label}", x_label=f"{label} (x100)"),
                   f"How many documents score in each band of {width} points, per system.")]
    histogram = report["length_histogram"]
    edges = histogram["edges"]
    spans = [f"{edges[i]}-{edges[i + 1] - 1}" if i + 1 < len(edges) else f">= {edges[i]}" for i in range(len(edges))]
    out.append(_figure(svg.bar_rows(list(histogram["counts"].items()), spans, title="Lengths",
                                    x_label="tokens", unit="texts"),
                       "Summary and reference lengths in tokens (the last bin holds every longer text)."))
    n = len(rows)
    shown = sorted({i * n // MAX_POINTS for i in range(MAX_POINTS)}) if n > MAX_POINTS else range(n)
    thinned = f" {len(shown)} of {n} documents, evenly spaced." if n > MAX_POINTS else ""
    for role in list(names)[1:]:
        points = [(100 * scores[role][i], 100 * scores["system"][i]) for i in shown]
        chart = svg.scatter(points, title=f"{label} per document", x_label=names[role], y_label=names["system"])
        out.append(_figure(chart, f"Each dot a document: {escape(names['system'])} (y) against "
                                  f"{escape(names[role])} (x). Above the diagonal the system scores higher."
                                  + thinned))
    return ['<div class="plots">'] + out + ["</div>"]


def _documents(report: dict, title: str, ranked: Sequence[dict], tokenizer: RougeTokenizer) -> list[str]:
    metrics = report["metrics"]
    system = escape(report["systems"]["system"]["name"])
    out = [f"<h2>{title} {len(ranked)} documents by {LABELS[report['ranked_by']]} F1 ({system})</h2>"]
    for row in ranked:
        figures = ", ".join(f"{LABELS[m]} {pct(row[m])}" for m in metrics)
        out.append(f'<div class="doc"><h3>{escape(str(row["id"]))} <span class="scores">{figures}</span></h3>'
                   '<div class="pair"><div><b>summary</b><p>'
                   + highlight(row["prediction"], row["reference"], tokenizer=tokenizer)
                   + "</p></div><div><b>reference</b><p>"
                   + highlight(row["reference"], row["prediction"], tokenizer=tokenizer) + "</p></div></div></div>")
    return out


def render_html(report: dict, rows: Sequence[dict]) -> str:
    """The whole page. rows: `report.per_document_rows(...)` of the same evaluation, in document order."""
    settings = report["settings"]
    ci = (f"{100 * settings['confidence']:g}% bootstrap intervals ({settings['bootstrap_samples']} resamples, "
          f"seed {settings['seed']})" if settings["bootstrap_samples"] else "no bootstrap intervals")
    tokenizer = RougeTokenizer(use_stemmer=settings["use_stemmer"], kind=settings["tokenizer"])
    system = escape(report["systems"]["system"]["name"])
    out = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>ROUGE report: {system}</title><style>{STYLE}</style></head><body>",
           f"<h1>ROUGE report: {system}</h1>",
           f'<p class="note">{report["documents"]} documents; rouge-score {escape(settings["rouge_score_version"])}, '
           f'tokenizer <code>{escape(settings["tokenizer"])}</code>, stemming '
           f'{"on" if settings["use_stemmer"] else "off"}; {ci}. Scores x100. Precision, recall and n-gram '
           "rates are in report.md, every figure in report.json.</p>",
           *([f'<p class="note">{missing_note(report, quote=lambda i: escape(repr(i)))}</p>']
             if missing_note(report) else []),
           "<h2>F1 [confidence interval]</h2>"]
    out += _score_table(report)
    if report["paired_test"]:
        out += _paired_table(report["paired_test"])
    out += _repetition_table(report)
    out += ["<h2>Distributions</h2>"] + _plots(report, rows)
    out += _documents(report, "Worst", report["worst"], tokenizer)
    out += _documents(report, "Best", report["best"], tokenizer)
    out.append('<p class="note">Marked: words of the summary that occur in the reference and the other way '
               "round, as ROUGE-1 matches them (same tokens, stemmed when stemming is on).</p>")
    return "\n".join(out + ["</body></html>"]) + "\n"
