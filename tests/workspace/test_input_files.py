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
