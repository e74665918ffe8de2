"""Lead-k and the greedy extractive oracle on hand-written articles."""

from evaluation.baselines import lead, oracle, oracle_summaries
from evaluation.rouge import DocumentScorer, RougeTokenizer

ARTICLE = "Alpha beta gamma. Unrelated words here. Delta epsilon zeta. Closing remarks follow."


def test_lead_takes_the_first_sentences_one_a_line():
    assert lead(ARTICLE, k=3) == "Alpha beta gamma.\nUnrelated words here.\nDelta epsilon zeta."
    assert lead("Only one sentence here.", k=3) == "Only one sentence here."
    assert lead("the first . the second . the third . the fourth .", k=2) == "the first .\nthe second ."
    assert lead("Line one\nLine two\nLine three", k=2) == "Line one\nLine two"
    assert lead("", k=3) == ""


def test_oracle_picks_the_matching_sentences_in_article_order():
    tokenizer = RougeTokenizer()
    summary = oracle(ARTICLE, ["delta epsilon zeta and alpha beta gamma"], tokenizer=tokenizer)
    assert summary == "Alpha beta gamma.\nDelta epsilon zeta."
    assert oracle(ARTICLE, ["unrelated words here"], tokenizer=tokenizer) == "Unrelated words here."
    assert oracle(ARTICLE, ["nothing in common"], tokenizer=tokenizer) == ""


def test_oracle_stops_when_another_sentence_would_lower_the_score():
    # Sentence 1 alone: R-1 F 0.8 (6 of 6 words match, 6 of 9 found) + R-2 F 6/13 (3 of 5 and 3 of 8 bigrams).
    # With sentence 2 too: R-1 F 0.64 (8 of 16, 8 of 9) + R-2 F 10/23 (5 of 15, 5 of 8), a lower sum.
    article = "The cat sat on the mat. The weather in the city was very cold and grey."
    summary = oracle(article, ["the cat sat on a mat in the city"], tokenizer=RougeTokenizer())
    assert summary == "The cat sat on the mat."
    scores = DocumentScorer(metrics=("rouge1", "rouge2")).score(summary, ["the cat sat on a mat in the city"])
    assert abs(scores[0, 2] + scores[1, 2] - (0.8 + 6 / 13)) < 1e-12


def test_oracle_uses_the_best_reference():
    summary = oracle(ARTICLE, ["closing remarks follow", "unrelated words here ."], tokenizer=RougeTokenizer())
    assert summary in ("Unrelated words here.", "Closing remarks follow.")
    assert summary == "Unrelated words here."  # a tie keeps the earlier sentence


def test_oracle_summaries_in_processes_match_one_process():
    articles = [ARTICLE, "The cat sat on the mat. The weather was cold.", "", "Delta epsilon zeta."] * 2
    references = [["delta epsilon zeta"], ["the cat sat"], ["anything"], ["zeta"]] * 2
    one = oracle_summaries(articles=articles, references=references, workers=1)
    many = oracle_summaries(articles=articles, references=references, workers=2, chunk_size=1)
    assert one == many
    assert one[:4] == ["Delta epsilon zeta.", "The cat sat on the mat.", "", "Delta epsilon zeta."]
