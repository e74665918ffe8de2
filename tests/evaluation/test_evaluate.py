"""Reading and joining the evaluation inputs, and the whole evaluation on hand-written documents."""

import json
import os

import numpy as np
import pytest

from configs.load import load_config
from configs.schema import EvaluateConfig
from evaluation.evaluate import EvaluationInputError, evaluate, load_evaluation_set, read_field, run
from evaluation.rouge import score_documents

DOCS = [
    {"id": "park", "article": "The council approved the new park budget on Tuesday. Residents had asked for more "
                              "trees. The vote was unanimous. Work starts in May.",
     "summary": "The council approved the park budget.\nWork starts in May.",
     "reference": "The council approved a new park budget.\nConstruction begins in May.",
     "other": "Residents asked for more trees."},
    {"id": "storm", "article": "A storm closed the coastal road overnight. Crews cleared fallen trees by noon. "
                               "Drivers were told to expect delays.",
     "summary": "A storm closed the coastal road.",
     "reference": ["A storm shut the coast road overnight.", "Storm closes coastal road; crews clear trees."],
     "other": "Crews cleared trees by noon."},
    {"id": "library", "article": "The city library will open on Sundays. Visitors asked for weekend hours. "
                                 "Staff will rotate shifts.",
     "summary": "The library will open on Sundays after visitors asked.",
     "reference": "The library opens on Sundays from next month.",
     "other": "The city library will open on Sundays."},
]


def write_jsonl(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row) + "\n")
    return str(path)


def test_read_field_errors_name_the_line(tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", [{"id": 1, "summary": "s"}, {"id": 1, "summary": "t"}])
    with pytest.raises(EvaluationInputError, match=r"x.jsonl:2: id '1' appears twice"):
        read_field(path, field="summary", id_field="id")
    path = write_jsonl(tmp_path / "y.jsonl", [{"id": "a", "text": "s"}])
    with pytest.raises(EvaluationInputError, match=r"y.jsonl:1: needs the fields 'id' and 'summary'; it has"):
        read_field(path, field="summary", id_field="id")
    (tmp_path / "z.jsonl").write_text('{"id": "a", "summary": "s"}\n\n{not json\n')
    with pytest.raises(EvaluationInputError, match=r"z.jsonl:3: not a JSON object"):
        read_field(str(tmp_path / "z.jsonl"), field="summary", id_field="id")
    path = write_jsonl(tmp_path / "r.jsonl", [{"id": "a", "reference": []}])
    with pytest.raises(EvaluationInputError, match="a string or a non-empty list of strings"):
        read_field(path, field="reference", id_field="id", many=True)
    with pytest.raises(EvaluationInputError, match="cannot read"):
        read_field(str(tmp_path / "absent.jsonl"), field="summary", id_field="id")
    path = write_jsonl(tmp_path / "ok.jsonl", [{"id": 7, "reference": "one"}, {"id": "b", "reference": ["x", "y"]}])
    assert read_field(path, field="reference", id_field="id", many=True) == {"7": ("one",), "b": ("x", "y")}


def test_ids_that_do_not_line_up_are_listed(tmp_path):
    predictions = write_jsonl(tmp_path / "p.jsonl", [{"id": f"p{i}", "summary": "s"} for i in range(8)])
    references = write_jsonl(tmp_path / "r.jsonl", [{"id": f"p{i}", "reference": "r"} for i in range(2, 9)])
    config = EvaluateConfig(predictions=predictions, references=references)
    with pytest.raises(EvaluationInputError) as error:
        load_evaluation_set(config)
    message = str(error.value)
    assert "2 predictions have no reference; missing from" in message and "'p0', 'p1'" in message
    assert "1 references have no prediction; missing from" in message and "'p8'" in message


def test_join_follows_the_predictions_order(tmp_path):
    path = write_jsonl(tmp_path / "docs.jsonl", DOCS)
    references = write_jsonl(tmp_path / "refs.jsonl", [{"id": d["id"], "gold": d["reference"]} for d in DOCS[::-1]])
    data = load_evaluation_set(EvaluateConfig(predictions=path, references=references, reference_field="gold",
                                              articles=path, compare_field="other"))
    assert data.ids == ("park", "storm", "library")
    assert data.references[1] == tuple(DOCS[1]["reference"])
    assert data.compare == tuple(d["other"] for d in DOCS)
    assert data.articles[2] == DOCS[2]["article"]


def test_evaluate_scores_every_system(tmp_path):
    path = write_jsonl(tmp_path / "docs.jsonl", DOCS)
    config = EvaluateConfig(predictions=path, articles=path, compare_field="other", oracle=True, workers=1,
                            bootstrap_samples=200)
    report, rows = evaluate(load_evaluation_set(config), config=config)
    assert list(report["systems"]) == ["system", "compare", "lead-3", "oracle"]
    references = [[d["reference"]] if isinstance(d["reference"], str) else d["reference"] for d in DOCS]
    expected = score_documents(predictions=[d["summary"] for d in DOCS], references=references)
    for m, metric in enumerate(config.metrics):
        assert report["systems"]["system"]["scores"][metric]["fmeasure"]["mean"] == expected[:, m, 2].mean()
        assert rows[0]["system"][metric]["fmeasure"] == expected[0, m, 2]
    # The lead-3 of "storm" is its whole article, and its unigram novelty is zero by construction.
    assert report["systems"]["lead-3"]["novel_ngrams"]["1"] == 0.0
    assert report["systems"]["system"]["novel_ngrams"]["1"] == pytest.approx(1 / 25)  # of 25 words, "after" is new
    assert report["paired_test"]["a"] == "summary" and report["paired_test"]["b"] == "other"
    assert report["settings"]["split_by_regex"] == {"predictions": 2, "references": 3}
    oracle_f = report["systems"]["oracle"]["scores"]["rouge1"]["fmeasure"]["mean"]
    assert oracle_f >= report["systems"]["lead-3"]["scores"]["rouge1"]["fmeasure"]["mean"]


def test_oracle_needs_articles(tmp_path):
    path = write_jsonl(tmp_path / "docs.jsonl", DOCS)
    config = EvaluateConfig(predictions=path, oracle=True)
    with pytest.raises(EvaluationInputError, match="--articles"):
        evaluate(load_evaluation_set(config), config=config)


def test_run_writes_the_report_files(tmp_path):
    path = write_jsonl(tmp_path / "docs.jsonl", DOCS)
    out = tmp_path / "out"
    config = load_config(overrides=[f"evaluate.predictions={path}", f"evaluate.output_dir={out}",
                                    "evaluate.bootstrap_samples=50", "evaluate.workers=1"])
    report = run(config=config)
    assert sorted(os.listdir(out)) == [".sumflow-owned.json", ".sumflow.lock", "_SUCCESS", "config.yaml",
                                       "per_document.jsonl", "report.html", "report.json", "report.md"]
    assert json.loads((out / "report.json").read_text()) == report
    rows = [json.loads(line) for line in (out / "per_document.jsonl").read_text().splitlines()]
    assert [r["id"] for r in rows] == ["park", "storm", "library"]
    assert np.isclose(np.mean([r["system"]["rouge1"]["fmeasure"] for r in rows]),
                      report["systems"]["system"]["scores"]["rouge1"]["fmeasure"]["mean"])
    assert load_config([str(out / "config.yaml")]) == config
    assert "# ROUGE report" in (out / "report.md").read_text()
    assert "<h1>ROUGE report: summary</h1>" in (out / "report.html").read_text()
