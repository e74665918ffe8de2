import json

import pytest

from workspace.errors import InputError
from contract import export_format as fmt
from contract.export_format import ExportInfo

INFO = ExportInfo(fingerprint="abc123", max_source_tokens=400, decode={"method": "beam", "beam_size": 4},
                  vocab_sha256="ffffffff", data_fingerprint="d41d8c")


def test_the_info_file_is_sorted_indented_json_of_every_field():
    assert INFO.to_json() == (
        '{\n'
        '  "data_fingerprint": "d41d8c",\n'
        '  "decode": {\n'
        '    "beam_size": 4,\n'
        '    "method": "beam"\n'
        '  },\n'
        '  "fingerprint": "abc123",\n'
        '  "max_source_tokens": 400,\n'
        '  "vocab_sha256": "ffffffff"\n'
        '}')


def test_the_info_round_trips():
    back = ExportInfo.from_json(INFO.to_json())
    assert back == INFO
    assert (back.fingerprint, back.max_source_tokens, back.decode, back.vocab_sha256, back.data_fingerprint) == (
        "abc123", 400, {"beam_size": 4, "method": "beam"}, "ffffffff", "d41d8c")


def test_data_fingerprint_is_optional_and_written_as_null():
    info = ExportInfo(fingerprint="f", max_source_tokens=1, decode={}, vocab_sha256="v")
    assert json.loads(info.to_json()) == {"data_fingerprint": None, "decode": {}, "fingerprint": "f",
                                          "max_source_tokens": 1, "vocab_sha256": "v"}
    # An info file written before data_fingerprint existed still loads.
    old = '{"decode": {}, "fingerprint": "f", "max_source_tokens": 1, "vocab_sha256": "v"}'
    assert ExportInfo.from_json(old) == info


def test_unknown_keys_from_a_newer_export_are_ignored():
    newer = json.loads(INFO.to_json()) | {"exported_by": "sumflow 9.9", "signatures": ["x"]}
    assert ExportInfo.from_json(json.dumps(newer)) == INFO


def test_a_missing_required_key_is_refused():
    text = '{"fingerprint": "x"}'
    with pytest.raises(InputError, match=r"^sumflow_export.json lacks max_source_tokens, decode, vocab_sha256: "
                                         r"not an export of this sumflow; export the model again"):
        ExportInfo.from_json(text)
    with pytest.raises(InputError, match=r"^sumflow_export.json is not valid JSON"):
        ExportInfo.from_json("{")


def test_the_info_is_frozen():
    with pytest.raises(AttributeError, match="cannot assign to field 'fingerprint'"):
        INFO.fingerprint = "other"


def test_file_names_and_what_a_complete_export_holds():
    assert fmt.INFO_FILE == "sumflow_export.json"
    assert fmt.FILES == ("saved_model.pb", "fingerprint.pb", "variables", "assets", "sumflow_export.json",
                         "_SUCCESS")
    assert fmt.REQUIRED == ("sumflow_export.json", "saved_model.pb", "_SUCCESS")
    assert set(fmt.REQUIRED) <= set(fmt.FILES)
    assert len(set(fmt.FILES)) == len(fmt.FILES)


def test_signature_and_tensor_names():
    assert (fmt.SUMMARIZE_SIGNATURE, fmt.COUNT_SIGNATURE, fmt.INPUT) == ("serving_default", "count_tokens", "texts")
    assert (fmt.SUMMARY, fmt.SOURCE_TOKENS, fmt.SUMMARY_TOKENS, fmt.TRUNCATED, fmt.TOKENS) == (
        "summary", "source_tokens", "summary_tokens", "truncated", "tokens")


def test_the_module_docstring_describes_the_same_names():
    doc = fmt.__doc__
    assert "serving_default(texts: string[batch]) -> {summary: string[batch], source_tokens: int32[batch]," in doc
    assert "summary_tokens: int32[batch], truncated: bool[batch]}" in doc
    assert "count_tokens(texts: string[batch]) -> {tokens: int32[batch]}" in doc
    assert "`sumflow_export.json` beside it (`ExportInfo`)" in doc
