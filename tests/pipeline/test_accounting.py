from pipeline import stats
from pipeline.accounting import Accounting


def _lengths(split, *pairs):
    s = stats.empty_stats()
    for article, summary in pairs:
        stats.add_lengths(s, split, article, summary)
    return s


def test_accounting_combines_counts_and_lengths_in_any_grouping():
    fn = Accounting()
    elements = [("counts", {"input": 3, "dropped:empty": 1}), ("lengths", _lengths("train", (10, 2), (300, 40))),
                ("counts", {"input": 2}), ("lengths", _lengths("test", (5, 1))),
                ("lengths", _lengths("train", (20, 3)))]
    whole = fn.create_accumulator()
    for e in elements:
        whole = fn.add_input(whole, e)
    left, right = fn.create_accumulator(), fn.create_accumulator()
    for e in elements[:2]:
        left = fn.add_input(left, e)
    for e in elements[2:]:
        right = fn.add_input(right, e)
    merged = fn.extract_output(fn.merge_accumulators([left, fn.create_accumulator(), right]))
    assert merged == fn.extract_output(whole)
    assert merged["counts"] == {"input": 5, "dropped:empty": 1}
    assert merged["lengths"]["train"]["records"] == 3
    assert merged["lengths"]["train"]["article_max"] == 300 and merged["lengths"]["train"]["summary_sum"] == 45
    assert merged["lengths"]["test"]["records"] == 1


def test_accounting_of_nothing_is_empty():
    fn = Accounting()
    assert fn.extract_output(fn.merge_accumulators([fn.create_accumulator()])) == {"counts": {}, "lengths": {}}
