import glob
import os

import apache_beam as beam
import tensorflow as tf

from pipeline.tfrecords import WriteSplits
from tests.pipeline.fixtures import local_pipeline


def test_write_splits_writes_every_record_of_every_batch_as_one_tfrecord(tmp_path):
    batches = {"train": [[b"a", b"bb"], [], [b"ccc"]], "validation": [[b"v"]], "test": []}
    with local_pipeline() as p:
        by_split = {split: p | f"Create{split}" >> beam.Create(elements, reshuffle=False)
                    for split, elements in batches.items()}
        by_split | WriteSplits(str(tmp_path / "data"))
    for split, elements in batches.items():
        files = sorted(glob.glob(os.path.join(tmp_path, "data", f"{split}-*.tfrecord")))
        read = [r.numpy() for f in files for r in tf.data.TFRecordDataset(f)]  # TensorFlow's own reader
        assert sorted(read) == sorted(r for batch in elements for r in batch), split


def test_framing_reads_back_through_tensorflow_and_truncation_is_an_input_error(tmp_path):
    import io

    import pytest
    import tensorflow as tf

    from pipeline.errors import InputError
    from pipeline.tfrecords import read_records, write_records

    records = [b"", b"one", bytes(range(256)) * 40]
    path = tmp_path / "r.tfrecord"
    with open(path, "wb") as f:
        write_records(f, records)
    assert list(tf.data.TFRecordDataset(str(path)).as_numpy_iterator()) == records
    data = path.read_bytes()
    assert list(read_records(io.BytesIO(data), "r")) == records
    with pytest.raises(InputError, match=r"r: truncated in record 2"):
        list(read_records(io.BytesIO(data[:-10]), "r"))
    corrupt = bytearray(data)
    corrupt[30] ^= 0xFF  # inside record 1's data
    with pytest.raises(InputError, match="record 1 is corrupt"):
        list(read_records(io.BytesIO(bytes(corrupt)), "r"))
