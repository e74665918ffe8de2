"""TFRecord framing, written and read in plain Python: the on-disk format of `data/*.tfrecord` (preprocess
writes it, tf.data and `summarize` read it). Own code rather than TensorFlow's writer or Beam's private
`_TFRecordUtil`: no TensorFlow import in Beam workers, and a reader that fails on a truncated file instead of
ending early.
"""

from __future__ import annotations

import struct
from typing import BinaryIO, Iterator

import google_crc32c

from workspace.errors import InputError


def _masked_crc(data: bytes) -> int:
    """TFRecord's masked CRC32C of `data` (tensorflow/core/lib/hash/crc32c.h: rotate right 15, add a constant)."""
    crc = google_crc32c.value(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def write_records(file_handle: BinaryIO, records: list[bytes]) -> None:
    """Append serialized records to an open binary file in TFRecord framing: length (uint64 LE), masked CRC of
    the length, data, masked CRC of the data. Plain Python: the benchmark's plain loop writes through it too.
    """
    for record in records:
        length = struct.pack("<Q", len(record))
        file_handle.write(length + struct.pack("<I", _masked_crc(length)) + record
                          + struct.pack("<I", _masked_crc(record)))


def read_records(file_handle: BinaryIO, name: str) -> Iterator[bytes]:
    """The records of a TFRecord file, checked against their CRCs; a truncated or corrupt file raises
    InputError naming it (every record is read or the job fails)."""
    index = 0
    while True:
        header = file_handle.read(12)
        if not header:
            return
        if len(header) < 12:
            raise InputError(f"{name}: truncated after record {index}; nothing was written")
        length, length_crc = struct.unpack("<QI", header)
        if _masked_crc(header[:8]) != length_crc:
            raise InputError(f"{name}: record {index} is corrupt (length checksum); not a TFRecord file?")
        data = file_handle.read(length)
        footer = file_handle.read(4)
        if len(data) < length or len(footer) < 4:
            raise InputError(f"{name}: truncated in record {index}; nothing was written")
        if _masked_crc(data) != struct.unpack("<I", footer)[0]:
            raise InputError(f"{name}: record {index} is corrupt (data checksum)")
        yield data
        index += 1
