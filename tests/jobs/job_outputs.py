"""What a job's output holds, independent of how a runner sharded it: for comparing runners record for record."""

from __future__ import annotations

import glob
import json
import os
import struct

from configs.schema import SPLITS


def _tfrecords(path: str) -> list[bytes]:
    """The examples of a TFRecord file (framing: length, its CRC, data, its CRC; CRCs not checked here), each
    serialized again deterministically: a map's entries (the features) are written in any order otherwise."""
    from contract.example_proto import Example

    out = []
    with open(path, "rb") as f:
        while header := f.read(12):
            (length,) = struct.unpack("<Q", header[:8])
            out.append(Example.FromString(f.read(length)).SerializeToString(deterministic=True))
            f.read(4)
    return out


def _lines(pattern: str) -> list[str]:
    return sorted(line for path in glob.glob(pattern) for line in open(path, encoding="utf-8").read().splitlines())


def _json(path: str):
    return json.load(open(path, encoding="utf-8"))


def preprocess_output(out: str) -> dict:
    """Records per split (sorted), dead letters, duplicate lists, the manifest's counts and vocabulary, stats."""
    manifest = _json(os.path.join(out, "manifest.json"))
    return {
        "records": {split: sorted(r for path in glob.glob(os.path.join(out, "data", f"{split}-*.tfrecord"))
                                  for r in _tfrecords(path)) for split in SPLITS},
        "dead_letters": _lines(os.path.join(out, "dead_letter", "*.jsonl")),
        "duplicates": _lines(os.path.join(out, "analysis", "duplicates-*")),
        "duplicate_ids": _lines(os.path.join(out, "analysis", "duplicate_ids-*")),
        "counts": manifest["counts"],
        "num_records": {split: info["num_records"] for split, info in manifest["splits"].items()},
        "vocab": manifest["vocab"],
        "stats": {k: v for k, v in _json(os.path.join(out, "stats.json")).items()
                  if k != "config_fingerprint"},  # of the whole config, output_dir included
    }


def summarize_output(out: str) -> dict:
    """Summary rows (sorted), dead letters and counts."""
    return {"summaries": _lines(os.path.join(out, "summaries", "*.jsonl")),
            "dead_letters": _lines(os.path.join(out, "dead_letter", "*.jsonl")),
            "counts": _json(os.path.join(out, "counts.json"))}
