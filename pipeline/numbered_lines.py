"""`ReadNumberedLines`: the lines of input files (gzip too) with their position, `path:line` (1-based, blank
lines counted), so a record without an id can be traced back to its row and every dead letter says where.

A worker cannot know the number of a line in the middle of a file without reading everything before it, so
the ranges are cut in the launching process, at line starts, each with the number of its first line: one
pass over each file, which also counts its non-blank lines (summarize's progress total). A compressed file
is one range (it cannot be entered in the middle).
"""

from __future__ import annotations

from typing import Iterator

import apache_beam as beam

from workspace.errors import InputError
from workspace.input_files import reading

RANGE_BYTES = 1 << 20  # about this many bytes of a file per range, spread over the workers

Range = tuple[str, int, int, int]  # (path, start byte, end byte (-1: to the end), number of its first line)


def position_key(origin: str) -> tuple[str, int]:
    """An origin as a sort key: "path:17" -> ("path", 17), so that line 9 sorts before line 10; a bare path
    (a text file's origin) -> (path, 0)."""
    path, _, number = origin.rpartition(":")
    return (path, int(number)) if path and number.isdigit() else (origin, 0)


def _compressed(path: str) -> bool:
    from apache_beam.io.filesystem import CompressionTypes

    return CompressionTypes.detect_compression_type(path) != CompressionTypes.UNCOMPRESSED


def numbered_ranges(paths: list[str], range_bytes: int = RANGE_BYTES) -> tuple[list[Range], int]:
    """(the ranges of every file, cut at line starts, each with its first line's number; the number of
    non-blank lines). Raises InputError naming a file that cannot be read to its end."""
    ranges, nonblank = [], 0
    for path in paths:
        compressed = _compressed(path)
        start, first, position, number = 0, 1, 0, 0
        with reading(path) as f:
            for number, line in enumerate(f, 1):
                nonblank += bool(line.strip())
                position += len(line)
                if not compressed and position - start >= range_bytes:
                    ranges.append((path, start, position, first))
                    start, first = position, number + 1
        if compressed:
            ranges.append((path, 0, -1, 1))
        elif position > start or start == 0:  # the rest of the file (an empty file: one empty range)
            ranges.append((path, start, position, first))
    return ranges, nonblank


def read_numbered_range(element: Range) -> Iterator[tuple[str, bytes | InputError]]:
    """("path:line", line without its newline) for each line of the range; (path, the InputError) last if the
    file cannot be read to its end (the parser dead-letters it as `unreadable_file`, the job fails after)."""
    path, start, end, number = element
    try:
        with reading(path) as f:
            if start:
                f.seek(start)
            position = start
            while end < 0 or position < end:
                line = f.readline()
                if not line:
                    return
                position += len(line)
                yield f"{path}:{number}", line.rstrip(b"\r\n")
                number += 1
    except InputError as e:
        yield path, e


class ReadNumberedLines(beam.PTransform):
    """Ranges from `numbered_ranges` -> ("path:line", line bytes) for every line, newline stripped."""

    def __init__(self, ranges: list[Range]):
        super().__init__()
        self._ranges = list(ranges)

    def expand(self, pipeline):
        return (pipeline | "ListRanges" >> beam.Create(self._ranges)  # Create's reshuffle spreads the ranges
                | "ReadRanges" >> beam.FlatMap(read_numbered_range))
