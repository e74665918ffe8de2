"""What of a dependency's output reaches the terminal by default: real problems only."""

from workspace.terminal import ProblemFilter

NOISE = [
    "WARNING:root:apitools not found, and bigquery client libraries are not available.\n",
    "INFO:__main__:Logging handler created.\n",
    "I0000 00:00:1796392765.99 30842 port.cc:153] oneDNN custom operations are on.\n",
    "E0000 00:00:1796392766.06 30842 cuda_executor.cc:1309] failed call to cuInit: INTERNAL: CUDA error\n",
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
]
TRACEBACK = [
    "Traceback (most recent call last):\n",
    '  File "x.py", line 1, in <module>\n',
    "    boom()\n",
    "ValueError: boom\n",
]


def test_log_noise_is_dropped():
    problems = ProblemFilter()
    assert [line for line in NOISE if problems.keep(line)] == []


def test_a_traceback_and_fatal_lines_pass_whole_and_what_follows_them_does_not():
    problems = ProblemFilter()
    lines = NOISE[:1] + TRACEBACK + NOISE[1:2] + ["Killed\n", "2026-12-04 OOM when allocating tensor\n"]
    assert [line for line in lines if problems.keep(line)] == TRACEBACK + [
        "Killed\n", "2026-12-04 OOM when allocating tensor\n"]
