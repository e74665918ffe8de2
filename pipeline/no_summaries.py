"""Why a summarize run wrote no summary from a non-empty input, in one line: the most common drop reason, an
example (where and what), and the fix. The run then fails (exit 3) and marks nothing complete, so a rerun
with the fix is not a no-op.
"""

from __future__ import annotations

import json

from apache_beam.io.filesystems import FileSystems

from configs.schema import SummarizeConfig
from pipeline.dead_letters import FILE_PATTERN
from pipeline.numbered_lines import position_key
from workspace.errors import InputError
from workspace.input_files import reading


def _first_letter(output_dir: str, reason: str) -> dict:
    """The dead letter of `reason` in `output_dir` first by position (file, line); {} if there is none."""
    found = []
    for match in FileSystems.match([FileSystems.join(output_dir, FILE_PATTERN)])[0].metadata_list:
        with FileSystems.open(match.path) as f:
            found += [letter for letter in map(json.loads, f.read().decode("utf-8").splitlines())
                      if letter.get("reason") == reason]
    return min(found, key=lambda d: (position_key(d.get("origin", "")), json.dumps(d, sort_keys=True)),
               default={})


def first_record_fields(cfg: SummarizeConfig, files: list[str]) -> dict:
    """{field: value} of the first record of the input (JSONL object, or TFRecord features: their first bytes
    value decoded), {} when it cannot be read as one."""
    if not files:
        return {}
    try:
        with reading(files[0]) as f:
            if cfg.format == "tfrecord":
                from contract.example_proto import Example
                from contract.tfrecord import read_records

                for record in read_records(f, files[0]):
                    features = Example.FromString(record).features.feature
                    return {k: (v.bytes_list.value[0].decode("utf-8", "replace") if v.bytes_list.value else None)
                            for k, v in sorted(features.items())}
                return {}
            for line in f:
                if line.strip():
                    record = json.loads(line.decode("utf-8-sig"))
                    return record if isinstance(record, dict) else {}
    except (InputError, ValueError):
        return {}
    return {}


def _field_fix(cfg: SummarizeConfig, files: list[str]) -> str:
    fields = first_record_fields(cfg, files)
    if not fields:
        return "name the text field with --set summarize.text_field=FIELD"
    texts = [k for k, v in fields.items() if isinstance(v, str) and k != cfg.id_field]
    guess = max(texts, key=lambda k: len(fields[k])) if texts else "FIELD"
    return (f"the first record has the fields {', '.join(repr(k) for k in fields)}: name the text field with "
            f"--set summarize.text_field={guess}")


def no_summaries_error(counts: dict, dropped: dict[str, int], *, staging: str, cfg: SummarizeConfig,
                       files: list[str]) -> InputError:
    """The InputError of a run whose every document was dropped (`counts` and `dropped` as check_accounts
    gives them; `staging` holds the run's dead letters)."""
    reason, n = sorted(dropped.items(), key=lambda kv: (-kv[1], kv[0]))[0]
    letter = _first_letter(staging, reason)
    fixes = {
        "missing_field": lambda: _field_fix(cfg, files),
        "wrong_type": lambda: _field_fix(cfg, files),
        "malformed": lambda: f"check that the input is {cfg.format} (--format jsonl, text_dir or tfrecord)",
        "bad_encoding": lambda: "re-encode the input as UTF-8",
        "empty_document": lambda: "check summarize.text_field and the clean settings",
        "rejected_long_document": lambda: ("summarize them with --set summarize.long_documents=chunk (or "
                                           "truncate)"),
        "summarize_failed": lambda: "check the exported model (sumflow export) and the documents",
    }
    fix = fixes.get(reason, lambda: "see the reason above")()
    where = f" (e.g. {letter['origin']})" if letter.get("origin") else ""
    detail = f": {letter['detail']}" if letter.get("detail") else ""
    return InputError(f"no document was summarized: all {counts.get('input', 0)} were dropped, most as "
                      f"{reason} ({n}){where}{detail}; {fix} (nothing was marked complete)")
