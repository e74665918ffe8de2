import subprocess
import sys

from tensorflow.core.example import example_pb2

from contract.example_proto import Example
from contract.records import decode_example, encode_example


def _tf_example(**fields) -> bytes:
    ex = example_pb2.Example()
    feature = ex.features.feature
    for key in ("id", "article", "summary"):
        feature[key].bytes_list.value.append(fields[key].encode("utf-8"))
    for key in ("article_ids", "summary_ids"):
        feature[key].int64_list.value.extend(fields[key])
    return ex.SerializeToString(deterministic=True)


def _canonical(serialized: bytes) -> bytes:
    """The same Example with its feature map in key order (map order on the wire is unspecified)."""
    return example_pb2.Example.FromString(serialized).SerializeToString(deterministic=True)


def test_records_are_tensorflows_example_on_the_wire():
    fields = dict(id="doc-7", article="Straße café\n漢字 text", summary="One.\nTwo.",
                  article_ids=[4, 5, 2**40, 0], summary_ids=[])
    serialized = encode_example(**fields)
    assert _canonical(serialized) == _tf_example(**fields)
    assert Example.FromString(serialized).SerializeToString(deterministic=True) == _tf_example(**fields)
    assert decode_example(serialized) == fields
    assert decode_example(_tf_example(**fields)) == fields


def test_all_feature_kinds_parse_like_tensorflow():
    ex = example_pb2.Example()
    ex.features.feature["f"].float_list.value.extend([0.5, -2.0])
    ex.features.feature["b"].bytes_list.value.extend([b"x", b"\xff"])
    ours = Example.FromString(ex.SerializeToString())
    assert list(ours.features.feature["f"].float_list.value) == [0.5, -2.0]
    assert ours.features.feature["b"].WhichOneof("kind") == "bytes_list"
    assert ours.SerializeToString(deterministic=True) == ex.SerializeToString(deterministic=True)


def test_writing_records_does_not_import_tensorflow():
    code = ("import sys; from contract.records import encode_example; from contract.tokenizer import Tokenizer; "
            "encode_example(id='a', article='b', summary='c', article_ids=[1], summary_ids=[2]); "
            "print('tensorflow' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
