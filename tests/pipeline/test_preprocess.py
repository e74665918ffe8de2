"""The preprocessing job end to end on a corpus the test writes, with exact expected counts."""

import gzip
import json
import os

import pytest

from configs.load import load_config
from contract import manifest as manifest_lib
from workspace import outputs
from pipeline import preprocess
from contract.records import decode_example
from tests.fixtures import local_pipeline, pairs, write_jsonl


def _corpus(tmp_path):
    records = pairs(40, seed=1)
    long_article = " ".join(records[0]["article"].split() * 3)
    records[0]["article"] = long_article
    near = long_article.split()
    near[len(near) // 2] = "zeppelin"
    extra = [
        {"id": "copy-of-1", "article": records[1]["article"], "summary": "Another summary here."},  # exact dup
        {"id": "near-of-0", "article": " ".join(near), "summary": "A near copy."},  # near duplicate
        {"id": "short", "article": "Too short.", "summary": "Short."},  # under min_article_words
        {"id": "no-summary", "article": records[2]["article"] + " extra words"},  # missing field
        {"id": "empty-summary", "article": records[3]["article"] + " more", "summary": "<b> </b>"},
        dict(records[4]),  # same id, same content: a repeated record
    ]
    path = tmp_path / "pairs.jsonl"
    write_jsonl(path, records + extra, extra_lines=["{not json", "", "[1, 2]"])
    with open(path, "ab") as f:
        f.write(b'{"id": "latin1", "article": "caf\xe9 ' + b"word " * 20 + b'", "summary": "x"}\n')
    return path


def _config(tmp_path, path, *more):
    return load_config([], ["source.format=jsonl", f"source.paths=[{path}]",
                            f"preprocess.output_dir={tmp_path / 'out'}", "tokenizer.vocab_size=400",
                            "clean.min_article_words=5", *more])


def test_every_record_is_written_or_dropped_with_its_reason(tmp_path):
    path = _corpus(tmp_path)
    config = _config(tmp_path, path)
    result = preprocess.run(config, make_pipeline=local_pipeline, log=lambda m: None)
    assert result.status == "written"
    m = manifest_lib.read_manifest(result.output_dir)
    assert m.counts["dropped"] == {"bad_encoding": 1, "duplicate_exact": 1, "duplicate_id": 1,
                                   "empty_summary": 1, "malformed": 2, "missing_field": 1,
                                   "near_duplicate": 1, "article_too_short": 1}
    assert m.counts["input"] == 40 + 6 + 3 + 1 - 1  # the blank line is layout, not a record
    assert m.counts["written"] == 40  # 40 originals + copy-of-1, less one of the exact pair
    assert sum(s.num_records for s in m.splits.values()) == m.counts["written"]

    examples = []
    for split in ("train", "validation", "test"):
        for file in manifest_lib.split_paths(result.output_dir, m, split):
            import tensorflow as tf

            examples += [(split, decode_example(r.numpy())) for r in tf.data.TFRecordDataset(file)]
    by_id = {e["id"]: (s, e) for s, e in examples}
    assert len(by_id) == len(examples) == 40
    # The survivor of a duplicate pair is the one in the most precious split (test > validation > train),
    # then the smallest id: doc-0001 hashes to test, its copy to train, so the copy is dropped.
    from configs.schema import SplitConfig
    from contract.split import assign_split

    assert (assign_split("doc-0001", SplitConfig()), assign_split("copy-of-1", SplitConfig())) == ("test", "train")
    assert set(by_id) == {f"doc-{i:04d}" for i in range(40)}
    assert by_id["doc-0001"][0] == "test"
    split, example = by_id["doc-0005"]
    assert example["summary"].count("\n") == 1  # two sentences, one a line
    from contract.tokenizer import Tokenizer

    tok = Tokenizer.load(manifest_lib.vocab_path(result.output_dir, m))
    assert example["article_ids"] == tok.encode([example["article"]])[0]
    assert tok.decode(example["summary_ids"]) == example["summary"]

    dead = []
    for name in os.listdir(os.path.join(result.output_dir, "dead_letter")):
        with open(os.path.join(result.output_dir, "dead_letter", name)) as f:
            dead += [json.loads(line) for line in f]
    assert len(dead) == sum(m.counts["dropped"].values())
    assert {d["id"] for d in dead if d["reason"] == "near_duplicate"} == {"near-of-0"}
    stats = json.load(open(os.path.join(result.output_dir, "stats.json")))
    assert sum(s["records"] for s in stats["lengths"].values()) == m.counts["written"]


def test_rerun_is_skipped_unless_forced_or_changed(tmp_path):
    path = tmp_path / "pairs.jsonl"
    write_jsonl(path, pairs(30))
    config = _config(tmp_path, path, "dedup.near=false")
    first = preprocess.run(config, make_pipeline=local_pipeline, log=lambda m: None)
    again = preprocess.run(config, make_pipeline=local_pipeline, log=lambda m: None)
    assert (first.status, again.status) == ("written", "skipped")
    assert preprocess.run(config, force=True, make_pipeline=local_pipeline, log=lambda m: None).status == "written"
    changed = _config(tmp_path, path, "dedup.near=false", "clean.lowercase=true")
    assert preprocess.run(changed, make_pipeline=local_pipeline, log=lambda m: None).status == "written"
    # No staging folders are left behind; the marker holds the fingerprint of the last run.
    out = tmp_path / "out"
    assert not [n for n in os.listdir(out) if n.startswith(".sumflow-staging")]
    assert outputs.read_marker(str(out)) == manifest_lib.read_manifest(str(out)).fingerprint


def test_a_locked_output_directory_is_refused(tmp_path):
    path = tmp_path / "pairs.jsonl"
    write_jsonl(path, pairs(10))
    config = _config(tmp_path, path)
    with outputs.locked(str(tmp_path / "out")):
        with pytest.raises(outputs.LockedError, match="being written by another run"):
            preprocess.run(config, make_pipeline=local_pipeline, log=lambda m: None)


def test_reader_refuses_incomplete_or_tampered_output(tmp_path):
    path = tmp_path / "pairs.jsonl"
    write_jsonl(path, pairs(30))
    result = preprocess.run(_config(tmp_path, path, "dedup.near=false"), make_pipeline=local_pipeline,
                            log=lambda m: None)
    out = result.output_dir
    other = tmp_path / "other.jsonl"
    write_jsonl(other, pairs(30, seed=9))
    other_result = preprocess.run(load_config([], [
        "source.format=jsonl", f"source.paths=[{other}]", f"preprocess.output_dir={tmp_path / 'out2'}",
        "tokenizer.vocab_size=420", "clean.min_article_words=5"]), make_pipeline=local_pipeline,
        log=lambda m: None)
    os.replace(os.path.join(other_result.output_dir, "vocab", "spm.model"), os.path.join(out, "vocab", "spm.model"))
    with pytest.raises(manifest_lib.ManifestError, match="vocabulary was replaced"):
        manifest_lib.read_manifest(out)
    os.remove(os.path.join(out, "_SUCCESS"))
    with pytest.raises(manifest_lib.ManifestError, match="did not finish"):
        manifest_lib.read_manifest(out)


def test_gzip_csv_and_source_splits(tmp_path):
    import csv

    records = pairs(30, seed=3)
    train = tmp_path / "train.csv.gz"
    with gzip.open(train, "wt", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "article", "summary"])
        writer.writeheader()
        for r in records[:20]:
            writer.writerow(dict(r, article=r["article"].replace(". ", ".\n", 1)))  # a quoted multi-line field
    test = tmp_path / "test.csv"
    with open(test, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["id", "article", "summary"])
        writer.writeheader()
        for r in records[20:]:
            writer.writerow(r)
        f.write("lonely-field\n")
    config = load_config([], ["source.format=csv", f"source.split_paths.train={train}",
                              f"source.split_paths.test={test}", f"preprocess.output_dir={tmp_path / 'out'}",
                              "tokenizer.vocab_size=400", "clean.min_article_words=5", "dedup.near=false"])
    m = preprocess.run(config, make_pipeline=local_pipeline, log=lambda m: None).manifest
    assert {s: i.num_records for s, i in m.splits.items()} == {"train": 20, "validation": 0, "test": 10}
    assert m.counts["dropped"] == {"malformed": 1}


