import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from configs.schema import SummarizeConfig
from contract.example_proto import Example
from contract.records import encode_example
from contract.tfrecord import write_records
from pipeline.dead_letters import DROPPED, RECORDS
from pipeline.documents import ReadDocuments, _ParseJsonDocument, _parse_tfrecord_document, document_files
from tests.fixtures import local_pipeline
from workspace.errors import InputError


def _parse(line, cfg=SummarizeConfig()):
    return list(_ParseJsonDocument(cfg).process(("in.jsonl:3", line)))  # line 3 of in.jsonl


def _dropped(outputs):
    (only,) = outputs
    assert only.tag == DROPPED
    return only.value


def test_document_files_needs_an_input():
    with pytest.raises(InputError) as raised:
        document_files(SummarizeConfig())
    assert str(raised.value) == "summarize: give the documents to summarize (--input FILE_OR_GLOB)"


def test_document_files_matches_globs_in_order_and_folders_only_for_text_dirs(tmp_path):
    for name in ("b.jsonl", "a.jsonl", "c.txt"):
        (tmp_path / name).write_text("{}\n")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "d.txt").write_text("d")
    assert document_files(SummarizeConfig(inputs=(str(tmp_path / "*.jsonl"), str(tmp_path / "c.txt")))) == [
        str(tmp_path / "a.jsonl"), str(tmp_path / "b.jsonl"), str(tmp_path / "c.txt")]
    assert document_files(SummarizeConfig(inputs=(str(tmp_path / "sub"),), format="text_dir")) == [
        str(tmp_path / "sub" / "d.txt")]
    with pytest.raises(InputError) as raised:
        document_files(SummarizeConfig(inputs=(str(tmp_path / "sub"),)))
    assert str(raised.value) == (f"summarize.inputs: {tmp_path / 'sub'} is a folder; give files or a glob, "
                                 f"e.g. {tmp_path / 'sub' / '*.jsonl'}")
    with pytest.raises(InputError) as raised:
        document_files(SummarizeConfig(inputs=(str(tmp_path / "*.csv"),)))
    assert str(raised.value) == f"summarize.inputs: no files match {str(tmp_path / '*.csv')!r}"


def test_a_json_document_keeps_its_id_with_its_type_or_gets_its_position():
    assert _parse(b'{"id": "d1", "article": "Text one."}') == [
        {"id": "d1", "text": "Text one.", "origin": "in.jsonl:3"}]
    # a missing id, a null one and an empty one alike: the document's position
    for line in (b'{"article": "Text two."}', b'{"id": null, "article": "Text two."}',
                 b'{"id": "", "article": "Text two."}'):
        assert _parse(line) == [{"id": "in.jsonl:3", "text": "Text two.", "origin": "in.jsonl:3"}]
    assert _parse(b'{"id": 0, "article": "z"}') == [{"id": 0, "text": "z", "origin": "in.jsonl:3"}]
    assert _parse(b'{"id": "0", "article": "z"}') == [{"id": "0", "text": "z", "origin": "in.jsonl:3"}]


def test_json_documents_use_the_configured_fields_and_skip_a_byte_order_mark():
    cfg = SummarizeConfig(id_field="key", text_field="body")
    assert _parse(b'\xef\xbb\xbf{"key": "k", "body": "B", "article": "ignored"}', cfg) == [
        {"id": "k", "text": "B", "origin": "in.jsonl:3"}]


def test_blank_lines_are_layout_not_documents():
    assert _parse(b"") == []
    assert _parse(b"  \t ") == []


@pytest.mark.parametrize("line, letter", [
    (b"{bad", {"id": "sha1:94a2a02a8894c8471063", "reason": "malformed",
               "detail": "Expecting property name enclosed in double quotes: line 1 column 2 (char 1): {bad"}),
    (b"null", {"id": "sha1:2be88ca4242c76e8253a", "reason": "malformed", "detail": "null"}),
    (b"[1, 2]", {"id": "in.jsonl:3", "reason": "malformed", "detail": "not an object: [1, 2]"}),
    (b'{"id": "d2"}', {"id": "d2", "reason": "missing_field", "detail": "no text field 'article'"}),
    (b'{"article": null}', {"id": "in.jsonl:3", "reason": "missing_field", "detail": "no text field 'article'"}),
    (b'{"id": 0}', {"id": 0, "reason": "missing_field", "detail": "no text field 'article'"}),  # id 0 is an id
    (b'{"id": 7, "article": 3}', {"id": 7, "reason": "wrong_type",
                                  "detail": "'article' is int, expected a string"}),
    (b"\xff\xfe", {"id": "sha1:39e58d30452a4ef640e9", "reason": "bad_encoding",
                   "detail": "'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"}),
])
def test_a_bad_json_line_is_a_dead_letter_with_its_reason(line, letter):
    assert _dropped(_parse(line)) == {**letter, "origin": "in.jsonl:3"}


