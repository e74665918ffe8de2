"""The batch summarization job with a tiny exported model, and its failure handling with a fake one."""

import glob
import json
import os

import pytest

from configs.load import load_config
from configs.schema import SummarizeConfig
from contract.export_format import ExportInfo
from contract.exported_model import ExportedModel
from workspace.progress import Counter
from pipeline import summarize
from tests.fixtures import exported, local_pipeline, pairs, write_jsonl


@pytest.fixture(scope="module")
def export_dir(tmp_path_factory):
    return exported(tmp_path_factory.mktemp("model"))


def _rows(out):
    rows = []
    for path in glob.glob(os.path.join(out, "summaries", "*.jsonl")):
        with open(path) as f:
            rows += [json.loads(line) for line in f]
    return rows


def _dead(out):
    rows = []
    for path in glob.glob(os.path.join(out, "dead_letter", "*.jsonl")):
        with open(path) as f:
            rows += [json.loads(line) for line in f]
    return rows


def _config(tmp_path, export_dir, inputs, *more):
    return load_config([], [f"summarize.model_dir={export_dir}", f"summarize.inputs=[{inputs}]",
                            f"summarize.output_dir={tmp_path / 'out'}", "summarize.batch_size=4", *more])


def test_every_document_gets_a_summary_or_a_reason(tmp_path, export_dir):
    docs = [{"id": r["id"], "article": r["article"]} for r in pairs(10, seed=7)]
    write_jsonl(tmp_path / "docs.jsonl", docs, extra_lines=['{"id": "x", "body": "no text"}', "oops"])
    result = summarize.run(_config(tmp_path, export_dir, tmp_path / "docs.jsonl"), make_pipeline=local_pipeline,
                           log=lambda m: None)
    rows = _rows(result.output_dir)
    assert sorted(r["id"] for r in rows) == sorted(d["id"] for d in docs)
    info = json.load(open(os.path.join(export_dir, "sumflow_export.json")))
    assert {r["model"] for r in rows} == {info["fingerprint"]}
    assert all(isinstance(r["summary"], str) and r["summary_tokens"] <= 8 for r in rows)
    assert all(r["source_tokens"] > 0 and r["truncated"] == (r["source_tokens"] > 40) for r in rows)
    assert sorted(d["reason"] for d in _dead(result.output_dir)) == ["malformed", "missing_field"]
    assert result.counts == {"input": 12, "summarized": 10, "dropped:malformed": 1, "dropped:missing_field": 1}


def test_duplicate_ids_and_wrong_types_get_their_own_reasons(tmp_path, export_dir):
    docs = [{"id": r["id"], "article": r["article"]} for r in pairs(5, seed=8)]
    docs += [{"id": docs[0]["id"], "article": "Another text under the same id."},
             {"id": "number", "article": 42}, {"id": "list", "article": ["a", "b"]}]
    write_jsonl(tmp_path / "docs.jsonl", docs)
    result = summarize.run(_config(tmp_path, export_dir, tmp_path / "docs.jsonl"), make_pipeline=local_pipeline,
                           log=lambda m: None)
    assert result.counts == {"input": 8, "summarized": 5, "dropped:duplicate_id": 1, "dropped:wrong_type": 2}
    assert sorted(r["id"] for r in _rows(result.output_dir)) == sorted(d["id"] for d in docs[:5])
    dead = {d["id"]: d for d in _dead(result.output_dir)}
    assert dead["number"]["detail"] == "'article' is int, expected a string"
    assert dead[docs[0]["id"]]["reason"] == "duplicate_id"
    kept = summarize.run(_config(tmp_path, export_dir, tmp_path / "docs.jsonl", "summarize.duplicate_ids=keep"),
                         make_pipeline=local_pipeline, log=lambda m: None)
    assert kept.counts == {"input": 8, "summarized": 6, "dropped:wrong_type": 2}


