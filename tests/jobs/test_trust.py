"""The real CLI over hostile inputs and ordinary operator mistakes: exit codes, the first line a user sees,
exact accounting, and an output directory whose other files sumflow never touches."""

import fcntl
import gzip
import json
import os
import subprocess
import sys

import pytest

from tests.fixtures import pairs, write_jsonl

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FAST = ["--set", "beam.direct_running_mode=in_memory", "--set", "tokenizer.vocab_size=400",
        "--set", "clean.min_article_words=5"]


def sumflow(args, cwd, env=None):
    full_env = dict(os.environ, PYTHONPATH=REPO, **(env or {}))
    full_env.pop("SUMFLOW_DEBUG", None)
    return subprocess.run([sys.executable, "-m", "jobs.cli", *args], cwd=cwd, env=full_env, capture_output=True,
                          text=True, timeout=600)


def first_line(result) -> str:
    """The first line sumflow itself wrote on stderr (dependency warnings filtered out)."""
    lines = [line for line in result.stderr.splitlines() if line.startswith("sumflow")]
    return lines[0] if lines else ""


def one_line_failure(result, code: int, *expected: str) -> None:
    assert result.returncode == code, result.stderr[-3000:]
    line = first_line(result)
    for text in expected:
        assert text in line, result.stderr[-3000:]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]


def tree(root) -> dict:
    """{relative path: bytes} of every file below root."""
    out = {}
    for folder, _, files in os.walk(root):
        for name in files:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, root)] = f.read()
    return out


# --- hostile input, exact accounting -----------------------------------------------------------------------

def hostile_jsonl(path) -> dict:
    """A JSONL file with one record of each kind of trouble; returns the expected drop counts by reason."""
    good = pairs(60, seed=3)
    article = good[0]["article"]
    fresh = [p["article"] for p in pairs(3, seed=99)]  # texts no other record shares
    rows = [json.dumps(r) for r in good]
    rows += [
        '{"id": "broken", "article": "no closing brace"',                                   # malformed
        "null",                                                                              # malformed
        "[1, 2, 3]",                                                                         # malformed
        json.dumps({"id": "no-summary", "article": article}),                                # missing_field
        json.dumps({"id": "number", "article": 12345, "summary": "A number."}),               # wrong_type
        json.dumps({"id": "blank", "article": "   \t ", "summary": "Nothing here."}),         # empty_article
        json.dumps({"id": "no-summary-text", "article": article, "summary": " "}),           # empty_summary
        json.dumps({"id": "nospaces", "article": "x" * 5000, "summary": "One word."}),        # article_too_short
        json.dumps({"id": "huge", "article": ("word " * 400_000).strip(), "summary": "Big."}),  # article_too_long
        json.dumps({"id": good[1]["id"], "article": fresh[0], "summary": "Other."}),             # duplicate_id
        json.dumps({"id": "near", "article": good[6]["article"] + " Again.", "summary": "Near."}),  # near copy
        json.dumps({"id": "copy", "article": good[3]["article"], "summary": good[3]["summary"]}),  # exact copy
        json.dumps({"id": "nul", "article": "Nul\u0000 byte " + fresh[1], "summary": "Kept."}),
        json.dumps({"id": "html", "article": "<p>" + fresh[2] + "</p><script>x()</script>",
                    "summary": "<b>Kept</b> &amp; clean."}),
    ]
    with open(path, "wb") as f:
        f.write(b"\xef\xbb\xbf")  # a byte-order mark before the first record
        for i, row in enumerate(rows):
            f.write(row.encode("utf-8") + b"\r\n")  # CRLF line ends
            if i == 10:
                f.write(b"\r\n   \r\n")  # blank lines are layout, not records
        f.write(b'{"id": "latin1", "article": "caf\xe9 ' + article.encode() + b'", "summary": "x"}\r\n')  # bad_encoding
        f.write(b"\r\n\r\n")  # trailing blank lines
    return {"malformed": 3, "missing_field": 1, "wrong_type": 1, "empty_article": 1, "empty_summary": 1,
            "article_too_short": 1, "article_too_long": 1, "duplicate_id": 1, "duplicate_exact": 1,
            "near_duplicate": 1, "bad_encoding": 1}


