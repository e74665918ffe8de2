"""Try a model in one line: `summarize --text` and `-i -` print summaries; the Python API behind them."""

import os
import subprocess
import sys

import pytest

from jobs.summarize import split_documents
from tests.fixtures import exported, pairs

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    return exported(tmp_path_factory.mktemp("model"), "decode.method=greedy", "decode.min_length=2")


def _sumflow(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "jobs.cli", "summarize", *args], input=stdin, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=REPO), timeout=300)


def test_stdin_documents_are_lines_or_blank_line_separated_blocks():
    assert split_documents("one\ntwo\n\n") == ["one", "two"]
    assert split_documents("first doc\nstill first\n\n\nsecond\r\n") == ["first doc\nstill first", "second"]
    assert split_documents(" \n") == []


def test_the_api_summarizes_a_list_in_order_like_the_graph(export_dir):
    from contract.exported_model import ExportedModel

    model = ExportedModel.load(export_dir)
    texts = [p["article"] for p in pairs(3, seed=4)]
    summaries = model.summarize(texts + ["   "], batch_size=2)
    assert summaries[3] == ""  # empty after cleaning
    assert summaries[:3] == [r["summary"] for r in model.summarize_batch(texts)]
    assert all(s.strip() for s in summaries[:3])
    with pytest.raises(TypeError, match="list of texts"):
        model.summarize("one text")


def test_text_and_stdin_print_one_summary_a_line(export_dir):
    from contract.exported_model import ExportedModel

    texts = [p["article"] for p in pairs(2, seed=4)]
    expected = [" ".join(s.split("\n")) for s in ExportedModel.load(export_dir).summarize(texts)]
    out = _sumflow("--model-dir", export_dir, "--text", texts[0], "--text", texts[1])
    assert (out.returncode, out.stdout.splitlines(), out.stderr) == (0, expected, "")
    out = _sumflow("--model-dir", export_dir, "-i", "-", stdin="\n".join(texts) + "\n")
    assert (out.returncode, out.stdout.splitlines()) == (0, expected)


def test_a_missing_model_is_one_line():
    out = _sumflow("--model-dir", "nowhere", "--text", "x")
    assert (out.returncode, out.stdout) == (3, "")
    assert out.stderr == ("sumflow summarize: nowhere holds no exported model (no sumflow_export.json); run "
                          "`sumflow export` or give --model-dir\n")
