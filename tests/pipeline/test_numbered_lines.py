"""Lines with their `path:line` position, read in ranges cut at line starts: every line once, numbered right."""

import gzip

import pytest

from pipeline.numbered_lines import numbered_ranges, read_numbered_range
from workspace.errors import InputError

LINES = [b'{"id": 1}', b"", b"  ", b'{"id": "second"}', b"x" * 40, b"last, no newline"]


def _read(ranges):
    return [item for r in ranges for item in read_numbered_range(r)]


@pytest.mark.parametrize("range_bytes", [1, 7, 16, 1 << 20])
def test_every_line_once_with_its_number_whatever_the_ranges(tmp_path, range_bytes):
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"\r\n".join(LINES))  # CRLF line ends, no final newline
    ranges, nonblank = numbered_ranges([str(path)], range_bytes)
    assert nonblank == 4
    assert _read(ranges) == [(f"{path}:{i}", line) for i, line in enumerate(LINES, 1)]
    assert all(start < end for _, start, end, _ in ranges) and ranges[-1][2] == path.stat().st_size


def test_a_compressed_file_is_one_range_and_an_empty_file_yields_nothing(tmp_path):
    gz, empty = tmp_path / "in.jsonl.gz", tmp_path / "empty.jsonl"
    gz.write_bytes(gzip.compress(b"\n".join(LINES) + b"\n"))
    empty.write_bytes(b"")
    ranges, nonblank = numbered_ranges([str(gz), str(empty)], 4)
    assert ranges == [(str(gz), 0, -1, 1), (str(empty), 0, 0, 1)] and nonblank == 4
    assert _read(ranges) == [(f"{gz}:{i}", line) for i, line in enumerate(LINES, 1)]


def test_a_truncated_file_fails_the_scan_and_ends_a_read_with_its_error(tmp_path):
    gz = tmp_path / "in.jsonl.gz"
    data = gzip.compress(b"\n".join([b"x" * 50] * 2000))
    gz.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="in.jsonl.gz cannot be read to its end"):
        numbered_ranges([str(gz)])
    *_, (where, error) = _read([(str(gz), 0, -1, 1)])
    assert where == str(gz) and isinstance(error, InputError)
