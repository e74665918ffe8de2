"""report.html from a hand-made report: the figures, the plots, the marked words, and escaping."""

import re

import numpy as np

from evaluation.report import SystemResult, build_report, per_document_rows
from evaluation.report_html import f1_counts, highlight, render_html
from evaluation.rouge import RougeTokenizer

METRICS = ("rouge1", "rougeLsum")
STATS = {"length": [3, 4, 5, 6, 7, 8], "novel": None, "repeated": {1: 0.25, 2: 0.0, 3: 0.0, 4: 0.0},
         "with_repeat": {1: 0.5, 2: 0.0, 3: 0.0, 4: 0.0}, "empty": 0.0, "back_to_back": 0.125,
         "repeated_content_word": 0.25}
SETTINGS = {"metrics": list(METRICS), "tokenizer": "unicode", "use_stemmer": True, "bootstrap_samples": 10,
            "confidence": 0.95, "seed": 0, "lead_k": 3, "rouge_score_version": "0.1.2",
            "split_by_regex": {"predictions": 0, "references": 0}}
HOSTILE_NAME = '<script>console.error("name")</script>'
HOSTILE_ID = '<img src=x onerror=console.error("id")>'
HOSTILE_TEXT = '<script>console.error("summary")</script>'


def _result(role, name, f_values, texts, *, intervals=True):
    f = np.asarray(f_values, dtype=float)
    scores = np.stack([np.stack([f / 2, f, f], axis=1)] * len(METRICS), axis=1)  # (documents, metrics, P/R/F)
    low = scores.mean(axis=0) - 0.01 if intervals else None
    high = scores.mean(axis=0) + 0.01 if intervals else None
    return SystemResult(role=role, name=name, texts=texts, scores=scores, low=low, high=high, stats=STATS)


def make_report(*, name="mine", ids=("d1", "d2", "d3", "d4", "d5", "d6"), first_text="The council approved the "
                "park budget.", paired=True, compare=False):
    """(report, rows) of 6 documents: `name` (F1 0.1 ... 0.9) against lead-3 (0.2 everywhere)."""
    texts = [first_text] + [f"summary {i}\nline two" for i in range(1, 6)]
    results = [_result("system", name, [0.1, 0.6, 0.3, 0.9, 0.3, 0.5], texts),
               _result("lead-3", "lead-3", [0.2] * 6, ["lead"] * 6, intervals=False)]
    if compare:
        results.append(_result("compare", "other", [0.4] * 6, ["other"] * 6, intervals=False))
    references = [["The council approves a new budget."]] + [["gold text"]] * 5
    test = {m: {"delta": 0.25, "low": 0.1, "high": 0.4, "p_value": 0.02, "a_wins": 0.97} for m in METRICS}
    report = build_report(ids=list(ids), metrics=METRICS, results=results, references=references,
                          reference_stats=STATS, histogram={"edges": [0, 5], "counts": {name: [2, 4], "lead-3": [6, 0],
                                                                                         "reference": [1, 5]}},
                          paired={"a": name, "b": "lead-3", "samples": 10, "seed": 0, "metrics": test} if paired
                          else None, settings=SETTINGS)
    return report, list(per_document_rows(list(ids), METRICS, results))


def test_the_table_shows_every_system_and_its_f1_as_in_report_md():
    page = render_html(*make_report())
    assert ('<tr class="system"><td>mine</td><td>evaluated</td>'
            + '<td class="num">45.00 <span class="ci">[44.00, 46.00]</span></td>' * 2 + "</tr>") in page
    assert '<tr class="lead-3"><td>lead-3</td><td>baseline</td>' + '<td class="num">20.00</td>' * 2 in page
    assert "<th>R-1 F1</th><th>R-Lsum F1</th>" in page
    assert ('<tr><td>R-Lsum</td><td class="num">25.00</td><td class="num">[10.00, 40.00]</td>'
            '<td class="num">0.0200</td><td class="num">97.0%</td></tr>') in page
    assert "<h2>Paired bootstrap test: mine vs lead-3</h2>" in page
    assert "Paired bootstrap" not in render_html(*make_report(paired=False))


def test_the_shares_of_summaries_that_repeat_a_word():
    page = render_html(*make_report())
    assert "<th>word back to back</th><th>repeated content word</th>" in page
    assert ('<tr><td>mine</td><td class="num">0.0</td><td class="num">12.5</td><td class="num">25.0</td></tr>'
            in page)


