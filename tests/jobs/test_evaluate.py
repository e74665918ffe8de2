"""`sumflow evaluate` through click: options, outputs, the printed table, and its errors."""

import json

import yaml
from click.testing import CliRunner

from jobs.cli import main
from tests.evaluation.test_evaluate import DOCS, write_jsonl


def _invoke(*args):
    return CliRunner().invoke(main, ["evaluate", *args], catch_exceptions=False)


def test_perfect_predictions_score_100(tmp_path):
    rows = [{"key": d["id"], "text": d["summary"], "gold": [d["summary"], "another reference"]} for d in DOCS]
    path = write_jsonl(tmp_path / "same.jsonl", rows)
    result = _invoke("--predictions", path, "--prediction-field", "text", "--reference-field", "gold",
                     "--id-field", "key", "-o", str(tmp_path / "out"), "--set", "evaluate.bootstrap_samples=20")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "| system | R-1 F1 | R-2 F1 | R-L F1 | R-Lsum F1 |"
    assert lines[2] == "| text | " + " | ".join(["100.00 [100.00, 100.00]"] * 4) + " |"


def test_all_options_and_the_written_files(tmp_path):
    docs = write_jsonl(tmp_path / "docs.jsonl", DOCS)
    references = write_jsonl(tmp_path / "refs.jsonl", [{"id": d["id"], "reference": d["reference"]} for d in DOCS])
    compare = write_jsonl(tmp_path / "other.jsonl", [{"id": d["id"], "sys": d["other"]} for d in DOCS])
    out = tmp_path / "out"
    result = _invoke("--predictions", docs, "--references", references, "--articles", docs, "--article-field",
                     "article", "--compare", compare, "--compare-field", "sys", "--oracle", "-o", str(out),
                     "--set", "evaluate.bootstrap_samples=100", "--set", "evaluate.workers=1")
    assert result.exit_code == 0, result.output
    report = json.loads((out / "report.json").read_text())
    assert list(report["systems"]) == ["system", "compare", "lead-3", "oracle"]
    assert report["paired_test"]["b"] == "sys"
    table = result.stdout.splitlines()
    assert [line.split(" | ")[0] for line in table[2:]] == ["| summary", "| sys", "| lead-3", "| oracle"]
    saved = yaml.safe_load((out / "config.yaml").read_text())["evaluate"]
    assert saved["predictions"] == docs and saved["compare"] == compare and saved["oracle"] is True
    assert saved["output_dir"] == str(out) and saved["bootstrap_samples"] == 100
    assert len((out / "per_document.jsonl").read_text().splitlines()) == 3


def test_missing_ids_exit_3_and_name_them(tmp_path):
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": d["id"], "summary": d["summary"]} for d in DOCS])
    references = write_jsonl(tmp_path / "r.jsonl", [{"id": "park", "reference": "x"}, {"id": "zoo", "reference": "y"}])
    result = _invoke("--predictions", predictions, "--references", references, "-o", str(tmp_path / "out"))
    assert result.exit_code == 3
    assert "2 predictions have no reference" in result.stderr and "'storm', 'library'" in result.stderr
    assert "1 references have no prediction" in result.stderr and "'zoo'" in result.stderr


def test_bad_config_exits_2(tmp_path):
    result = _invoke("--predictions", "p.jsonl", "--set", "evaluate.metrics=[rouge3]")
    assert result.exit_code == 2 and "unknown metric 'rouge3'" in result.output
    result = _invoke("--set", "evaluate.tokeniser=default")
    assert result.exit_code == 2 and "did you mean evaluate.tokenizer" in result.output


def test_a_path_that_looks_like_a_number_stays_a_path(tmp_path):
    result = _invoke("--predictions", "123", "-o", str(tmp_path / "out"))
    assert result.exit_code == 3 and "cannot read 123" in result.stderr


def test_examples_print_the_first_documents_by_id_after_the_table(tmp_path):
    docs = write_jsonl(tmp_path / "docs.jsonl", DOCS)
    out = tmp_path / "out"
    result = _invoke("--predictions", docs, "--articles", docs, "--examples", "2", "-o", str(out),
                     "--set", "evaluate.bootstrap_samples=0", "--set", "evaluate.workers=1")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[4:] == [
        "",
        "[library]",
        "  document : The city library will open on Sundays. Visitors asked for weekend hours. Staff will",
        "             rotate shifts.",
        "  reference: The library opens on Sundays from next month.",
        "  summary  : The library will open on Sundays after visitors asked.",
        "",
        "[park]",
        "  document : The council approved the new park budget on Tuesday. Residents had asked for more",
        "             trees. The vote was unanimous. Work starts in May.",
        "  reference: The council approved a new park budget. Construction begins in May.",
        "  summary  : The council approved the park budget. Work starts in May.",
    ]
    report = json.loads((out / "report.json").read_text())
    assert [e["id"] for e in report["examples"]] == ["library", "park"]


def test_no_examples_unless_asked(tmp_path):
    docs = write_jsonl(tmp_path / "docs.jsonl", DOCS)
    result = _invoke("--predictions", docs, "-o", str(tmp_path / "out"), "--set", "evaluate.bootstrap_samples=0")
    assert result.exit_code == 0, result.output
    assert len(result.stdout.splitlines()) == 3  # the table only (no articles: no lead-3 row)
