"""Byte ranges of input files: every line read exactly once, whatever the range size."""

import gzip
import io
import random

import pytest

from pipeline.lines import byte_ranges, read_lines_in_range


@pytest.mark.parametrize("size", [1, 2, 3, 7, 16, 1000])
def test_byte_ranges_read_every_line_exactly_once(tmp_path, size):
    rng = random.Random(size)
    lines = [("x" * rng.randrange(0, 12)).encode() for _ in range(40)] + [b"last"]  # blank lines included
    data = b"\n".join(lines)  # no final newline: the last line still counts
    path = tmp_path / "f.jsonl"
    path.write_bytes(data)
    ranges = byte_ranges([str(path)], size)
    assert ranges[0][1] == 0 and ranges[-1][2] == len(data)
    read = []
    for _, start, end in ranges:
        read.extend(read_lines_in_range(io.BytesIO(data), start, end))
    assert read == lines


def test_crlf_lines_and_compressed_files_are_one_range(tmp_path):
    assert list(read_lines_in_range(io.BytesIO(b"a\r\nb\r\n"), 0, 6)) == [b"a", b"b"]
    path = tmp_path / "f.jsonl.gz"
    path.write_bytes(gzip.compress(b"a\nb\n"))
    assert byte_ranges([str(path)], 1) == [(str(path), 0, -1)]
    assert list(read_lines_in_range(io.BytesIO(b"a\nb\n"), 0, -1)) == [b"a", b"b"]


def test_an_empty_file_has_one_empty_range(tmp_path):
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"")
    (only,) = byte_ranges([str(path)], 4)
    assert list(read_lines_in_range(io.BytesIO(b""), only[1], only[2])) == []
