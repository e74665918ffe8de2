"""`tf.train.Example` without TensorFlow: the same messages, built from their descriptor with protobuf alone.

Importing `tensorflow.core.example.example_pb2` imports all of TensorFlow (seconds and ~400 MB in every Beam
worker). These classes have the field numbers and types of tensorflow/core/example/{example,feature}.proto, so
they write and read the same bytes (tests/contract/test_records.py checks against TensorFlow's classes). They
live in a private descriptor pool, so they never clash with TensorFlow's when both are loaded.
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

_F = descriptor_pb2.FieldDescriptorProto


def _file() -> descriptor_pb2.FileDescriptorProto:
    f = descriptor_pb2.FileDescriptorProto(name="sumflow/example.proto", package="tensorflow", syntax="proto3")

    def message(name, *fields, nested=()):
        m = f.message_type.add(name=name)
        for field in fields:
            m.field.add(**field)
        for n in nested:
            m.nested_type.add().CopyFrom(n)
        return m

    repeated, optional = _F.LABEL_REPEATED, _F.LABEL_OPTIONAL
    message("BytesList", dict(name="value", number=1, label=repeated, type=_F.TYPE_BYTES))
    message("FloatList", dict(name="value", number=1, label=repeated, type=_F.TYPE_FLOAT))
    message("Int64List", dict(name="value", number=1, label=repeated, type=_F.TYPE_INT64))
    feature = message("Feature", *(dict(name=name, number=i, label=optional, type=_F.TYPE_MESSAGE,
                                        type_name=f".tensorflow.{kind}", oneof_index=0)
                                   for i, (name, kind) in enumerate((("bytes_list", "BytesList"),
                                                                     ("float_list", "FloatList"),
                                                                     ("int64_list", "Int64List")), start=1)))
    feature.oneof_decl.add(name="kind")
    entry = descriptor_pb2.DescriptorProto(name="FeatureEntry", options=descriptor_pb2.MessageOptions(map_entry=True))
    entry.field.add(name="key", number=1, label=optional, type=_F.TYPE_STRING)
    entry.field.add(name="value", number=2, label=optional, type=_F.TYPE_MESSAGE, type_name=".tensorflow.Feature")
    message("Features", dict(name="feature", number=1, label=repeated, type=_F.TYPE_MESSAGE,
                             type_name=".tensorflow.Features.FeatureEntry"), nested=(entry,))
    message("Example", dict(name="features", number=1, label=optional, type=_F.TYPE_MESSAGE,
                            type_name=".tensorflow.Features"))
    return f


_POOL = descriptor_pool.DescriptorPool()
_POOL.Add(_file())
Example = message_factory.GetMessageClass(_POOL.FindMessageTypeByName("tensorflow.Example"))
