from pipeline import stats


def test_lengths_fall_into_their_bins_and_summarize_to_means_and_histograms():
    s = stats.empty_stats()
    for article, summary in ((7, 1), (8, 2), (300, 40), (5000, 8)):
        stats.add_lengths(s, "train", article, summary)
    summary = stats.summarize(s)["train"]
    assert summary["records"] == 4
    assert summary["article_tokens"]["mean"] == round((7 + 8 + 300 + 5000) / 4, 1)
    assert summary["article_tokens"]["max"] == 5000 and summary["summary_tokens"]["max"] == 40
    histogram = summary["article_tokens"]["histogram"]
    assert histogram["<8"] == 1 and histogram["8-15"] == 1 and histogram["256-383"] == 1
    assert histogram[">=4096"] == 1 and sum(histogram.values()) == 4
    assert summary["summary_tokens"]["histogram"]["<8"] == 2 and summary["summary_tokens"]["histogram"]["8-15"] == 1


def test_merge_adds_counts_and_keeps_maxima_without_changing_its_inputs():
    a, b = stats.empty_stats(), stats.empty_stats()
    stats.add_lengths(a, "train", 10, 2)
    stats.add_lengths(b, "train", 30, 1)
    stats.add_lengths(b, "test", 4, 4)
    merged = stats.merge([a, b])
    assert merged["train"]["records"] == 2 and merged["train"]["article_sum"] == 40
    assert merged["train"]["article_max"] == 30 and merged["train"]["summary_max"] == 2
    assert merged["test"]["records"] == 1
    assert a["train"]["records"] == 1  # inputs untouched