def test_rerun_after_a_crash_writes_complete_output_once(tmp_path, export_dir):
    write_jsonl(tmp_path / "docs.jsonl", [{"id": r["id"], "article": r["article"]} for r in pairs(6)])
    config = _config(tmp_path, export_dir, tmp_path / "docs.jsonl")
    os.makedirs(tmp_path / "out" / ".sumflow-staging-crashed" / "summaries")  # what a killed run leaves behind
    summarize.run(config, make_pipeline=local_pipeline, log=lambda m: None)
    summarize.run(config, make_pipeline=local_pipeline, log=lambda m: None)
    assert sorted(r["id"] for r in _rows(str(tmp_path / "out"))) == sorted(f"doc-{i:04d}" for i in range(6))
    assert not [n for n in os.listdir(tmp_path / "out") if n.startswith(".sumflow-staging")]


def test_a_complete_output_is_skipped_unless_forced_or_changed(tmp_path, export_dir):
    write_jsonl(tmp_path / "docs.jsonl", [{"id": r["id"], "article": r["article"]} for r in pairs(3)])
    config = _config(tmp_path, export_dir, tmp_path / "docs.jsonl")
    first = summarize.run(config, make_pipeline=local_pipeline, log=lambda m: None)
    again = summarize.run(config, make_pipeline=local_pipeline, log=lambda m: None)
    assert (first.status, again.status, again.counts) == ("written", "skipped", first.counts)
    assert summarize.run(config, force=True, make_pipeline=local_pipeline, log=lambda m: None).status == "written"
    changed = _config(tmp_path, export_dir, tmp_path / "docs.jsonl", "summarize.duplicate_ids=keep")
    assert summarize.run(changed, make_pipeline=local_pipeline, log=lambda m: None).status == "written"
    assert summarize.run(changed, make_pipeline=local_pipeline, log=lambda m: None).status == "skipped"


def test_long_documents_reject_and_chunk(tmp_path, export_dir):
    long_doc = {"id": "long", "article": " ".join(r["article"] for r in pairs(4, seed=2))}  # > 40 tokens
    write_jsonl(tmp_path / "docs.jsonl", [long_doc, {"id": "short", "article": "River stone market."}])
    rejected = summarize.run(_config(tmp_path, export_dir, tmp_path / "docs.jsonl",
                                     "summarize.long_documents=reject"), make_pipeline=local_pipeline,
                             log=lambda m: None)
    assert [r["id"] for r in _rows(rejected.output_dir)] == ["short"]
    assert [(d["id"], d["reason"], d["origin"]) for d in _dead(rejected.output_dir)] == [
        ("long", "rejected_long_document", f"{tmp_path / 'docs.jsonl'}:1")]
    assert _dead(rejected.output_dir)[0]["detail"].endswith(" tokens, the model reads 40 "
                                                            "(summarize.long_documents=reject)")
    chunked = summarize.run(_config(tmp_path, export_dir, tmp_path / "docs.jsonl",
                                    "summarize.long_documents=chunk", f"summarize.output_dir={tmp_path / 'c'}"),
                            make_pipeline=local_pipeline, log=lambda m: None)
    rows = {r["id"]: r for r in _rows(chunked.output_dir)}
    assert rows["long"]["chunks"] >= 2 and not rows["long"]["truncated"]


class _Tensor:
    def __init__(self, value):
        self.value = value

    def numpy(self):
        return self.value


class _FakeModule:
    """Stands in for the SavedModel: fails any batch holding the poisoned document."""

    def __init__(self):
        self.signatures = {"serving_default": self._serve}

    @staticmethod
    def _serve(texts):
        import numpy as np

        values = [t.decode() for t in texts.numpy()]
        if any("POISON" in v for v in values):
            raise ValueError("cannot summarize this")
        return {"summary": _Tensor(np.array([v[:5].encode() for v in values])),
                "source_tokens": _Tensor(np.array([len(v) for v in values])),
                "summary_tokens": _Tensor(np.ones(len(values), "int32")),
                "truncated": _Tensor(np.zeros(len(values), bool))}


