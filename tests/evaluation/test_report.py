"""The report dict, its Markdown page and the per-document rows, from hand-made scores."""

import json

import numpy as np

from evaluation.report import SystemResult, build_report, per_document_rows, render_markdown, render_table

METRICS = ("rouge1", "rougeLsum")
IDS = ["d1", "d2", "d3", "d4", "d5", "d6"]
REFERENCES = [[f"reference {i}"] for i in range(6)]
STATS = {"length": [3, 4, 5, 6, 7, 8], "novel": {1: 0.5, 2: 0.75, 3: 1.0, 4: 1.0},
         "repeated": {1: 0.25, 2: 0.0, 3: 0.0, 4: 0.0},
         "with_repeat": {1: 0.5, 2: 0.0, 3: 0.0, 4: 0.0}, "empty": 0.0, "back_to_back": 0.125,
         "repeated_content_word": 0.25}


def _result(role, name, f_values, *, intervals=True):
    f = np.asarray(f_values, dtype=float)
    scores = np.stack([np.stack([f / 2, f, f], axis=1)] * len(METRICS), axis=1)  # (documents, metrics, P/R/F)
    low = scores.mean(axis=0) - 0.01 if intervals else None
    high = scores.mean(axis=0) + 0.01 if intervals else None
    return SystemResult(role=role, name=name, texts=[f"summary {i}\nline two" for i in range(len(f))],
                        scores=scores, low=low, high=high, stats=STATS)


def _report(**kwargs):
    results = [_result("system", "mine", [0.1, 0.6, 0.3, 0.9, 0.3, 0.5]),
               _result("lead-3", "lead-3", [0.2] * 6, intervals=False)]
    paired = {"a": "mine", "b": "lead-3", "samples": 10, "seed": 0,
              "metrics": {m: {"delta": 0.25, "low": 0.1, "high": 0.4, "p_value": 0.02, "a_wins": 0.97}
                          for m in METRICS}}
    settings = {"metrics": list(METRICS), "tokenizer": "unicode", "use_stemmer": True, "bootstrap_samples": 10,
                "confidence": 0.95, "seed": 0, "lead_k": 3, "rouge_score_version": "0.1.2",
                "split_by_regex": {"predictions": 0, "references": 2}}
    return results, build_report(ids=IDS, metrics=METRICS, results=results, references=REFERENCES,
                                 reference_stats=STATS, histogram={"edges": [0, 5], "counts": {"mine": [2, 4]}},
                                 paired=paired, settings={**settings, **kwargs})


def test_report_holds_every_figure():
    _, report = _report()
    json.dumps(report)  # plain JSON types only
    mine = report["systems"]["system"]
    assert mine["name"] == "mine"
    f = mine["scores"]["rougeLsum"]["fmeasure"]
    assert f["mean"] == np.mean([0.1, 0.6, 0.3, 0.9, 0.3, 0.5])
    assert (f["low"], f["high"]) == (f["mean"] - 0.01, f["mean"] + 0.01)
    assert mine["scores"]["rouge1"]["precision"]["mean"] == f["mean"] / 2
    assert report["systems"]["lead-3"]["scores"]["rouge1"]["recall"] == {"mean": np.mean([0.2] * 6), "low": None,
                                                                         "high": None}
    assert mine["length"] == {"mean": 5.5, "median": 5.5, "min": 3, "max": 8}
    assert mine["novel_ngrams"] == {"1": 0.5, "2": 0.75, "3": 1.0, "4": 1.0}
    assert (mine["summaries_with_back_to_back_word"], mine["summaries_with_repeated_content_word"]) == (0.125, 0.25)
    assert report["documents"] == 6 and report["ranked_by"] == "rougeLsum"


