"""`tf.train.Example` built from its descriptor: wire bytes checked by hand, no TensorFlow import here
(tests/contract/test_records.py checks the same bytes against TensorFlow's own classes)."""

import pytest
from google.protobuf import descriptor_pool
from google.protobuf.message import DecodeError

from contract.example_proto import Example

# Hand-encoded: Example{features(1){feature(1) entry{key(1)="id", value(2) Feature{bytes_list(1){value(1)="a"}}}}}
#   BytesList 0a 01 'a' (3) -> Feature 0a 03 .. (5) -> entry 0a 02 'id' 12 05 .. (11) -> Features 0a 0b .. (13)
#   -> Example 0a 0d .. (15 bytes)
ONE_BYTES_FEATURE = b"\x0a\x0d\x0a\x0b\x0a\x02id\x12\x05\x0a\x03\x0a\x01a"
# int64_list is Feature field 3 (tag 1a); its values are packed varints: 1 -> 01, 300 -> ac 02.
ONE_INT64_FEATURE = b"\x0a\x0e\x0a\x0c\x0a\x01n\x12\x07\x1a\x05\x0a\x03\x01\xac\x02"
# float_list is Feature field 2 (tag 12); 0.5 is the little-endian float 00 00 00 3f.
ONE_FLOAT_FEATURE = b"\x0a\x0f\x0a\x0d\x0a\x01x\x12\x08\x12\x06\x0a\x04\x00\x00\x00\x3f"


def test_each_feature_kind_writes_the_hand_encoded_bytes():
    ex = Example()
    ex.features.feature["id"].bytes_list.value.append(b"a")
    assert ex.SerializeToString() == ONE_BYTES_FEATURE
    ex = Example()
    ex.features.feature["n"].int64_list.value.extend([1, 300])
    assert ex.SerializeToString() == ONE_INT64_FEATURE
    ex = Example()
    ex.features.feature["x"].float_list.value.append(0.5)
    assert ex.SerializeToString() == ONE_FLOAT_FEATURE


def test_hand_encoded_bytes_read_back_to_their_fields():
    feature = Example.FromString(ONE_BYTES_FEATURE).features.feature
    assert list(feature) == ["id"]
    assert feature["id"].WhichOneof("kind") == "bytes_list"
    assert list(feature["id"].bytes_list.value) == [b"a"]
    feature = Example.FromString(ONE_INT64_FEATURE).features.feature
    assert feature["n"].WhichOneof("kind") == "int64_list"
    assert list(feature["n"].int64_list.value) == [1, 300]
    feature = Example.FromString(ONE_FLOAT_FEATURE).features.feature
    assert feature["x"].WhichOneof("kind") == "float_list"
    assert list(feature["x"].float_list.value) == [0.5]


def test_a_record_round_trips_with_every_field_value():
    ex = Example()
    feature = ex.features.feature
    feature["id"].bytes_list.value.append("doc-7".encode("utf-8"))
    feature["article"].bytes_list.value.append("Straße café\n漢字".encode("utf-8"))
    feature["article_ids"].int64_list.value.extend([4, 5, 2**40, 0, -1])
    feature["summary_ids"].int64_list.value.extend([])
    back = Example.FromString(ex.SerializeToString()).features.feature
    assert sorted(back) == ["article", "article_ids", "id", "summary_ids"]
    assert back["id"].bytes_list.value[0].decode("utf-8") == "doc-7"
    assert back["article"].bytes_list.value[0].decode("utf-8") == "Straße café\n漢字"
    assert list(back["article_ids"].int64_list.value) == [4, 5, 1099511627776, 0, -1]
    # An empty list stays an int64_list with no values (a set oneof member is written even when empty).
    assert back["summary_ids"].WhichOneof("kind") == "int64_list"
    assert list(back["summary_ids"].int64_list.value) == []


def test_an_empty_id_list_is_written_as_an_empty_int64_list():
    ex = Example()
    ex.features.feature["s"].int64_list.value.extend([])
    assert ex.SerializeToString() == b"\x0a\x09\x0a\x07\x0a\x01s\x12\x02\x1a\x00"  # Feature{int64_list{}}


def test_the_kinds_are_one_of_a_kind():
    feature = Example().features.feature["k"]
    feature.bytes_list.value.append(b"z")
    feature.float_list.value.append(1.0)  # setting another kind clears the first
    assert feature.WhichOneof("kind") == "float_list"
    assert feature.HasField("bytes_list") is False


@pytest.mark.parametrize("data", [
    b"\xff",  # a tag with no end (varint continues past the data)
    ONE_BYTES_FEATURE[:3],  # features message says 13 bytes, 1 follows
    b"\x0a\x05\x0a\x03\x0a\x02i",  # entry key claims 2 bytes, 1 follows
])
def test_truncated_or_garbage_bytes_are_a_decode_error(data):
    with pytest.raises(DecodeError, match=r"^Error parsing message with type 'tensorflow.Example'$"):
        Example.FromString(data)


def test_unknown_fields_are_kept_not_lost():
    ex = Example.FromString(b"\x10\x01")  # field 2, varint 1: not in tf.train.Example
    assert ex.ListFields() == []
    assert ex.SerializeToString() == b"\x10\x01"


def test_an_int64_out_of_range_is_refused_when_set():
    with pytest.raises(ValueError, match=r"Value out of range: 9223372036854775808"):
        Example().features.feature["n"].int64_list.value.append(2**63)


def test_the_classes_live_in_their_own_pool_under_tensorflows_names():
    assert Example.DESCRIPTOR.full_name == "tensorflow.Example"
    assert Example.DESCRIPTOR.file.name == "sumflow/example.proto"
    assert Example.DESCRIPTOR.file.pool is not descriptor_pool.Default()
    names = [f.name for f in Example.DESCRIPTOR.fields_by_name["features"].message_type.fields]
    assert names == ["feature"]
    kinds = Example.DESCRIPTOR.file.message_types_by_name["Feature"].oneofs_by_name["kind"]
    assert [(f.name, f.number) for f in kinds.fields] == [("bytes_list", 1), ("float_list", 2), ("int64_list", 3)]
