import apache_beam as beam
import pytest
from apache_beam.metrics.metric import MetricsFilter

from pipeline.dead_letters import (DIRECTORY, NAMESPACE, UNREADABLE, check_readable, dead_letter, to_json,
                                   unreadable)
from tests.fixtures import local_pipeline
from workspace.errors import InputError


def test_a_dead_letter_has_four_fields_with_empty_defaults():
    assert dead_letter(id="doc-1", reason="malformed") == {"id": "doc-1", "reason": "malformed", "detail": "",
                                                           "origin": ""}
    assert dead_letter(id="d", reason="r", detail="why", origin="a.jsonl") == {"id": "d", "reason": "r",
                                                                               "detail": "why", "origin": "a.jsonl"}


def test_the_detail_keeps_its_first_300_characters():
    letter = dead_letter(id="d", reason="malformed", detail="x" * 299 + "yz")
    assert letter["detail"] == "x" * 299 + "y"


def test_dead_letter_takes_keywords_only():
    with pytest.raises(TypeError):
        dead_letter("d", "malformed")


def test_an_unreadable_file_is_its_own_id_and_origin():
    letter = unreadable("/in/a.jsonl.gz", InputError("/in/a.jsonl.gz cannot be read to its end: EOFError"))
    assert letter == {"id": "/in/a.jsonl.gz", "reason": "unreadable_file",
                      "detail": "/in/a.jsonl.gz cannot be read to its end: EOFError", "origin": "/in/a.jsonl.gz"}


def test_to_json_sorts_keys_and_keeps_non_ascii_text():
    letter = dead_letter(id="caf\u00e9", reason="bad_encoding", detail='a "quote"', origin="d/\u00fc.txt")
    assert to_json(letter) == ('{"detail": "a \\"quote\\"", "id": "caf\u00e9", "origin": "d/\u00fc.txt", '
                               '"reason": "bad_encoding"}')


def test_dead_letters_are_counted_by_reason_in_beam_metrics():
    with local_pipeline() as p:
        _ = (p | beam.Create(["a", "b", "c"])
             | beam.Map(lambda i: dead_letter(id=i, reason="malformed" if i != "c" else "missing_field")))
    result = p.result
    counters = result.metrics().query(MetricsFilter().with_namespace(NAMESPACE))["counters"]
    assert sorted((c.key.metric.name, c.committed) for c in counters) == [("dropped_malformed", 2),
                                                                          ("dropped_missing_field", 1)]


def _write_letters(directory, name, letters):
    (directory / DIRECTORY).mkdir(exist_ok=True)
    (directory / DIRECTORY / name).write_text("".join(to_json(letter) + "\n" for letter in letters),
                                              encoding="utf-8")


def test_check_readable_passes_without_unreadable_counts_and_reads_nothing(tmp_path):
    missing = str(tmp_path / "never-written")
    assert check_readable({}, missing) is None
    assert check_readable({"dropped:malformed": 4, f"dropped:{UNREADABLE}": 0}, missing) is None


def test_check_readable_names_the_unreadable_file(tmp_path):
    _write_letters(tmp_path, "dropped-00000-of-00001.jsonl", [
        dead_letter(id="x", reason="malformed", detail="Expecting value", origin="/in/a.jsonl"),
        unreadable("/in/b.jsonl.gz", InputError("/in/b.jsonl.gz cannot be read to its end: EOFError: ended")),
    ])
    with pytest.raises(InputError) as raised:
        check_readable({"dropped:malformed": 1, f"dropped:{UNREADABLE}": 1}, str(tmp_path))
    assert str(raised.value) == ("/in/b.jsonl.gz cannot be read to its end: EOFError: ended "
                                 "(1 unreadable input file(s); nothing was marked complete)")
    assert raised.value.exit_code == 3


def test_check_readable_fails_even_when_the_letters_are_missing(tmp_path):
    _write_letters(tmp_path, "dropped-00000-of-00001.jsonl",
                   [dead_letter(id="x", reason="malformed", origin="/in/a.jsonl")])
    with pytest.raises(InputError) as raised:
        check_readable({f"dropped:{UNREADABLE}": 2}, str(tmp_path))
    assert str(raised.value) == ("input files could not be read to their end "
                                 "(2 unreadable input file(s); nothing was marked complete)")

