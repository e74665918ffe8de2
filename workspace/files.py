"""Paths, local and remote, in one place: join, exists, read and write small files whole, the remote filesystem.

Local paths use `os` and import nothing heavy (the no-op checks and training use this module). Other
filesystems (gs://, s3://) go through Beam's FileSystems, imported only for them. The data contract's readers
that run inside training (contract/manifest.py, contract/tokenizer.py) use tf.io.gfile for remote paths
instead: training must not import Beam.
"""

from __future__ import annotations

import os


def is_local(path: str) -> bool:
    return "://" not in path


def filesystem():
    """Beam's FileSystems, for a remote path."""
    from apache_beam.io.filesystems import FileSystems

    return FileSystems


def join(root: str, *parts: str) -> str:
    return os.path.join(root, *parts) if is_local(root) else filesystem().join(root, *parts)


def exists(path: str) -> bool:
    return os.path.exists(path) if is_local(path) else filesystem().exists(path)


def read_bytes(path: str) -> bytes:
    if is_local(path):
        with open(path, "rb") as f:
            return f.read()
    with filesystem().open(path) as f:
        return f.read()


def read_text(path: str) -> str:
    return read_bytes(path).decode("utf-8")


def write_bytes(path: str, data: bytes) -> None:
    """Write a small file whole: beside it, then renamed into place where the filesystem allows (locally)."""
    if is_local(path):
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)
        return
    with filesystem().create(path) as f:
        f.write(data)


def write_text(path: str, text: str) -> None:
    write_bytes(path, text.encode("utf-8"))
