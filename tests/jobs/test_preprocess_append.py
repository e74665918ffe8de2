"""`sumflow preprocess --append` through the real CLI, in the default runner mode: only the new files are read,
deduplicated against the dataset and tokenized with its vocabulary; the earlier shards stay as they were;
whatever would make the append differ from a full build makes it a full build, said in one line."""

import hashlib
import json
import os

import pytest

from contract.manifest import read_manifest
from tests.fixtures import TINY_MODEL, pairs, write_jsonl
from tests.jobs.job_outputs import preprocess_output
from tests.jobs.test_trust import first_line, sumflow

SETTINGS = ["--set", "tokenizer.vocab_size=400"]


def _preprocess(tmp_path, *extra):
    return sumflow(["preprocess", "-c", "jsonl", "-i", str(tmp_path / "in" / "*.jsonl"), "-o", "out", *SETTINGS,
                    *extra], tmp_path)


def _digests(folder) -> dict:
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in sorted(os.listdir(folder))}


def _lines(result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("preprocess:")]


@pytest.fixture
def dataset(tmp_path):
    """A dataset built from in/a.jsonl (120 pairs), and in/b.jsonl: 10 new pairs, a copy of an earlier article
    under a new id, and a new article under an id the dataset holds."""
    earlier = pairs(120)
    (tmp_path / "in").mkdir()
    write_jsonl(tmp_path / "in" / "a.jsonl", earlier)
    built = _preprocess(tmp_path)
    assert built.returncode == 0, built.stderr[-3000:]
    new = [dict(p, id=f"new-{i}") for i, p in enumerate(pairs(10, seed=7))]
    new.append({"id": "copy-of-doc-0005", "article": earlier[5]["article"], "summary": "A copy."})
    new.append({"id": "doc-0007", "article": pairs(1, seed=9)[0]["article"], "summary": "Another record."})
    write_jsonl(tmp_path / "in" / "b.jsonl", new)
    return tmp_path


def test_an_append_reads_the_new_file_only_and_keeps_the_dataset_in_place(dataset):
    before = read_manifest(str(dataset / "out"))
    shards = _digests(dataset / "out" / "data")
    result = _preprocess(dataset, "--append")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _lines(result)[0] == ("preprocess: appending generation 1: 1 new input file(s); the dataset's "
                                 f"{before.counts['written']:,} records stay in place")
    after = read_manifest(str(dataset / "out"))
    assert after.vocab == before.vocab  # tokenized with the dataset's vocabulary: its models keep working
    now = _digests(dataset / "out" / "data")
    assert {name: now[name] for name in shards} == shards  # the earlier shards, untouched
    new_shards = sorted(set(now) - set(shards))
    assert new_shards and all("-g0001-" in name for name in new_shards)
    written = preprocess_output(str(dataset / "out"))["records"]
    for split, info in after.splits.items():
        assert list(info.files[:len(before.splits[split].files)]) == list(before.splits[split].files)
        assert info.num_records == len(written[split])
    assert [g["generation"] for g in after.generations] == [0, 1]
    added = after.generations[1]
    assert added["inputs"] == [str(dataset / "in" / "b.jsonl")]
    assert added["counts"] == {"input": 12, "written": 10, "dropped": {"duplicate_exact": 1, "duplicate_id": 1}}
    assert after.counts == {"input": before.counts["input"] + 12, "written": before.counts["written"] + 10,
                            "dropped": {"duplicate_exact": 1, "duplicate_id": 1}}
    letters = [json.loads(line) for name in sorted(os.listdir(dataset / "out" / "dead_letter")) if "-g0001-" in name
               for line in (dataset / "out" / "dead_letter" / name).read_text().splitlines()]
    assert sorted((d["id"], d["reason"]) for d in letters) == [("copy-of-doc-0005", "duplicate_exact"),
                                                               ("doc-0007", "duplicate_id")]
    assert _lines(result)[-1].startswith(
        f"preprocess: appended generation 1: wrote 10 records, dropped 2 {{'duplicate_exact': 1, 'duplicate_id': 1}}, "
        f"of 12 input records in 1 new file(s); the dataset holds {after.counts['written']} records ")

    again = _preprocess(dataset, "--append")  # nothing new: the scheduled rerun is a no-op
    assert again.returncode == 0 and "is already complete for these inputs and config" in _lines(again)[0]

    # A full build over the same files with the same vocabulary: the same counts; which copy of a duplicate
    # pair survives may differ (a full build keeps the one in the most precious split, an append the earlier).
    (dataset / "vocab.model").write_bytes((dataset / "out" / "vocab" / "spm.model").read_bytes())
    full = sumflow(["preprocess", "-c", "jsonl", "-i", str(dataset / "in" / "*.jsonl"), "-o", "full", *SETTINGS,
                    "--set", f"tokenizer.model_path={dataset / 'vocab.model'}"], dataset)
    assert full.returncode == 0, full.stderr[-3000:]
    rebuilt = read_manifest(str(dataset / "full"))
    assert rebuilt.counts == after.counts
    assert {s: i.num_records for s, i in rebuilt.splits.items()} == {s: i.num_records for s, i in after.splits.items()}


def test_what_would_differ_from_a_full_build_makes_one_and_says_why(dataset):
    result = _preprocess(dataset, "--append", "--set", "clean.lowercase=true")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _lines(result)[0] == ("preprocess: --append: clean.lowercase (False -> True) changed since the dataset "
                                 "was built; building the dataset whole")
    assert [g["generation"] for g in read_manifest(str(dataset / "out")).generations] == [0]
    assert not [n for n in os.listdir(dataset / "out" / "data") if "-g0" in n]

    os.utime(dataset / "in" / "a.jsonl", (1, 1))  # an earlier input rewritten since
    result = _preprocess(dataset, "--append", "--set", "clean.lowercase=true")
    assert result.returncode == 0, result.stderr[-3000:]
    assert _lines(result)[0] == (f"preprocess: --append: input {dataset / 'in' / 'a.jsonl'} changed since the "
                                 f"dataset was built; building the dataset whole")


@pytest.mark.slow
def test_a_model_continues_on_the_appended_dataset_and_another_vocabulary_is_refused(dataset):
    tiny = [arg for o in TINY_MODEL + ["train.epochs=1", "train.steps_per_epoch=2"] for arg in ("--set", o)]
    first = sumflow(["train", "--set", "train.data_dir=out", "--set", "train.model_dir=m1", *tiny], dataset)
    assert first.returncode == 0, first.stderr[-3000:]
    assert _preprocess(dataset, "--append").returncode == 0
    more = sumflow(["train", "--set", "train.data_dir=out", "--set", "train.model_dir=m2",
                    "--set", "train.init_from=m1", *tiny], dataset)
    assert more.returncode == 0, more.stderr[-3000:]
    assert "train: starting from the weights of m1" in more.stderr
    other = sumflow(["preprocess", "-c", "jsonl", "-i", str(dataset / "in" / "a.jsonl"), "-o", "other",
                     "--set", "tokenizer.vocab_size=450"], dataset)
    assert other.returncode == 0, other.stderr[-3000:]
    refused = sumflow(["train", "--set", "train.data_dir=other", "--set", "train.model_dir=m3",
                       "--set", "train.init_from=m1", *tiny], dataset)
    assert refused.returncode == 3, refused.stderr[-3000:]
    assert first_line(refused).startswith("sumflow train: train.init_from m1: trained on another vocabulary")
