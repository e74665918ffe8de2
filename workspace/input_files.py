"""Input files for every job: matching paths and globs, what identifies a file, and reading it to the end or
failing.

Local paths are matched and described with the standard library, exactly as Beam's LocalFileSystem does it
(tests/workspace/test_input_files.py compares them): deciding that a run is already complete must not import
Beam (~1.2 s). Other filesystems (gs://, s3://) go through Beam's FileSystems.

Success means all of the input: a compressed file is read by Python's own readers, which raise on a
truncated or corrupt file (Beam 2.77's compressed reader returns what it could read of a truncated `.gz`
without an error), and every read error becomes an InputError naming the file.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re

from workspace.errors import InputError
from workspace.files import filesystem as _filesystems, is_local  # noqa: F401  (input_files.is_local)


def match_files(pattern: str, *, folders: bool, what: str) -> list[str]:
    """The files a path or glob names. `folders`: a folder stands for every file below it (text folders);
    otherwise a folder is an operator mistake. Raises InputError naming a pattern that matches nothing."""
    local = is_local(pattern)
    if local and os.path.isdir(pattern):
        if not folders:
            raise InputError(f"{what}: {pattern} is a folder; give files or a glob, e.g. "
                             f"{os.path.join(pattern, '*.jsonl')}")
        pattern = pattern.rstrip("/") + "/**"
    try:
        if local:
            matched = sorted(_match_local(pattern))
        else:
            matched = sorted(m.path for m in _filesystems().match([pattern])[0].metadata_list)
    except Exception as e:  # e.g. a filesystem with no client installed (gs:// without apache-beam[gcp])
        raise InputError(f"{what}: cannot list {pattern!r} ({type(e).__name__}: {str(e)[:200]})") from None
    if local:
        matched = [m for m in matched if not os.path.isdir(m)]
    if not matched:
        raise InputError(f"{what}: no files match {pattern!r}")
    return matched


def _match_local(pattern: str) -> list[str]:
    """Local files matching `pattern` as Beam's FileSystem.match finds them: a pattern without wildcards names
    itself if it exists; otherwise every file below the folder before the first wildcard is listed and kept
    when the whole path matches (hidden files included)."""
    if pattern.endswith(("/", "\\")):
        pattern += "*"
    prefix = re.match(r"^[^[*?]*", pattern).group(0)
    if prefix == pattern:
        return [pattern] if os.path.exists(pattern) else []
    root = os.path.dirname(prefix)
    if not os.path.exists(root):
        return []
    matches = re.compile(translate_pattern(pattern)).match
    listed = (os.path.join(folder, name) for folder, _, files in os.walk(root) for name in files)
    return [path for path in listed if matches(path) and os.path.exists(path)]  # a broken link is no file


def translate_pattern(pattern: str) -> str:
    """Beam's glob syntax as a regular expression (apache_beam.io.filesystem.FileSystem.translate_pattern):
    fnmatch's, except that `*` stops at a folder separator and `**` does not."""
    i, n, out = 0, len(pattern), ""
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if i < n and pattern[i] == "*":
                out += ".*"
                i += 1
            else:
                out += r"[^/\\]*"
        elif c == "?":
            out += "."
        elif c == "[":
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                out += r"\["
            else:
                stuff = pattern[i:j].replace("\\", "\\\\")
                i = j + 1
                if stuff[0] == "!":
                    stuff = "^" + stuff[1:]
                elif stuff[0] == "^":
                    stuff = "\\" + stuff
                out += f"[{stuff}]"
        else:
            out += re.escape(c)
    return r"(?ms)" + out + r"\Z"


def file_identity(path: str) -> dict:
    """{"size": bytes, "mtime": seconds (None where the filesystem does not say)}: with the path, what
    completion fingerprints record of an input file. Raises InputError (exit 3) for a local file that cannot
    be opened."""
    if is_local(path):
        try:  # opened, not only listed: an unreadable input is named here, before any worker reads it
            os.close(os.open(path, os.O_RDONLY))
            stat = os.stat(path)
        except OSError as e:
            raise InputError(f"{path} cannot be read: {e.strerror} ({errno.errorcode.get(e.errno, e.errno)})") \
                from None
        return {"size": stat.st_size, "mtime": stat.st_mtime}
    metadata = _filesystems().match([path])[0].metadata_list[0]
    return {"size": metadata.size_in_bytes, "mtime": getattr(metadata, "last_updated_in_seconds", None)}


_DECOMPRESSORS = {".gz": "gzip", ".bz2": "bz2", ".xz": "lzma"}


def open_input(path: str):
    """A binary file object over `path`, decompressed by Python's own readers for .gz/.bz2/.xz.

    Python's readers raise on a truncated or corrupt file (EOFError, OSError) where Beam's compressed reader
    returns what it could read without an error: read through
    `reading(path)` to turn that into an InputError naming the file.
    """
    from apache_beam.io.filesystem import CompressionTypes

    raw = _filesystems().open(path, compression_type=CompressionTypes.UNCOMPRESSED)
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
