"""Raw pairs: one JSON line or CSV row -> a record, or a dead letter saying why not."""

from configs.schema import SourceConfig
from pipeline.sources import pair_record, parse_json_line
from workspace.errors import InputError


def _one(obj, **kwargs):
    (out,) = list(pair_record(obj, SourceConfig(), origin="f.jsonl", split="", **kwargs))
    return getattr(out, "value", out)


def test_a_pair_becomes_a_record_and_summary_sentences_are_joined_by_newlines():
    assert _one({"id": 7, "article": "A.", "summary": ["One.", "Two."]}) == {
        "id": "7", "article": "A.", "summary": "One.\nTwo.", "split": "", "origin": "f.jsonl"}


def test_each_bad_pair_is_a_dead_letter_with_its_reason():
    assert _one([1], fallback_id="row-3") == {"id": "row-3", "reason": "malformed", "detail": "not an object: [1]",
                                              "origin": "f.jsonl"}
    assert _one({"id": "x", "article": "A."}) == {"id": "x", "reason": "missing_field", "detail": "no 'summary'",
                                                  "origin": "f.jsonl"}
    assert _one({"id": "x", "article": 3, "summary": "S."}) == {
        "id": "x", "reason": "wrong_type", "detail": "'article' is int, expected a string: 3", "origin": "f.jsonl"}


def test_json_lines_blank_bom_null_and_unreadable():
    assert parse_json_line(b"\xef\xbb\xbf{\"a\": 1}", "f") == ({"a": 1}, None)
    assert parse_json_line(b"   ", "f") == (None, None)
    assert parse_json_line(b"null", "f")[1]["reason"] == "malformed"
    assert parse_json_line(b"\xff", "f")[1]["reason"] == "bad_encoding"
    assert parse_json_line(InputError("f is truncated"), "f")[1] == {
        "id": "f", "reason": "unreadable_file", "detail": "f is truncated", "origin": "f"}
