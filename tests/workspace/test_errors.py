from workspace.errors import InputError, LockedError, UsageError, from_text


def test_exit_codes():
    assert (UsageError.exit_code, InputError.exit_code, LockedError.exit_code) == (2, 3, 75)


def test_a_worker_error_is_found_in_the_runners_wrapped_text():
    wrapped = ("RuntimeError: Pipeline job failed.\nTraceback (most recent call last):\n  File \"x.py\", line 1\n"
               "workspace.errors.InputError: /d/pairs.jsonl.gz cannot be read to its end: EOFError: Compressed "
               "file ended [while running 'Read/ReadLines/ReadRanges']\n\nmore text")
    error = from_text(wrapped)
    assert type(error) is InputError
    assert str(error) == "/d/pairs.jsonl.gz cannot be read to its end: EOFError: Compressed file ended"
    escaped = "Exception('workspace.errors.UsageError: tokenizer.vocab_size=20 does not fit\\nTraceback')"
    assert str(from_text(escaped)) == "tokenizer.vocab_size=20 does not fit"
    assert from_text("ValueError: something else") is None