def test_worst_and_best_documents_by_rouge_lsum():
    _, report = _report()
    assert [r["id"] for r in report["worst"]] == ["d1", "d3", "d5", "d6", "d2"]  # the 0.3 tie in id order
    assert [r["id"] for r in report["best"]] == ["d4", "d2", "d6", "d5", "d3"]
    assert report["worst"][0] == {"id": "d1", "rouge1": 0.1, "rougeLsum": 0.1, "prediction": "summary 0\nline two",
                                  "reference": "reference 0"}


def test_markdown_page():
    _, report = _report()
    page = render_markdown(report)
    assert "| mine | 45.00 [44.00, 46.00] | 45.00 [44.00, 46.00] |" in page
    assert "| lead-3 | 20.00 | 20.00 |" in page
    assert "| mine | 22.50 / 45.00 | 22.50 / 45.00 |" in page
    assert "| R-Lsum | 25.00 | [10.00, 40.00] | 0.0200 | 97.0% |" in page
    assert "0 predictions and 2 references had no newline" in page
    assert "| d1 | 10.00 | 10.00 | summary 0 / line two | reference 0 |" in page
    assert "| reference | 50.0 | 75.0 | 100.0 | 100.0 |" in page  # novel n-grams
    assert "| mine | 0.0 | 12.5 | 25.0 | 50.0 | 0.0 | 0.0 | 0.0 |" in page  # empty, words, then n-grams
    assert "        0-4 " + "█" * 20 + " " * 21 + "2\n" in page  # bars scaled to the largest count
    assert "       >= 5 " + "█" * 40 + " 4\n" in page
    assert render_table(report).splitlines()[0] == "| system | R-1 F1 | R-Lsum F1 |"


def test_per_document_rows():
    results, _ = _report()
    rows = list(per_document_rows(IDS, METRICS, results))
    assert len(rows) == 6
    assert rows[1] == {"id": "d2",
                       "system": {m: {"precision": 0.3, "recall": 0.6, "fmeasure": 0.6} for m in METRICS},
                       "lead-3": {m: {"precision": 0.1, "recall": 0.2, "fmeasure": 0.2} for m in METRICS}}


def test_every_user_string_is_escaped_in_markdown():
    results, _ = _report()
    hostile = SystemResult(role="system", name="a|b <script>alert(1)</script>", texts=["<img src=x onerror=y> *b*"] * 6,
                           scores=results[0].scores, low=None, high=None, stats=STATS)
    report = build_report(ids=["<i>1</i>", "d|2", "d3", "d4", "d5", "d6"], metrics=METRICS, results=[hostile],
                          references=[["`code` [link](http://x)"]] * 6, reference_stats=STATS,
                          histogram={"edges": [0, 5], "counts": {"a|b ```": [2, 4]}}, paired=None,
                          settings=_report()[1]["settings"])
    page = render_markdown(report)
    assert "<script>" not in page and "<img" not in page and "<i>" not in page
    assert "| a\\|b &lt;script&gt;alert(1)&lt;/script&gt; | 45.00 | 45.00 |" in page
    assert "| &lt;i&gt;1&lt;/i&gt; |" in page and "| d\\|2 |" in page
    assert "\\`code\\` \\[link\\](http://x)" in page and "\\*b\\*" in page
    assert "a|b '''" in page  # inside the histogram's code fence: no fence break


def test_examples_clip_long_articles_at_a_word_and_mark_empty_summaries():
    from evaluation.report import EXAMPLE_ARTICLE_CHARS, examples, render_examples
    article = "word " * 100
    rows = examples(["b", "a"], articles=[article, "short  text"], references=[["r b"], ["r a"]],
                    predictions=["s b", ""], count=5)
    assert [r["id"] for r in rows] == ["a", "b"]
    assert rows[0]["article"] == "short text"
    assert rows[1]["article"].endswith(" …") and len(rows[1]["article"]) <= EXAMPLE_ARTICLE_CHARS + 2
    assert render_examples({"examples": rows}).splitlines()[4] == "  summary  : (empty)"
    assert render_examples({"examples": []}) == ""