def test_a_file_that_cannot_be_read_to_its_end_is_an_unreadable_dead_letter():
    assert _dropped(_parse(InputError("in.jsonl cannot be read to its end"))) == {
        "id": "in.jsonl:3", "reason": "unreadable_file", "detail": "in.jsonl cannot be read to its end",
        "origin": "in.jsonl:3"}


def _example_without_id(text):
    example = Example()
    example.features.feature["article"].bytes_list.value.append(text.encode("utf-8"))
    return example.SerializeToString()


def test_tfrecord_documents_and_their_dead_letters():
    cfg = SummarizeConfig(format="tfrecord")

    def parse(serialized):
        return list(_parse_tfrecord_document(("r.tfrecord" if isinstance(serialized, InputError)
                                              else "r.tfrecord:2", serialized), cfg))

    record = encode_example(id="t1", article="Art one", summary="S.", article_ids=[5], summary_ids=[6])
    assert parse(record) == [{"id": "t1", "text": "Art one", "origin": "r.tfrecord:2"}]
    assert parse(_example_without_id("Doc text")) == [  # no id: its position
        {"id": "r.tfrecord:2", "text": "Doc text", "origin": "r.tfrecord:2"}]
    empty_id = encode_example(id="", article="Doc text", summary="S.", article_ids=[5], summary_ids=[6])
    assert parse(empty_id)[0]["id"] == "r.tfrecord:2"  # an empty id is no id, as in JSONL
    assert _dropped(parse(b"garbage")) == {
        "id": "r.tfrecord:2", "reason": "malformed", "origin": "r.tfrecord:2",
        "detail": "DecodeError: Error parsing message with type 'tensorflow.Example'"}
    assert _dropped(parse(Example().SerializeToString())) == {  # a valid Example without the text feature
        "id": "r.tfrecord:2", "reason": "malformed", "origin": "r.tfrecord:2",
        "detail": "IndexError: list index out of range"}
    assert _dropped(parse(InputError("r.tfrecord: truncated"))) == {
        "id": "r.tfrecord", "reason": "unreadable_file", "detail": "r.tfrecord: truncated", "origin": "r.tfrecord"}


def _ids_and_texts(result):
    return result[RECORDS] | "IdText" >> beam.Map(lambda d: (d["id"], d["text"], d["origin"]))


def _reasons(result):
    return result[DROPPED] | "IdReason" >> beam.Map(lambda d: (d["id"], d["reason"], d["origin"]))


def test_read_documents_from_jsonl_files(tmp_path):
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_bytes(b'{"id": "a1", "article": "Alpha text."}\n\n{broken\n{"id": "a2", "article": "Beta."}\n')
    second.write_bytes(b'{"id": "b1", "article": "Gamma."}\n{"id": "b2"}')  # no final newline
    cfg = SummarizeConfig(inputs=(str(tmp_path / "*.jsonl"),))
    with local_pipeline() as p:
        result = p | ReadDocuments(cfg)
        assert_that(_ids_and_texts(result), equal_to([("a1", "Alpha text.", f"{first}:1"),
                                                      ("a2", "Beta.", f"{first}:4"),
                                                      ("b1", "Gamma.", f"{second}:1")]), label="Records")
        # golden: content_id("{broken")
        assert_that(_reasons(result), equal_to([("sha1:1f8c8a3ca0b27f6e871e", "malformed", f"{first}:3"),
                                                ("b2", "missing_field", f"{second}:2")]), label="Dropped")


