import bz2
import gzip
import lzma

import pytest

from workspace.errors import InputError
from workspace.input_files import match_files, read_whole_file


def test_compressed_files_read_whole_and_truncated_ones_fail(tmp_path):
    data = b"line one\nline two\n" * 1000
    for name, compress in (("a.gz", gzip.compress), ("a.bz2", bz2.compress), ("a.xz", lzma.compress)):
        (tmp_path / name).write_bytes(compress(data))
        assert read_whole_file(str(tmp_path / name)) == (data, None)
        (tmp_path / ("cut-" + name)).write_bytes(compress(data)[:-20])
        raw, error = read_whole_file(str(tmp_path / ("cut-" + name)))
        assert raw is None and f"cut-{name} cannot be read to its end" in str(error)


def test_matching_names_what_is_wrong(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.txt").write_text("x")
    assert match_files(str(tmp_path / "d"), folders=True, what="w") == [str(tmp_path / "d" / "x.txt")]
    with pytest.raises(InputError, match=r"w: .*/d is a folder; give files or a glob"):
        match_files(str(tmp_path / "d"), folders=False, what="w")
    with pytest.raises(InputError, match=r"w: no files match '.*nothing\*'"):
        match_files(str(tmp_path / "nothing*"), folders=False, what="w")


def _tree(root):
    """Files in folders, hidden ones, odd names and a broken link: where glob and Beam's matching part ways."""
    for rel in ("a.jsonl", "b.jsonl", ".hidden.jsonl", "c.txt", "x[1].jsonl", "space name.jsonl", "sub/d.jsonl",
                "sub/deeper/e.jsonl", "sub/.h/f.jsonl", "sub2/g.jsonl.gz"):
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(rel)
    (root / "broken.jsonl").symlink_to(root / "nowhere")


PATTERNS = ("*.jsonl", "**", "**.jsonl", "*/*.jsonl", "su?/*.jsonl", "su*/**", "[ab].jsonl", "[!a].jsonl",
            "[^a]*.jsonl", "x[1].jsonl", "a.jsonl", "sub/", "nothing*", "[unclosed*", "sub/**/e.jsonl", "*",
            "space name.jsonl", "sub2/*.gz", "broken.jsonl")


def test_local_matching_is_beams_without_importing_beam(tmp_path, monkeypatch):
    """The same files (and sizes and mtimes) as Beam's FileSystems.match, for absolute and relative patterns:
    the preprocess and summarize fingerprints record them, so a no-op decided without Beam equals the run's."""
    from apache_beam.io.filesystem import FileSystem
    from apache_beam.io.filesystems import FileSystems

    from workspace import input_files

    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    for pattern in [str(tmp_path / p) for p in PATTERNS] + list(PATTERNS) + [f"sub/{p}" for p in PATTERNS]:
        assert input_files.translate_pattern(pattern) == FileSystem.translate_pattern(pattern), pattern
        beam = sorted(m.path for m in FileSystems.match([pattern])[0].metadata_list)
        assert sorted(input_files._match_local(pattern)) == beam, pattern
        for path in beam:
            metadata = FileSystems.match([path])[0].metadata_list[0] if "[" not in path else None
            if metadata is not None:
                assert input_files.file_identity(path) == {"size": metadata.size_in_bytes,
                                                           "mtime": metadata.last_updated_in_seconds}
    assert len(input_files._match_local(str(tmp_path / "**"))) == 10  # nothing vacuous: every file but the link
