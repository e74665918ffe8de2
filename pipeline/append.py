"""`sumflow preprocess --append`: add the records of new input files to a dataset without rebuilding it.

A dataset grows in generations. The first is a full build; each append is the next generation, whose files
carry its tag (`-g0001`, pipeline/duplicate_lists.py `generation_tag`) beside the earlier ones:
  data/{split}-g0001-*.tfrecord, dead_letter/dropped-g0001-*.jsonl, analysis/*-g0001-*, accounting-g0001.json
and the manifest lists every shard, the totals and each generation's inputs and counts (`generations`).

An append reads only the input files the dataset does not hold yet (matched by the same patterns; a file is
"held" with the path, size and mtime the manifest records), cleans them and assigns their splits with the
same rules, deduplicates them against every earlier record (the dataset's index: exact and near duplicates,
and ids already taken) and among themselves, and tokenizes them with the dataset's vocabulary, so a model
trained on the dataset keeps working on it. An earlier record is never dropped: where a full build would keep
the new copy of a duplicate pair (a new test record duplicating an earlier train record), the append keeps the
earlier one.

The dataset is built whole instead (and the job says why, `plan_append`) when the append cannot give what a
full build would: no complete dataset in the output directory, one built before the index existed, an
earlier input file changed or gone, another setting that shapes the records (source format and fields, clean,
dedup, split, tokenizer), another code version, or no new file. Plain Python: no Beam, no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import os

from configs.schema import Config, to_dict
from contract.manifest import Manifest, ManifestError, read_manifest
from pipeline.completion import ANALYSIS_DIR, Run
from workspace import outputs

SHAPING_SECTIONS = ("source", "clean", "dedup", "split", "tokenizer")
INPUT_KEYS = ("paths", "split_paths")  # of `source`: which files are read, not how a record is shaped
REPLACED = ("manifest.json", "stats.json", "config.yaml", outputs.SUCCESS_NAME)  # rewritten by every generation


@dataclasses.dataclass(frozen=True)
class AppendPlan:
    """What an append adds: generation `generation` from `new_inputs`, beside the `kept` files in place."""

    previous: Manifest
    generation: int
    new_inputs: list[dict]  # the identity's entries of the files the dataset does not hold
    kept: list[str]  # the earlier output's files that stay in place (relative to the output directory)

    @property
    def new_splits(self) -> list[tuple[str, str]]:
        """(path, split) of the new files, as the readers take them."""
        return [(i["path"], i.get("split", "")) for i in self.new_inputs]


def plan_append(config: Config, run: Run) -> tuple[AppendPlan | None, str]:
    """(the plan, "") when `run` can append to the dataset in its output directory, else (None, why the
    dataset is built whole: one clause for the job's line)."""
    out = run.output_dir
    if not outputs.is_local(out):
        return None, f"--append works on local output directories ({out} is not one)"
    try:
        previous = read_manifest(out, verify_vocab=False)
    except ManifestError:
        return None, f"{out} holds no complete dataset to append to"
    if previous.code_version != run.code_version:
        return None, "sumflow's code changed since the dataset was built"
    changed = _changed_setting(previous.config, to_dict(config))
    if changed:
        return None, f"{changed} changed since the dataset was built"
    if not _has_index(out):
        return None, ("the dataset has no record index (analysis/index-*.jsonl: built by an older sumflow, or "
                      "with dedup off and a given tokenizer.model_path, where pass one does not run)")
    held = {i["path"]: i for i in previous.inputs if "path" in i}
    now = {i["path"]: i for i in run.inputs if "path" in i}
    if not now:
        return None, f"source.format {config.source.format} has no input files to add"
    for path, before in held.items():
        after = now.get(path)
        if after is None:
            return None, f"input {path} is gone since the dataset was built"
        if (after["size"], after["mtime"], after.get("split", "")) != \
                (before["size"], before["mtime"], before.get("split", "")):
            return None, f"input {path} changed since the dataset was built"
    new = [i for path, i in now.items() if path not in held]
    if not new:
        return None, "no new input file"
    generations = previous.generations or [{"generation": 0}]
    owned = outputs.owned_files(out, "preprocess")
    return AppendPlan(previous=previous, generation=max(g["generation"] for g in generations) + 1,
                      new_inputs=new, kept=[f for f in owned if f not in REPLACED]), ""


def _changed_setting(before: dict, now: dict) -> str:
    """The first setting that shapes the records and differs ("clean.lowercase (False -> True)"), or ""."""
    for section in SHAPING_SECTIONS:
        old, new = dict(before.get(section) or {}), dict(now.get(section) or {})
        if section == "source":
            for key in INPUT_KEYS:
                old.pop(key, None)
                new.pop(key, None)
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                return f"{section}.{key} ({old.get(key)!r} -> {new.get(key)!r})"
    return ""


def _has_index(out: str) -> bool:
    folder = os.path.join(out, ANALYSIS_DIR)
    return os.path.isdir(folder) and any(n.startswith("index") and n.endswith(".jsonl") for n in os.listdir(folder))
