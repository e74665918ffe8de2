"""`sumflow preprocess` and `sumflow summarize` from the command line on other Beam runners write, record for
record, what the local runner writes: on our Dask runner (a LocalCluster of two worker processes, given by
address) and on Beam's PortableRunner (the embedded job service with LOOPBACK workers: the contract that
Dataflow, Flink and Spark job services use)."""

import json
import os
import subprocess
import sys

import pytest

from tests.fixtures import exported, pairs, write_jsonl
from tests.jobs.job_outputs import preprocess_output, summarize_output

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PORTABLE = ["--runner", "PortableRunner", "--job_endpoint", "embed", "--environment_type", "LOOPBACK"]


def sumflow(*args: str, cwd) -> None:
    env = dict(os.environ, PYTHONPATH=REPO)
    done = subprocess.run([sys.executable, "-m", "jobs.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def dask_address():
    from dask import distributed

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=":0") as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def beam_args(dask_address):
    return {"dask": ["--runner", "dask", "--dask_client_address", dask_address], "portable": PORTABLE}


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    """Inputs with something for every output: repeated ids, a malformed line, an empty document."""
    tmp = tmp_path_factory.mktemp("runners")
    records = pairs(150)
    write_jsonl(tmp / "pairs.jsonl", records + pairs(4), extra_lines=["{not json"])
    docs = [{"id": r["id"], "article": r["article"]} for r in pairs(30, seed=5)]
    write_jsonl(tmp / "docs.jsonl", docs + [{"id": "doc-0003", "article": "A second document with this id."},
                                            {"id": "blank", "article": "   "}])
    return tmp


def preprocess(work, out: str, *beam_args: str) -> str:
    sumflow("preprocess", "-c", "jsonl", "--set", f"source.paths=[{work / 'pairs.jsonl'}]",
            "--set", "tokenizer.vocab_size=400", "--set", "clean.min_article_words=5",
            "-o", str(work / out), *(["--", *beam_args] if beam_args else []), cwd=work)
    return str(work / out)


def summarize(work, model: str, out: str, *beam_args: str) -> str:
    sumflow("summarize", "-i", str(work / "docs.jsonl"), "--model-dir", model, "-o", str(work / out),
            *(["--", *beam_args] if beam_args else []), cwd=work)
    return str(work / out)


@pytest.fixture(scope="module")
def local_preprocess(work):
    return preprocess_output(preprocess(work, "local-data"))


@pytest.fixture(scope="module")
def model(work):
    (work / "model").mkdir()
    return exported(work / "model")


@pytest.fixture(scope="module")
def local_summaries(work, model):
    return summarize_output(summarize(work, model, "local-summaries"))


@pytest.mark.slow
@pytest.mark.parametrize("runner", ["dask", "portable"])
def test_preprocess_writes_what_the_local_runner_writes(runner, work, beam_args, local_preprocess):
    assert local_preprocess["counts"]["dropped"] == {"duplicate_id": 4, "malformed": 1}  # the inputs bite
    assert preprocess_output(preprocess(work, f"{runner}-data", *beam_args[runner])) == local_preprocess


@pytest.mark.slow
@pytest.mark.parametrize("runner", ["dask", "portable"])
def test_summarize_writes_what_the_local_runner_writes(runner, work, model, beam_args, local_summaries):
    assert local_summaries["counts"] == {"input": 32, "summarized": 30, "dropped:duplicate_id": 1,
                                         "dropped:empty_document": 1}
    out = summarize(work, model, f"{runner}-summaries", *beam_args[runner])
    assert summarize_output(out) == local_summaries
    assert len({json.loads(row)["id"] for row in local_summaries["summaries"]}) == 30
