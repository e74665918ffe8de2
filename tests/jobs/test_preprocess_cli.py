"""`sumflow preprocess` as a scheduler runs it: a subprocess, exit codes, Beam's multi-process mode."""

import json
import os
import subprocess
import sys

import pytest

from tests.fixtures import pairs, write_jsonl

SUMFLOW = [sys.executable, "-m", "jobs.cli"]


def _run(args, cwd):
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    return subprocess.run(SUMFLOW + args, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_multiprocess_run_then_skip(tmp_path):
    write_jsonl(tmp_path / "pairs.jsonl", pairs(200))
    args = ["preprocess", "-c", "jsonl", "--set", f"source.paths=[{tmp_path / 'pairs.jsonl'}]",
            "--set", "tokenizer.vocab_size=400", "--set", "clean.min_article_words=5",
            "--set", "beam.direct_num_workers=2", "-o", str(tmp_path / "out")]
    first = _run(args, tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["config"]["beam"]["direct_running_mode"] == "multi_processing"
    assert manifest["counts"]["input"] == 200
    assert manifest["counts"]["written"] + sum(manifest["counts"]["dropped"].values()) == 200
    again = _run(args, tmp_path)
    assert again.returncode == 0 and "already complete" in again.stderr


def test_exit_codes_for_bad_config_and_missing_input(tmp_path):
    bad = _run(["preprocess", "--set", "tokenizer.vocab_sise=9"], tmp_path)
    assert bad.returncode == 2 and "did you mean tokenizer.vocab_size" in bad.stderr
    missing = _run(["preprocess", "-c", "jsonl", "--set", f"source.paths=[{tmp_path}/nothing*.jsonl]",
                    "-o", str(tmp_path / "out")], tmp_path)
    assert missing.returncode == 3 and "no files match" in missing.stderr


def test_help_lists_the_jobs():
    from click.testing import CliRunner

    from jobs.cli import main

    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    assert "preprocess" in result.output and "doctor" in result.output


def test_doctor_reports_versions_runners_and_gpu(tmp_path):
    result = _run(["doctor"], tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    for expected in ("tensorflow ", "apache-beam", "DirectRunner", "gpu:", "tensorflow-text ops: loaded"):
        assert expected in result.stdout


@pytest.mark.slow
def test_the_built_in_corpus_reads_the_standard_library_and_installed_packages(tmp_path):
    """The default config's source through the real job: ids from each source, articles that start with the
    documented name, every parsed docstring accounted for."""
    args = ["preprocess", "-c", "default", "--set", "source.builtin_packages=[stdlib, rouge_score]",
            "--set", "source.builtin_max_records=0", "--set", "tokenizer.vocab_size=1500",
            "-o", str(tmp_path / "out")]
    done = _run(args, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    from contract.records import decode_example
    from contract.tfrecord import read_records
    from pipeline.builtin_corpus import docstring_pairs, module_files

    parsed = [r for f in module_files(["stdlib", "rouge_score"]) for r in docstring_pairs(f, with_names=True)]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert manifest["counts"]["input"] == len(parsed)
    assert manifest["counts"]["written"] + sum(manifest["counts"]["dropped"].values()) == len(parsed)
    written = []
    for path in sorted((tmp_path / "out" / "data").glob("*.tfrecord")):
        with open(path, "rb") as f:
            written += [decode_example(r) for r in read_records(f, str(path))]
    by_id = {r["id"]: r for r in parsed}
    assert {r["id"].split(":")[0] for r in written} == {"stdlib", "rouge_score"}
    assert all(r["id"] in by_id for r in written)
    names = {r["id"]: by_id[r["id"]]["article"].split(": ", 1)[0] for r in written}
    assert all(i.endswith(n) for i, n in names.items())  # a module's dotted name, or Class.method inside it
    assert any("." in n and ":" + n not in i for i, n in names.items())  # some methods (Class.method)
    bad = [(r["id"], r["article"][:60]) for r in written if not r["article"].startswith(names[r["id"]] + ":")]
    assert bad == []
