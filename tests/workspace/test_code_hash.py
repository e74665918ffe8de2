import shutil

from workspace import code_hash


def test_any_change_to_a_package_source_changes_the_hash(tmp_path):
    copy = tmp_path / "pipeline"
    shutil.copytree(code_hash.package_dirs(["pipeline"])[0], copy, ignore=shutil.ignore_patterns("__pycache__"))
    before = code_hash.source_hash(dirs=[str(copy)])
    assert before == code_hash.source_hash(["pipeline"])  # same files, same hash, wherever they are
    (copy / "__pycache__").mkdir()
    (copy / "__pycache__" / "x.pyc").write_bytes(b"\0")  # not source: no change
    assert code_hash.source_hash(dirs=[str(copy)]) == before
    with open(copy / "sentences.py", "a") as f:
        f.write("\n# a change to a module nobody listed\n")
    assert code_hash.source_hash(dirs=[str(copy)]) != before


def test_an_old_output_counts_as_stale_after_a_shaping_module_changes(tmp_path, monkeypatch):
    """The completion fingerprint of preprocess follows the code: edit contract/example_proto.py (in a copy the
    job hashes instead of the installed package) and the completed output is rebuilt."""
    from configs.load import load_config
    from pipeline import preprocess
    from tests.fixtures import local_pipeline, pairs, write_jsonl

    copy = tmp_path / "code" / "pipeline"
    shutil.copytree(code_hash.package_dirs(["pipeline"])[0], copy, ignore=shutil.ignore_patterns("__pycache__"))
    real = code_hash.package_dirs
    monkeypatch.setattr(code_hash, "package_dirs",
                        lambda packages: [str(copy) if p == "pipeline" else real([p])[0] for p in packages])
    write_jsonl(tmp_path / "pairs.jsonl", pairs(40))
    config = load_config([], ["source.format=jsonl", "tokenizer.vocab_size=400", "clean.min_article_words=5",
                              "dedup.near=false"],
                         {"source.paths": [str(tmp_path / "pairs.jsonl")],
                          "preprocess.output_dir": str(tmp_path / "out")})

    def run():
        return preprocess.run(config, make_pipeline=local_pipeline, log=lambda m: None).status

    assert run() == "written"
    assert run() == "skipped"
    with open(copy / "example_proto.py", "a") as f:
        f.write("\n# changed\n")
    assert run() == "written"
