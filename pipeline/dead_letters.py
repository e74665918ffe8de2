"""Dead letters: what a job could not use, each with its reason, so every input record is accounted for.

A stage that drops a record emits `dead_letter(...)` on its `DROPPED` output (tagged; the kept records go on
`RECORDS`); the job's `Accounted` composite (pipeline/accounting.py) writes them all to
`dead_letter/dropped-*.jsonl` and counts them by reason. A file that cannot be read to its end becomes an
`unreadable_file` dead letter inside the pipeline, and `check_readable` fails the job on it afterwards.
"""

from __future__ import annotations

import json

from apache_beam.io.filesystems import FileSystems
from apache_beam.metrics import Metrics

from workspace.errors import InputError

RECORDS = "records"  # the main output of every stage that can drop
DROPPED = "dropped"  # its tagged output of dead letters
NAMESPACE = "sumflow"  # Beam metrics: dropped_REASON counters, summarized
UNREADABLE = "unreadable_file"
DIRECTORY = "dead_letter"  # in a job's output directory
FILE_PATTERN = DIRECTORY + "/*.jsonl"


def dead_letter(*, id: str, reason: str, detail: str = "", origin: str = "") -> dict:
    """{id, reason, detail (first 300 characters), origin}; counted in the `dropped_REASON` metric."""
    Metrics.counter(NAMESPACE, f"dropped_{reason}").inc()
    return {"id": id, "reason": reason, "detail": detail[:300], "origin": origin}


def unreadable(path: str, error: InputError) -> dict:
    """The dead letter of a file that cannot be read to its end; `check_readable` fails the job on it."""
    return dead_letter(id=path, reason=UNREADABLE, detail=str(error), origin=path)


def to_json(letter: dict) -> str:
    return json.dumps(letter, ensure_ascii=False, sort_keys=True)


def check_readable(counts: dict, output_dir: str) -> None:
    """Raise InputError (exit 3), naming the first unreadable file, when a job's counts ({"dropped:REASON": n})
    hold any: success means all of the input. Reads `output_dir`'s dead letters only then."""
    n = counts.get(f"dropped:{UNREADABLE}", 0)
    if not n:
        return
    suffix = f"({n} unreadable input file(s); nothing was marked complete)"
    for match in FileSystems.match([FileSystems.join(output_dir, FILE_PATTERN)])[0].metadata_list:
        with FileSystems.open(match.path) as f:
            for line in f.read().decode("utf-8").splitlines():
                letter = json.loads(line)
                if letter.get("reason") == UNREADABLE:
                    raise InputError(f"{letter['detail']} {suffix}")
    raise InputError(f"input files could not be read to their end {suffix}")