def test_a_bad_document_does_not_take_down_its_batch_mates():
    dofn = summarize._Summarize(SummarizeConfig(batch_size=4), shared_handle=None, total=3)
    dofn._model = ExportedModel(_FakeModule(), ExportInfo(fingerprint="f", max_source_tokens=9, decode={},
                                                          vocab_sha256="v"), "")
    dofn._progress = Counter("summarize")
    docs = [{"id": "a", "text": "alpha text", "origin": "d.jsonl:1", "sha": "1"},
            {"id": "bad", "text": "POISON", "origin": "d.jsonl:2", "sha": "2"},
            {"id": "c", "text": "gamma", "origin": "d.jsonl:3", "sha": "3"}]
    out = list(dofn.process((0, docs)))
    good = [o for o in out if isinstance(o, dict)]
    dead = [o.value for o in out if not isinstance(o, dict)]
    assert [g["id"] for g in good] == ["a", "c"] and good[0]["summary"] == "alpha"
    assert [g["source_sha256"] for g in good] == ["1", "3"]  # the cleaned text's hash (pipeline/reuse.py)
    assert [(d["id"], d["reason"], d["origin"]) for d in dead] == [("bad", "summarize_failed", "d.jsonl:2")]
    assert "cannot summarize this" in dead[0]["detail"]


def test_a_truncated_input_fails_before_anything_is_written(tmp_path, export_dir):
    import gzip

    from workspace.errors import InputError

    data = gzip.compress("".join(json.dumps({"id": r["id"], "article": r["article"]}) + "\n"
                                 for r in pairs(200, seed=9)).encode())
    (tmp_path / "docs.jsonl.gz").write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match=r"docs.jsonl.gz cannot be read to its end: EOFError"):
        summarize.run(_config(tmp_path, export_dir, tmp_path / "docs.jsonl.gz"), make_pipeline=local_pipeline,
                      log=lambda m: None)
    assert not os.path.exists(tmp_path / "out" / "_SUCCESS")


def test_a_long_chinese_document_is_chunked_at_its_sentences_without_spaces():
    dofn = summarize._Summarize(SummarizeConfig(batch_size=4), shared_handle=None, total=1)
    seen = []

    def run(chunks):
        seen.extend(chunks)
        return [{"summary": c[:3], "summary_tokens": 3, "truncated": False} for c in chunks]

    dofn._run = run
    document = "第一句话很长很长。第二句话也很长！第三句话？第四句话很长很长很长。"  # 29 characters, 4 sentences
    result = dofn._chunked(document, tokens=30, limit=20)  # a chunk holds 0.9 * 20 = 18 tokens, ~1 a character
    assert seen == ["第一句话很长很长。第二句话也很长！", "第三句话？第四句话很长很长很长。"]
    assert result == {"summary": "第一句\n第三句", "source_tokens": 30, "summary_tokens": 6, "truncated": False,
                      "chunks": 2}


_CHANGED = ("summarize.model_dir {}: the model changed during the run (exported again while the documents were "
            "summarized); nothing was marked complete: run summarize again")


def test_a_model_exported_again_during_the_run_fails_it_and_marks_nothing(tmp_path, export_dir, monkeypatch):
    import shutil

    from workspace.errors import InputError

    model = tmp_path / "export"
    shutil.copytree(export_dir, model)
    write_jsonl(tmp_path / "docs.jsonl", [{"id": r["id"], "article": r["article"]} for r in pairs(3)])
    read_accounting = summarize.read_accounting

    def exported_again_then_read(path):  # after the workers summarized with the pinned model
        info = model / "sumflow_export.json"
        info.write_text(info.read_text() + "\n")
        return read_accounting(path)

    monkeypatch.setattr(summarize, "read_accounting", exported_again_then_read)
    with pytest.raises(InputError) as raised:
        summarize.run(_config(tmp_path, model, tmp_path / "docs.jsonl"), make_pipeline=local_pipeline,
                      log=lambda m: None)
    assert str(raised.value) == _CHANGED.format(model)
    assert not os.path.exists(tmp_path / "out" / "_SUCCESS")


def test_a_worker_refuses_a_model_that_is_not_the_pinned_one(export_dir):
    from pipeline.completion import exported_model
    from workspace.errors import InputError

    pinned = exported_model(export_dir)
    with pytest.raises(InputError) as raised:
        summarize.load_pinned(export_dir, {**pinned, "info_sha256": "another export"})
    assert str(raised.value) == _CHANGED.format(export_dir)
