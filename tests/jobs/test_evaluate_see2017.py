"""`sumflow evaluate` on the CNN/DailyMail test set against See et al. (2017), Table 1 (ROUGE-1.5.5).

Measured with this code (rouge-score 0.1.2, stemming, unicode tokenizer), F1 x100, R-1 / R-2 / R-Lsum:
  seq2seq+attention baseline  31.08 / 11.77 / 28.64   published 31.33 / 11.81 / 28.83   gap -0.25 / -0.04 / -0.19
  pointer-generator           36.18 / 15.61 / 33.23   published 36.44 / 15.66 / 33.42   gap -0.26 / -0.05 / -0.19
  pointer-gen + coverage      39.26 / 17.22 / 36.17   published 39.53 / 17.28 / 36.38   gap -0.27 / -0.06 / -0.21
  lead-3 (our splitter)       40.07 / 17.49 / 36.37   published 40.34 / 17.70 / 36.57   gap -0.27 / -0.21 / -0.20
Every figure lands a little below. The cause is stemming, not tokenization (ROUGE-1.5.5 also keeps only
[a-z0-9] runs and drops PTB's `` '' and "-" tokens): with -m, ROUGE-1.5.5 first looks words up in WordNet's
exception list (said -> say, told -> tell, children -> child) and only then runs its Porter stemmer. Adding
~120 such irregular forms to rouge-score's stemmer brought all three systems within 0.06 of the paper.
"""

import json

import pytest
from rouge_score import tokenizers

from configs.load import load_config
from evaluation.evaluate import run
from evaluation.rouge import RougeTokenizer
from tests.conftest import shared_data

TOLERANCE = 0.35  # points of F1; the largest measured gap is 0.27
PUBLISHED = {  # R-L (= rougeLsum: summary-level LCS on one sentence a line)
    "see2017_baseline_seq2seq_attn": (31.33, 11.81, 28.83),
    "see2017_pointer_gen": (36.44, 15.66, 33.42),
    "see2017_pointer_gen_coverage": (39.53, 17.28, 36.38),
    "lead-3": (40.34, 17.70, 36.57),
}


def _f1(entry):
    return tuple(100 * entry["scores"][m]["fmeasure"]["mean"] for m in ("rouge1", "rouge2", "rougeLsum"))


def _check(name, measured):
    gaps = [round(m - p, 2) for m, p in zip(measured, PUBLISHED[name])]
    assert all(abs(g) <= TOLERANCE for g in gaps), f"{name}: measured {measured}, gaps {gaps}"


@pytest.mark.slow
def test_see2017_systems_and_lead3_reproduce_the_paper(tmp_path):
    outputs = shared_data("cnndm_test_see2017", "test_system_outputs.jsonl")
    articles = shared_data("cnndm_test_see2017", "test.jsonl")
    common = [f"evaluate.predictions={outputs}", "evaluate.metrics=[rouge1,rouge2,rougeLsum]",
              "evaluate.bootstrap_samples=200"]
    report = run(config=load_config(overrides=common + [
        "evaluate.prediction_field=see2017_pointer_gen_coverage", "evaluate.compare_field=see2017_pointer_gen",
        f"evaluate.articles={articles}", f"evaluate.output_dir={tmp_path / 'coverage'}"]))
    assert report["documents"] == 11490
    _check("see2017_pointer_gen_coverage", _f1(report["systems"]["system"]))
    _check("see2017_pointer_gen", _f1(report["systems"]["compare"]))
    _check("lead-3", _f1(report["systems"]["lead-3"]))
    assert all(t["p_value"] < 0.001 for t in report["paired_test"]["metrics"].values())  # coverage helps

    report = run(config=load_config(overrides=common + [
        "evaluate.prediction_field=see2017_baseline_seq2seq_attn", "evaluate.lead_k=0",
        f"evaluate.output_dir={tmp_path / 'baseline'}"]))
    _check("see2017_baseline_seq2seq_attn", _f1(report["systems"]["system"]))


@pytest.mark.slow
def test_unicode_tokenizer_equals_rouge_score_on_every_ascii_text():
    ours, theirs = RougeTokenizer(use_stemmer=True), tokenizers.DefaultTokenizer(use_stemmer=True)
    checked = differ = 0
    with open(shared_data("cnndm_test_see2017", "test_system_outputs.jsonl"), encoding="utf-8") as f:
        for line in f:
            for key, text in json.loads(line).items():
                if key == "id":
                    continue
                same = ours.tokenize(text) == theirs.tokenize(text)
                if text.isascii():
                    assert same, text
                    checked += 1
                differ += not same
    assert checked > 40_000
    assert differ < 300  # 229 measured: texts with accented letters (café), which rouge-score cuts apart
