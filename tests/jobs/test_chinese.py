"""Chinese end to end, from the CLI: preprocess (-c zh) -> train (tiny) -> export -> summarize -> evaluate."""

import glob
import json

import pytest
import regex

from tests.fixtures import TINY_MODEL, write_jsonl, zh_pairs
from tests.jobs.test_end_to_end import sumflow

HAN_SPACE_HAN = regex.compile(r"\p{Han}\s+\p{Han}")


@pytest.mark.slow
def test_chinese_pairs_from_preprocess_to_a_scored_report(tmp_path):
    records = zh_pairs(160)
    bad = [{"id": "short", "article": "短文。", "summary": "摘要很短。"},  # 2 characters < 30
           {"id": "no-summary", "article": records[0]["article"], "summary": " "},
           {"id": "copy", "article": records[1]["article"], "summary": records[1]["summary"]}]
    write_jsonl(tmp_path / "pairs.jsonl", records + bad, ensure_ascii=False)
    overrides = TINY_MODEL + ["train.epochs=1", "train.steps_per_epoch=8", "decode.max_length=12",
                              "decode.min_length=3", "tokenizer.vocab_size=500", "model.max_target_tokens=16",
                              "split.train=0.8", "split.validation=0.1", "split.test=0.1"]
    common = ["-c", "zh"] + sum((["--set", o] for o in overrides), [])
    sumflow("preprocess", *common, "-i", "pairs.jsonl", "-o", "data", cwd=tmp_path)
    manifest = json.load(open(tmp_path / "data" / "manifest.json"))
    assert manifest["counts"]["input"] == 163
    assert manifest["counts"]["written"] == 160
    assert manifest["counts"]["dropped"] == {"article_too_short": 1, "empty_summary": 1, "duplicate_exact": 1}
    letters = [json.loads(line) for path in glob.glob(str(tmp_path / "data" / "dead_letter" / "*.jsonl"))
               for line in open(path, encoding="utf-8")]
    assert {(d["id"], d["detail"]) for d in letters if d["reason"] == "article_too_short"} == {
        ("short", "2 characters < 30")}

    sumflow("train", *common, "--data-dir", "data", "--model-dir", "model", cwd=tmp_path)
    sumflow("export", *common, "--model-dir", "model", "--export-dir", "export", cwd=tmp_path)
    sumflow("summarize", *common, "-i", "data/data/test-*.tfrecord", "--format", "tfrecord",
            "--model-dir", "export", "-o", "summaries", cwd=tmp_path)
    rows = [json.loads(line) for path in glob.glob(str(tmp_path / "summaries" / "summaries" / "*.jsonl"))
            for line in open(path, encoding="utf-8")]
    assert len(rows) == manifest["splits"]["test"]["num_records"] > 0
    assert all(row["summary"].strip() for row in rows)
    assert any(regex.search(r"\p{Han}", row["summary"]) for row in rows)
    # The detokenizer inserts no space between pieces (round trips: tests/contract/test_tokenizer.py). An 8-step
    # model may itself emit a word-start piece ("▁X") mid-summary, which decodes to one space; pieces joined
    # by spaces would put one at nearly every piece boundary.
    spaced = sum(len(HAN_SPACE_HAN.findall(row["summary"])) for row in rows)
    boundaries = sum(row["summary_tokens"] - 1 for row in rows)
    assert spaced < boundaries / 4, (spaced, boundaries, [row["summary"] for row in rows])

    sumflow("evaluate", *common, "--predictions", "summaries/summaries/*.jsonl", "--references", "data",
            "--reference-split", "test", "-o", "evaluation", cwd=tmp_path)
    report = json.load(open(tmp_path / "evaluation" / "report.json"))
    assert report["documents"] == len(rows)
    assert report["settings"]["tokenizer"] == "unicode"  # one Han character a token
    lead = [s for s in report["systems"].values() if s["name"] == "lead-3"][0]
    assert lead["scores"]["rouge1"]["fmeasure"]["mean"] > 0.1  # Chinese text is scored, not dropped as non-ASCII
