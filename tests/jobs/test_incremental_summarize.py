"""Issue 28 through the real CLI in the default runner mode: rerunning `sumflow summarize` after the dump
changed decodes only the new and changed documents, writes the earlier summaries of the others again, drops
those of removed documents, and gives the same rows as a run from scratch over the new dump."""

import glob
import json

import pytest

from tests.fixtures import exported, pairs, write_jsonl
from tests.jobs.test_trust import sumflow


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    return exported(tmp_path_factory.mktemp("model"))


def _docs(n, seed=0):
    return [{"id": f"doc-{i}", "article": p["article"]} for i, p in enumerate(pairs(n, seed=seed))]


def _rows(out) -> list[str]:
    return sorted(line for path in glob.glob(str(out / "summaries" / "*.jsonl"))
                  for line in open(path, encoding="utf-8").read().splitlines())


def _summarize(tmp_path, export_dir, out, *extra):
    result = sumflow(["summarize", "-i", "docs.jsonl", "--model-dir", export_dir, "-o", out, *extra], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr.splitlines()[-1]


@pytest.mark.slow
def test_a_rerun_decodes_only_what_changed_and_equals_a_run_from_scratch(tmp_path, export_dir):
    docs = _docs(30)
    write_jsonl(tmp_path / "docs.jsonl", docs)
    assert _summarize(tmp_path, export_dir, "out") == ("summarize: 30 documents: 0 reused, 30 new, 0 changed, "
                                                       "0 removed")
    first = {json.loads(line)["id"]: line for line in _rows(tmp_path / "out")}
    # the dump grows by 3, 2 documents are corrected and 2 removed
    changed = [dict(d, article=d["article"] + " A corrected closing sentence.") for d in docs[:2]]
    grown = changed + docs[2:28] + [dict(d, id=f"new-{i}") for i, d in enumerate(_docs(3, seed=7))]
    write_jsonl(tmp_path / "docs.jsonl", grown)
    assert _summarize(tmp_path, export_dir, "out") == ("summarize: 31 documents: 26 reused, 3 new, 2 changed, "
                                                       "2 removed")
    rerun = _rows(tmp_path / "out")
    assert json.loads((tmp_path / "out" / "counts.json").read_text())["summarized"] == 31
    assert {json.loads(line)["id"]: line for line in rerun}.keys() == {d["id"] for d in grown}
    assert all(first[json.loads(line)["id"]] == line for line in rerun if json.loads(line)["id"] in
               {d["id"] for d in docs[2:28]})  # the unchanged documents' rows, as they were
    assert _summarize(tmp_path, export_dir, "scratch") == ("summarize: 31 documents: 0 reused, 31 new, "
                                                           "0 changed, 0 removed")
    assert rerun == _rows(tmp_path / "scratch")  # row for row
    # --force decodes everything again, with the same result
    assert _summarize(tmp_path, export_dir, "out", "--force").startswith("summarize: 31 documents: 0 reused")
    assert _rows(tmp_path / "out") == rerun
    # other settings: nothing is reused
    line = _summarize(tmp_path, export_dir, "out", "--set", "summarize.long_documents=chunk")
    assert line.startswith("summarize: 31 documents: 0 reused, 31 new")