def test_plots_are_inline_svg():
    page = render_html(*make_report())
    assert page.count("<svg ") == 3  # F1 histograms, lengths, system against lead-3
    assert page.count("<circle ") == 6  # a dot per document
    assert '<circle cx="86.4" cy="65.2" ' in page  # d4: lead-3 20 on x, mine 90 on y (plot 44-256, 2.12 px a point)
    assert "<title>mine: 10-15: 1 documents</title>" in page  # F1 0.1: the 10-15 bin; empty bins draw nothing
    assert "<title>mine: 5-10:" not in page and page.count("<title>mine: 30-35: 2 documents</title>") == 1
    assert "<title>lead-3: 20-25: 6 documents</title>" in page
    assert "<title>reference: &gt;= 5: 5 texts</title>" in page and "<title>mine: 0-4: 2 texts</title>" in page
    with_compare = render_html(*make_report(compare=True))
    assert with_compare.count("<svg ") == 4 and with_compare.count("<circle ") == 12


def test_f1_bins():
    counts = f1_counts([0.0, 0.049, 0.05, 0.15, 0.3, 0.999, 1.0])
    assert len(counts) == 20
    assert [i for i, c in enumerate(counts) for _ in range(c)] == [0, 0, 1, 3, 6, 19, 19]


def test_a_large_evaluation_draws_an_even_sample_of_documents():
    n = 1500
    f = np.linspace(0, 1, n)
    scores = np.stack([np.stack([f, f, f], axis=1)] * len(METRICS), axis=1)
    results = [SystemResult(role=r, name=r, texts=["t"] * n, scores=scores, low=None, high=None, stats=STATS)
               for r in ("system", "oracle")]
    ids = [f"d{i}" for i in range(n)]
    report = build_report(ids=ids, metrics=METRICS, results=results, references=[["t"]] * n, reference_stats=STATS,
                          histogram={"edges": [0], "counts": {"system": [n]}}, paired=None, settings=SETTINGS)
    page = render_html(report, list(per_document_rows(ids, METRICS, results)))
    assert page.count("<circle ") == 1000 and "1000 of 1500 documents, evenly spaced." in page
    assert '<tr class="oracle"><td>oracle</td><td>upper bound</td>' in page


def test_overlapping_words_are_marked():
    stemmed = RougeTokenizer(use_stemmer=True, kind="unicode")
    assert highlight("The council approved the park budget.", "The council approves a new budget.",
                     tokenizer=stemmed) == ("<mark>The</mark> <mark>council</mark> <mark>approved</mark> "
                                            "<mark>the</mark> park <mark>budget</mark>.")
    plain = RougeTokenizer(use_stemmer=False, kind="unicode")
    assert highlight("Approved budgets", "approved budget", tokenizer=plain) == "<mark>Approved</mark> budgets"
    assert highlight("北京下雨了", "上海下雨", tokenizer=plain) == "北京<mark>下</mark><mark>雨</mark>了"
    assert highlight("a <b> & c", "b c", tokenizer=plain) == "a &lt;<mark>b</mark>&gt; &amp; <mark>c</mark>"
    page = render_html(*make_report())
    marked = re.findall(r"<mark>(.*?)</mark>", page)
    # d1 is the worst document: its summary, then its reference; no other summary shares a word with its reference
    assert marked == ["The", "council", "approved", "the", "budget", "The", "council", "approves", "budget"]


def test_every_user_string_is_escaped():
    report, rows = make_report(name=HOSTILE_NAME, ids=(HOSTILE_ID, "d2", "d3", "d4", "d5", "d6"),
                               first_text=HOSTILE_TEXT)
    page = render_html(report, rows)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;console.error(&quot;name&quot;)&lt;/script&gt;</td><td>evaluated</td>" in page
    assert "<h3>&lt;img src=x onerror=console.error(&quot;id&quot;)&gt; <span" in page
    assert "<p>&lt;script&gt;console.error(&quot;summary&quot;)&lt;/script&gt;</p>" in page
    assert "<title>&lt;script&gt;console.error(&quot;name&quot;)&lt;/script&gt;: 0-4: 2 texts</title>" in page


def test_nothing_is_fetched():
    page = render_html(*make_report(compare=True))
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"""(?:src|href|xlink:href)\s*=|url\(|@import|<link|<script|<iframe""", page, re.I)
    assert page.startswith("<!DOCTYPE html>") and page.count("<style>") == 1
