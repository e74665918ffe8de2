"""Input files for every job: matching paths and globs, and reading them to the end or failing.

Success means all of the input: a compressed file is read by Python's own readers, which raise on a
truncated or corrupt file (Beam's compressed reader returns what it could read without an error:
../shared/ENVIRONMENT.md, pitfall 15), and every read error becomes an InputError naming the file.
"""

from __future__ import annotations

import contextlib
import os

from apache_beam.io.filesystems import FileSystems

from workspace.errors import InputError


def match_files(pattern: str, *, folders: bool, what: str) -> list[str]:
    """The files a path or glob names. `folders`: a folder stands for every file below it (text folders);
    otherwise a folder is an operator mistake. Raises InputError naming a pattern that matches nothing."""
    local = "://" not in pattern
    if local and os.path.isdir(pattern):
        if not folders:
            raise InputError(f"{what}: {pattern} is a folder; give files or a glob, e.g. "
                             f"{os.path.join(pattern, '*.jsonl')}")
        pattern = pattern.rstrip("/") + "/**"
    try:
        matched = sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)
    except Exception as e:  # e.g. a filesystem with no client installed (gs:// without apache-beam[gcp])
        raise InputError(f"{what}: cannot list {pattern!r} ({type(e).__name__}: {str(e)[:200]})") from None
    if local:
        matched = [m for m in matched if not os.path.isdir(m)]
    if not matched:
        raise InputError(f"{what}: no files match {pattern!r}")
    return matched


_DECOMPRESSORS = {".gz": "gzip", ".bz2": "bz2", ".xz": "lzma"}


def open_input(path: str):
    """A binary file object over `path`, decompressed by Python's own readers for .gz/.bz2/.xz.

    Python's readers raise on a truncated or corrupt file (EOFError, OSError) where Beam's compressed reader
    returns what it could read without an error (../shared/ENVIRONMENT.md, pitfall 15): read through
    `reading(path)` to turn that into an InputError naming the file.
    """
    from apache_beam.io.filesystem import CompressionTypes

    raw = FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    kind = next((k for ext, k in _DECOMPRESSORS.items() if path.endswith(ext)), None)
    if kind is None:
        return raw
    if kind == "gzip":
        import gzip

        return gzip.GzipFile(fileobj=raw)
    if kind == "bz2":
        import bz2

        return bz2.BZ2File(raw)
    import lzma

    return lzma.LZMAFile(raw)


@contextlib.contextmanager
def reading(path: str):
    """Open an input file; a read error anywhere in the block fails the job with the file named (exit 3).

    Success means all of the input: a file that cannot be read to its end is never half-counted.
    """
    import zlib

    try:
        with open_input(path) as f:
            yield f
    except InputError:
        raise
    except (EOFError, OSError, zlib.error) as e:
        raise InputError(f"{path} cannot be read to its end: {type(e).__name__}: {e} (truncated or corrupt "
                         f"file?)") from None


def read_whole_file(path: str) -> tuple[bytes | None, InputError | None]:
    """(the file's bytes, None), or (None, the InputError saying why it cannot be read to its end)."""
    try:
        with reading(path) as f:
            return f.read(), None
    except InputError as e:
        return None, e


def folder_roots(patterns: list[str], paths: list[str]) -> dict[str, str]:
    """{path: the folder its pattern names}, so a text file's id is its path relative to the folder given
    (`docs/a/1.txt` from `docs/` is `a/1.txt`); a path no pattern names is absent."""
    roots = {}
    for pattern in patterns:
        root = pattern.split("*")[0].rstrip("/")
        for path in paths:
            if path.startswith(root):
                roots[path] = root if os.path.isdir(root) else os.path.dirname(root)
    return roots
