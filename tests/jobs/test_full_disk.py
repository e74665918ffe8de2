"""Issue 23: a full disk under the output, through the real CLI in the default runner mode (the Beam workers hit
it): one line naming the output and the errno, exit 2, nothing left but the lock. Needs a 1 MB tmpfs: skipped
where this process may not mount one."""

import os
import subprocess

import pytest

from tests.fixtures import pairs, write_jsonl
from tests.jobs.test_trust import sumflow


@pytest.fixture
def small_disk(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({mounted.stderr.decode().strip()[:100]})")
    yield disk
    subprocess.run(["umount", str(disk)], check=False)


@pytest.mark.slow
def test_a_full_disk_is_one_line_naming_the_output_and_the_errno(tmp_path, small_disk):
    write_jsonl(tmp_path / "pairs.jsonl", pairs(3000))
    out = small_disk / "out"
    result = sumflow(["preprocess", "-c", "jsonl", "-i", "pairs.jsonl", "--set", "tokenizer.vocab_size=400",
                      "--set", "clean.min_article_words=5", "-o", str(out)], tmp_path)
    assert result.returncode == 2, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1] == f"sumflow preprocess: cannot write {out}: No space left on device (ENOSPC)"
    assert os.listdir(out) == [".sumflow.lock"]
