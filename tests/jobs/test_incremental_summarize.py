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


def _dead_letters(out) -> list[tuple]:
    return sorted((d["id"], d["reason"], d["origin"]) for path in glob.glob(str(out / "dead_letter" / "*.jsonl"))
                  for d in map(json.loads, open(path, encoding="utf-8").read().splitlines()))


@pytest.mark.slow
@pytest.mark.parametrize("duplicate_ids", ["drop", "keep"])
def test_repeated_ids_give_the_from_scratch_result_when_the_dump_grows(tmp_path, export_dir, duplicate_ids):
    docs = _docs(12)
    twice = [dict(docs[3], article=docs[5]["article"]), dict(docs[8], article=docs[9]["article"])]  # same ids
    write_jsonl(tmp_path / "docs.jsonl", docs + twice)
    setting = ("--set", f"summarize.duplicate_ids={duplicate_ids}")
    _summarize(tmp_path, export_dir, "out", *setting)
    # one document removed, one new, and a third copy of a repeated id
    write_jsonl(tmp_path / "docs.jsonl", docs[1:] + twice + [dict(docs[0], id="new-0"),
                                                              dict(twice[0], article=docs[7]["article"])])
    rerun = _summarize(tmp_path, export_dir, "out", *setting)
    assert " reused, " in rerun and not rerun.startswith("summarize: 15 documents: 0 reused"), rerun
    _summarize(tmp_path, export_dir, "scratch", *setting)
    assert _rows(tmp_path / "out") == _rows(tmp_path / "scratch")  # row for row
    assert _dead_letters(tmp_path / "out") == _dead_letters(tmp_path / "scratch")


@pytest.mark.slow
def test_a_killed_incremental_rerun_leaves_the_earlier_output_complete(tmp_path, export_dir):
    import os
    import signal
    import subprocess
    import sys
    import time

    from tests.jobs.test_trust import REPO

    docs = _docs(20)
    write_jsonl(tmp_path / "docs.jsonl", docs)
    _summarize(tmp_path, export_dir, "out")
    before, marker = _rows(tmp_path / "out"), (tmp_path / "out" / "_SUCCESS").read_text()
    write_jsonl(tmp_path / "docs.jsonl", docs[2:] + [dict(d, id=f"new-{i}") for i, d in enumerate(_docs(60, 3))])
    env = dict(os.environ, PYTHONPATH=REPO)
    job = subprocess.Popen([sys.executable, "-m", "jobs.cli", "summarize", "-i", "docs.jsonl", "--model-dir",
                            export_dir, "-o", "out"], cwd=tmp_path, env=env, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and job.poll() is None and not glob.glob(
            str(tmp_path / "out" / ".sumflow-staging-*" / "config.yaml")):
        time.sleep(0.05)
    assert job.poll() is None, "the rerun ended before it could be killed"
    time.sleep(1.0)  # inside the pipeline: decoding the new documents
    os.killpg(job.pid, signal.SIGKILL)
    job.wait(30)
    assert (tmp_path / "out" / "_SUCCESS").read_text() == marker
    assert _rows(tmp_path / "out") == before  # the earlier output, complete
    assert _summarize(tmp_path, export_dir, "out").startswith("summarize: 78 documents: 18 reused, 60 new")
