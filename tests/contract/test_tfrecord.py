import io

import pytest
import tensorflow as tf

from contract.tfrecord import read_records, write_records
from workspace.errors import InputError


def test_framing_reads_back_through_tensorflow_and_truncation_is_an_input_error(tmp_path):
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