def test_text_folder_in_story_layout(tmp_path):
    folder = tmp_path / "stories"
    folder.mkdir()
    for r in pairs(12, seed=4):
        body = r["article"] + "\n\n@highlight\n\n" + "\n\n@highlight\n\n".join(r["summary"].split(". "))
        (folder / f"{r['id']}.story").write_text(body)
    (folder / "no-highlights.story").write_text("Just an article without any summary lines at all here.")
    config = load_config([], ["source.format=text_dir", f"source.paths=[{folder}]",
                              f"preprocess.output_dir={tmp_path / 'out'}", "tokenizer.vocab_size=400",
                              "clean.min_article_words=5", "dedup.near=false"])
    m = preprocess.run(config, make_pipeline=local_pipeline, log=lambda m: None).manifest
    assert m.counts == {"input": 13, "written": 12, "dropped": {"missing_field": 1}}


def test_tfds_source_with_mock_data(tmp_path):
    tfds = pytest.importorskip("tensorflow_datasets")
    config = load_config([], ["source.format=tfds", "source.tfds_name=cnn_dailymail",
                              f"preprocess.output_dir={tmp_path / 'out'}", "tokenizer.vocab_size=400",
                              "clean.min_article_words=1", "dedup.near=false",
                              "source.tfds_splits={train: train, test: test}"])
    with tfds.testing.mock_data(num_examples=12, policy=tfds.testing.MockPolicy.USE_CODE):
        m = preprocess.run(config, make_pipeline=local_pipeline, log=lambda m: None).manifest
    assert m.counts["input"] == 24
    assert m.counts["written"] + sum(m.counts["dropped"].values()) == 24
    assert m.splits["validation"].num_records == 0