@pytest.mark.slow
def test_hostile_jsonl_every_record_accounted_for(tmp_path):
    expected = hostile_jsonl(tmp_path / "pairs.jsonl")
    result = sumflow(["preprocess", "-c", "jsonl", "-i", str(tmp_path / "pairs.jsonl"), "-o", str(tmp_path / "out"),
                      *FAST, "--set", "clean.max_article_words=100000"], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    counts = manifest["counts"]
    # 60 good + 14 troubled + 1 bad encoding; the BOM'd first record is read, blank lines are not records.
    assert counts["input"] == 75
    assert counts["dropped"] == expected
    assert counts["written"] == 75 - sum(expected.values()) == 62
    dead = [json.loads(line) for name in os.listdir(tmp_path / "out" / "dead_letter")
            for line in open(tmp_path / "out" / "dead_letter" / name, encoding="utf-8")]
    assert sorted(d["reason"] for d in dead) == sorted(r for r, n in expected.items() for _ in range(n))
    assert {d["id"] for d in dead if d["reason"] == "wrong_type"} == {"number"}


def test_truncated_gzip_fails_the_job_and_marks_nothing_complete(tmp_path):
    data = gzip.compress("".join(json.dumps(r) + "\n" for r in pairs(300)).encode())
    (tmp_path / "pairs.jsonl.gz").write_bytes(data[: len(data) // 2])
    result = sumflow(["preprocess", "-c", "jsonl", "-i", str(tmp_path / "pairs.jsonl.gz"),
                      "-o", str(tmp_path / "out"), *FAST], tmp_path)
    one_line_failure(result, 3, "pairs.jsonl.gz cannot be read to its end", "EOFError")
    assert not (tmp_path / "out" / "_SUCCESS").exists()
    assert not [n for n in os.listdir(tmp_path / "out") if not n.startswith(".sumflow")]


# --- operator mistakes: one line, the README's exit code ---------------------------------------------------

@pytest.mark.parametrize("args, code, expected", [
    (["preprocess", "--ouput-dir", "x"], 2, "No such option '--ouput-dir'"),
    (["preprocess", "--ouput-dir", "x"], 2, "Did you mean one of: '--output-dir'"),
    (["preprocess", "stray"], 2, "unexpected extra argument (stray)"),
    (["preprocess", "--set", "tokenizer.vocab_size=[1,"], 2, "the value is not valid YAML"),
    (["preprocess", "--set", "tokenizer.vocab_sise=9"], 2, "did you mean tokenizer.vocab_size"),
    (["preprocess", "-c", "broken.yaml"], 2, "broken.yaml: not valid YAML"),
    (["preprocess", "-c", "jsonl", "-i", "nothing*.jsonl"], 3, "no files match 'nothing*.jsonl'"),
    (["preprocess", "-c", "jsonl", "-i", "folder"], 3, "folder is a folder; give files or a glob"),
    (["preprocess", "-c", "jsonl", "-i", "empty.jsonl", "-o", "out"], 3, "the train split holds no records"),
    (["export", "--model-dir", "no-model", "--export-dir", "exp"], 3, "model directory no-model does not exist"),
    (["export", "--model-dir", "folder", "--export-dir", "exp"], 3, "holds no finished training run"),
    (["train", "--data-dir", "folder", "--model-dir", "m"], 3, "no _SUCCESS marker"),
    (["summarize", "-i", "empty.jsonl", "--model-dir", "folder", "-o", "s"], 3,
     "holds no complete exported model"),
    (["evaluate", "--predictions", "latin1.jsonl", "-o", "ev"], 3, "latin1.jsonl:1: invalid UTF-8"),
])
def test_operator_mistakes_get_one_line(tmp_path, args, code, expected):
    (tmp_path / "broken.yaml").write_text("source:\n  format: [jsonl\n")
    (tmp_path / "folder").mkdir()
    (tmp_path / "empty.jsonl").write_text("\n\n")
    (tmp_path / "latin1.jsonl").write_bytes(b'{"id": "1", "summary": "caf\xe9"}\n')
    result = sumflow(args + (FAST if args[0] == "preprocess" else []), tmp_path)
    one_line_failure(result, code, expected)
    assert not (tmp_path / "runs").exists()  # nothing written to a default directory


def test_vocabulary_size_that_does_not_fit_the_data(tmp_path):
    write_jsonl(tmp_path / "pairs.jsonl", pairs(40))
    result = sumflow(["preprocess", "-c", "jsonl", "-i", "pairs.jsonl", "-o", "out", *FAST,
                      "--set", "tokenizer.vocab_size=300"], tmp_path)
    one_line_failure(result, 2, "tokenizer.vocab_size=300 does not fit", "Vocabulary size is smaller")
    assert not (tmp_path / "out" / "_SUCCESS").exists()


def test_debug_shows_the_traceback(tmp_path):
    result = sumflow(["--debug", "preprocess", "-c", "jsonl", "-i", "nothing*.jsonl"], tmp_path)
    assert result.returncode == 1 and "Traceback" in result.stderr and "InputError" in result.stderr


# --- what the user types is what sumflow uses --------------------------------------------------------------

@pytest.mark.parametrize("typed", ["out #2", "2024", "yes", "résumé dir"])
def test_path_options_are_taken_literally(typed):
    from jobs.options import load

    config = load(["jsonl"], [], {"preprocess.output_dir": typed, "source.paths": (typed + "/a.jsonl",)})
    assert config.preprocess.output_dir == typed
    assert config.source.paths == (typed + "/a.jsonl",)
    evaluate = load([], [], {"evaluate.output_dir": typed, "evaluate.lead_words": 4})
    assert evaluate.evaluate.output_dir == typed and evaluate.evaluate.lead_words == 4


@pytest.mark.slow
def test_a_path_with_a_hash_is_written_where_typed(tmp_path):
    write_jsonl(tmp_path / "pairs.jsonl", pairs(40))
    result = sumflow(["preprocess", "-c", "jsonl", "-i", "pairs.jsonl", "-o", "out #2", *FAST], tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "out #2" / "_SUCCESS").exists() and not (tmp_path / "out").exists()


# --- an output directory is the user's ---------------------------------------------------------------------

def _project(root) -> dict:
    """A user's folder holding files under the names sumflow writes, the job's own input among them."""
    (root / "data").mkdir(parents=True)
    (root / "analysis").mkdir()
    write_jsonl(root / "data" / "pairs.jsonl", pairs(40))
    (root / "data" / "thesis.tex").write_text("\\section{Mine}")
    (root / "analysis" / "notes.txt").write_text("notes")
    (root / "config.yaml").write_text("mine: true\n")
    return tree(root)


def test_a_users_directory_is_refused_and_left_untouched(tmp_path):
    project = tmp_path / "project"
    before = _project(project)
    # `-c jsonl -o .` in a folder holding data/pairs.jsonl: the job's own input lies inside the output.
    result = sumflow(["preprocess", "-c", "jsonl", "-i", "data/pairs.jsonl", "-o", ".", *FAST], project)
    one_line_failure(result, 2, "is not empty (analysis, config.yaml, data)", "--allow-nonempty")
    assert tree(project) == before
    # Allowed into a non-empty directory, it still never replaces what it did not write.
    result = sumflow(["preprocess", "-c", "jsonl", "-o", str(project), "--allow-nonempty", *FAST,
                      "--set", f"source.paths=[{project}/data/pairs.jsonl]"], tmp_path)
    one_line_failure(result, 2, "exists and was not written by `sumflow preprocess`")
    assert tree(project) == before


@pytest.mark.slow
def test_reruns_replace_only_sumflows_own_files(tmp_path):
    write_jsonl(tmp_path / "pairs.jsonl", pairs(40))
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.txt").write_text("the user's")
    args = ["preprocess", "-c", "jsonl", "-i", "pairs.jsonl", "-o", "out", *FAST]
    refused = sumflow(args, tmp_path)
    one_line_failure(refused, 2, "is not empty (README.txt)")
    first = sumflow(args + ["--allow-nonempty"], tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    owned = json.loads((out / ".sumflow-owned.json").read_text())
    assert owned["job"] == "preprocess" and "README.txt" not in owned["files"] and "manifest.json" in owned["files"]
    # The user adds files among sumflow's; a forced rerun (no permission needed now) keeps them.
    (out / "data" / "my-notes.txt").write_text("mine")
    (out / "dead_letter" / "keep.jsonl").write_text("{}\n")
    again = sumflow(args + ["--force", "--set", "tokenizer.vocab_size=420"], tmp_path)
    assert again.returncode == 0, again.stderr[-3000:]
    assert (out / "README.txt").read_text() == "the user's"
    assert (out / "data" / "my-notes.txt").read_text() == "mine"
    assert (out / "dead_letter" / "keep.jsonl").read_text() == "{}\n"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["tokenizer"]["vocab_size"] == 420
    written = {f for split in manifest["splits"].values() for f in split["files"]}
    on_disk = {f"data/{n}" for n in os.listdir(out / "data") if n.endswith(".tfrecord")}
    assert on_disk == written  # the first run's shards are gone, the user's note is not
    # Another job's output there is refused.
    other = sumflow(["evaluate", "--predictions", "pairs.jsonl", "-o", "out"], tmp_path)
    one_line_failure(other, 2, "holds the output of `sumflow preprocess`")


def test_training_takes_the_model_directory_lock(tmp_path):
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    with open(model_dir / ".sumflow.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        result = sumflow(["train", "--data-dir", "nowhere", "--model-dir", "model"], tmp_path)
    one_line_failure(result, 75, "is being written by another run")


def test_training_and_a_preprocess_of_its_data_do_not_overlap(tmp_path):
    """Training reads its data for the whole run (the lock shared); a preprocess writing them holds it alone."""
    data = tmp_path / "data"
    data.mkdir()
    write_jsonl(tmp_path / "pairs.jsonl", pairs(40))
    with open(data / ".sumflow.lock", "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)  # a training run reading the data
        result = sumflow(["preprocess", "-c", "jsonl", "-i", "pairs.jsonl", "-o", "data"], tmp_path)
        one_line_failure(result, 75, f"sumflow preprocess: {data.name} is being read by another run (lock "
                                     f".sumflow.lock held); wait for it or choose another output directory")
        fcntl.flock(handle, fcntl.LOCK_UN)
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a preprocess run writing them
        result = sumflow(["train", "--data-dir", "data", "--model-dir", "model"], tmp_path)
    one_line_failure(result, 75, "sumflow train: train.data_dir data is being written by another run")
    assert not (tmp_path / "model").exists()


def test_training_refuses_a_users_directory(tmp_path):
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / "history.csv").write_text("the user's own history\n")
    result = sumflow(["train", "--data-dir", "nowhere", "--model-dir", "model", "--allow-nonempty"], tmp_path)
    one_line_failure(result, 2, "history.csv exists and was not written by `sumflow train`")
    assert (tmp_path / "model" / "history.csv").read_text() == "the user's own history\n"
