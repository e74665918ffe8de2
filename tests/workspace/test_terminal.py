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
# What Beam's SDK worker prints for a failed bundle (sdk_worker.py, SdkHarness._execute), shortened.
WORKER_REPORT = [
    "Traceback (most recent call last):\n",
    '  File "apache_beam/runners/common.py", line 1512, in apache_beam.runners.common.DoFnRunner.process\n',
    '  File "/work/main/pipeline/vocab.py", line 31, in process\n',
    '    raise InputError("the train split holds no records")\n',
    "workspace.errors.InputError: the train split holds no records\n",
    "\n",
    "During handling of the above exception, another exception occurred:\n",
    "\n",
    "Traceback (most recent call last):\n",
    '  File "/v/site-packages/apache_beam/runners/worker/sdk_worker.py", line 310, in _execute\n',
    "    response = task()\n",
    "workspace.errors.InputError: the train split holds no records [while running 'LearnVocabulary/Train']\n",
    "\n",
]
INTERRUPTED = ["Traceback (most recent call last):\n", '  File "/v/threading.py", line 327, in wait\n',
               "    waiter.acquire()\n", "KeyboardInterrupt\n"]


def shown(lines: list[str]) -> list[str]:
    problems = ProblemFilter()
    out = [kept for line in lines for kept in problems.feed(line)]
    return out + problems.flush()


def test_log_noise_is_dropped():
    assert shown(NOISE) == []


def test_a_traceback_and_fatal_lines_pass_whole_and_what_follows_them_does_not():
    lines = NOISE[:1] + TRACEBACK + NOISE[1:2] + ["Killed\n", "2026-12-04 OOM when allocating tensor\n"]
    assert shown(lines) == TRACEBACK + ["Killed\n", "2026-12-04 OOM when allocating tensor\n"]


def test_a_traceback_at_the_very_end_is_shown_too():
    assert shown(NOISE[:1] + TRACEBACK) == TRACEBACK


def test_the_workers_report_of_a_failed_bundle_and_interrupts_are_left_to_the_launcher():
    lines = NOISE[:1] + WORKER_REPORT + NOISE[1:2] + INTERRUPTED + ["\n"] + TRACEBACK + ["Killed\n"]
    assert shown(lines) == TRACEBACK + ["Killed\n"]
