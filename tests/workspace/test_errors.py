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


def test_an_os_error_names_the_path_and_the_errno_wherever_it_was_raised():
    import errno

    from workspace.errors import os_error

    full = os_error(OSError(errno.ENOSPC, "No space left on device"), output="/x/out")
    assert (type(full), str(full)) == (UsageError, "cannot write /x/out: No space left on device (ENOSPC)")
    denied = os_error(PermissionError(errno.EACCES, "Permission denied", "/x/out/.sumflow.lock"), output="/x/out")
    assert str(denied) == "cannot write /x/out/.sumflow.lock: Permission denied (EACCES)"
    elsewhere = os_error(PermissionError(errno.EACCES, "Permission denied", "/etc/spm.model"), output="/x/out")
    assert str(elsewhere) == "cannot access /etc/spm.model: Permission denied (EACCES)"
    # as a Beam worker's error reaches the launcher: the traceback's text inside the runner's RuntimeError
    wrapped = RuntimeError("Traceback (most recent call last):\n  File \"x.py\", line 1\n    f.write(b)\n"
                           "RuntimeError: OSError: [Errno 28] No space left on device [while running 'Write']\n")
    assert str(os_error(wrapped, output="out")) == "cannot write out: No space left on device (ENOSPC)"
    escaped = RuntimeError("Exception(\"PermissionError: [Errno 13] Permission denied: '/d/a b.jsonl'\\nTrace\")")
    assert str(os_error(escaped)) == "cannot access /d/a b.jsonl: Permission denied (EACCES)"
    assert os_error(ValueError("[Errno 28] in a message")) is None
    assert os_error(InputError("x")) is None