def test_read_documents_from_a_text_folder(tmp_path):
    root = tmp_path / "docs"
    (root / "nested").mkdir(parents=True)
    (root / "one.txt").write_bytes("First document.\nSecond line.\n".encode("utf-8"))
    (root / "nested" / "two.txt").write_bytes(b"\xef\xbb\xbfWith a byte-order mark.")
    (root / "bad.txt").write_bytes(b"caf\xe9")  # Latin-1, not UTF-8
    cfg = SummarizeConfig(inputs=(str(root),), format="text_dir")
    with local_pipeline() as p:
        result = p | ReadDocuments(cfg)
        assert_that(_ids_and_texts(result), equal_to([
            ("one.txt", "First document.\nSecond line.\n", str(root / "one.txt")),
            ("nested/two.txt", "With a byte-order mark.", str(root / "nested" / "two.txt"))]), label="Records")
        assert_that(_reasons(result), equal_to([("bad.txt", "bad_encoding", str(root / "bad.txt"))]),
                    label="Dropped")


def test_read_documents_from_a_tfrecord_file_dead_letters_its_truncated_tail(tmp_path):
    records = [encode_example(id=f"t{i}", article=f"Article {i}.", summary="S.", article_ids=[], summary_ids=[])
               for i in range(3)]
    whole, cut = tmp_path / "whole.tfrecord", tmp_path / "cut.tfrecord"
    with open(whole, "wb") as f:
        write_records(f, records[:2])
    with open(cut, "wb") as f:
        write_records(f, records[2:] + [b"lost record"])
    cut.write_bytes(cut.read_bytes()[:-3])  # the second record loses its data checksum
    cfg = SummarizeConfig(inputs=(str(whole), str(cut)), format="tfrecord")
    with local_pipeline() as p:
        result = p | ReadDocuments(cfg)
        assert_that(_ids_and_texts(result), equal_to([("t0", "Article 0.", f"{whole}:1"),
                                                      ("t1", "Article 1.", f"{whole}:2"),
                                                      ("t2", "Article 2.", f"{cut}:1")]), label="Records")
        assert_that(result[DROPPED] | "Detail" >> beam.Map(lambda d: (d["id"], d["reason"], d["detail"])),
                    equal_to([(str(cut), "unreadable_file", f"{cut}: truncated in record 1; nothing was written")]),
                    label="Dropped")


def test_a_text_folder_format_given_a_file_is_a_usage_error(tmp_path):
    from workspace.errors import UsageError

    (tmp_path / "docs.jsonl").write_text('{"id": 1, "article": "A."}\n')
    with pytest.raises(UsageError) as raised:
        document_files(SummarizeConfig(inputs=(str(tmp_path / "docs.jsonl"),), format="text_dir"))
    assert str(raised.value) == (f"--format text_dir reads folders of text files (one document a file); "
                                 f"{tmp_path / 'docs.jsonl'} is a file: give its folder, or --format jsonl / "
                                 f"tfrecord for a file of documents")


def test_the_readers_read_the_files_the_run_matched_not_the_patterns_again(tmp_path):
    """The run's identity matches the inputs once (pipeline/completion.py); the readers are handed its files,
    so a file that matches the pattern later (or was not matched) is not read by this run."""
    from configs.schema import SourceConfig
    from pipeline.sources import ReadPairs

    for name in ("a", "b"):
        (tmp_path / f"{name}.jsonl").write_text(f'{{"id": "{name}", "article": "Text {name}.", '
                                                f'"summary": "Sum {name}."}}\n')
    docs = SummarizeConfig(inputs=(str(tmp_path / "*.jsonl"),), format="jsonl")
    pairs = SourceConfig(format="jsonl", paths=(str(tmp_path / "*.jsonl"),))
    with local_pipeline() as p:
        read = p | "Docs" >> ReadDocuments(docs, files=[str(tmp_path / "a.jsonl")])
        assert_that(read[RECORDS] | "DocIds" >> beam.Map(lambda d: d["id"]), equal_to(["a"]), label="Docs")
        read = p | "Pairs" >> ReadPairs(pairs, [(str(tmp_path / "b.jsonl"), "train")])
        assert_that(read[RECORDS] | "PairIds" >> beam.Map(lambda r: (r["id"], r["split"])),
                    equal_to([("b", "train")]), label="Pairs")
