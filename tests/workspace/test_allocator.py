"""`sumflow train` restarts itself under tcmalloc where it is installed (workspace/allocator.py): the same
interpreter and arguments, tcmalloc first in LD_PRELOAD; other jobs, SUMFLOW_ALLOCATOR=system and an
already-preloaded process are left as they are."""

import os
import subprocess
import sys

import pytest

from workspace import allocator

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _restart(monkeypatch, job, **env):
    calls = []
    monkeypatch.setattr(allocator, "find_tcmalloc", lambda: "/lib/libtcmalloc_minimal.so.4")
    monkeypatch.setattr(os, "execve", lambda *args: calls.append(args))
    for key in ("LD_PRELOAD", allocator.ENV):
        monkeypatch.delenv(key, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    allocator.preload_for(job)
    return calls


def test_train_restarts_with_tcmalloc_preloaded_and_the_same_arguments(monkeypatch):
    (call,) = _restart(monkeypatch, "train", LD_PRELOAD="/lib/other.so")
    executable, argv, env = call
    assert executable == sys.executable and argv == [sys.executable, *sys.orig_argv[1:]]
    assert env["LD_PRELOAD"] == "/lib/libtcmalloc_minimal.so.4:/lib/other.so"


@pytest.mark.parametrize("job, env", [("preprocess", {}), ("summarize", {}),
                                      ("train", {allocator.ENV: "system"}),
                                      ("train", {"LD_PRELOAD": "/usr/lib/libtcmalloc.so.4"})])
def test_other_jobs_the_opt_out_and_a_preloaded_process_are_left_alone(monkeypatch, job, env):
    assert _restart(monkeypatch, job, **env) == []


@pytest.mark.skipif(allocator.find_tcmalloc() is None, reason="tcmalloc is not installed (libtcmalloc-minimal4)")
def test_the_restarted_process_runs_under_tcmalloc():
    program = "from workspace import allocator; allocator.preload_for('train'); print(allocator.describe())"
    env = {k: v for k, v in os.environ.items() if k not in ("LD_PRELOAD", allocator.ENV)}
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, env=env, cwd=REPO,
                          timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "tcmalloc"
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, cwd=REPO, timeout=60,
                          env=dict(env, **{allocator.ENV: "system"}))
    assert done.stdout.strip() == "the system malloc"
