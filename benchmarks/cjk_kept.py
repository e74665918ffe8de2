"""What preprocessing keeps of a Chinese (or Japanese) JSONL dump: the share of records written and the
reasons for the rest.

Runs the real `sumflow preprocess` (local runner) on the given files and reads its manifest (lengths per
Han/kana character, `clean.length_unit: auto`, the default). Side by side, the cleaning step alone (plain
Python, same code) under each `clean.length_unit`, `words` being how sumflow counted before:

    python benchmarks/cjk_kept.py dump.jsonl                       # -c zh
    python benchmarks/cjk_kept.py 'dump/*.jsonl.gz' -c jsonl --set source.article_field=content
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import os
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def preprocess(inputs: str, configs: list[str], overrides: list[str], output_dir: str) -> tuple[dict, float]:
    args = [sys.executable, "-m", "jobs.cli", "preprocess", "-i", inputs, "-o", output_dir]
    for name in configs:
        args += ["-c", name]
    for override in overrides:
        args += ["--set", override]
    start = time.perf_counter()
    result = subprocess.run(args, cwd=REPO, capture_output=True, text=True,
                            env=dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2"))
    if result.returncode != 0:
        sys.exit(f"sumflow preprocess failed:\n{result.stderr[-3000:]}")
    with open(os.path.join(output_dir, "manifest.json"), encoding="utf-8") as f:
        return json.load(f)["counts"], time.perf_counter() - start


def clean_only(paths: list[str], configs: list[str], overrides: list[str]) -> dict[str, dict]:
    """{unit: {"input", "kept", "dropped": {reason: n}}} of the cleaning step alone (no dedup, no splits)."""
    sys.path.insert(0, REPO)
    from configs.load import load_config
    from pipeline.clean import clean_record

    cfg = load_config(configs, overrides).clean
    records = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for line in f:
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError:
                    continue  # malformed lines: counted by the real job, not a cleaning matter
                if isinstance(obj, dict) and all(isinstance(obj.get(k), str) for k in ("article", "summary")):
                    records.append(obj)
    out = {}
    for unit in ("auto", "words", "characters"):
        unit_cfg = dataclasses.replace(cfg, length_unit=unit)
        dropped: dict[str, int] = {}
        for record in records:
            _, reason, _ = clean_record({"id": "", **record}, unit_cfg)
            if reason:
                dropped[reason] = dropped.get(reason, 0) + 1
        out[unit] = {"input": len(records), "kept": len(records) - sum(dropped.values()), "dropped": dropped}
    return out


def _print(title: str, total: int, kept: int, dropped: dict) -> None:
    print(f"{title}  kept {kept:6d} of {total} ({kept / max(total, 1):6.1%})")
    for reason, n in sorted(dropped.items(), key=lambda kv: -kv[1]):
        print(f"    {reason:22s} {n:6d} ({n / max(total, 1):6.1%})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", help="JSONL file(s) or glob of article/summary pairs (fields article, summary)")
    parser.add_argument("-c", "--config", action="append", default=None, help="config(s); default: zh")
    parser.add_argument("--set", action="append", default=[], dest="overrides")
    args = parser.parse_args()
    configs = args.config or ["zh"]
    with tempfile.TemporaryDirectory() as tmp:
        counts, seconds = preprocess(os.path.abspath(args.inputs), configs, args.overrides, os.path.join(tmp, "out"))
    print(f"input: {args.inputs}, config {' + '.join(configs)}")
    _print(f"sumflow preprocess ({seconds:.1f} s):", counts["input"], counts["written"], counts["dropped"])
    for unit, c in clean_only(sorted(glob.glob(args.inputs)), configs, args.overrides).items():
        _print(f"cleaning alone, clean.length_unit={unit}:", c["input"], c["kept"], c["dropped"])


if __name__ == "__main__":
    main()
