"""Screenshot of report.html for the README (docs/report.png), from a synthetic evaluation.

Writes a synthetic corpus (tests/fixtures.py `pairs`: made-up words, no third-party text), two made-up
systems that copy part of each reference, runs the real `sumflow evaluate` CLI on them (with lead-3,
lead-8-words and the oracle), and has headless Chromium (Debian's `chromium`) photograph the page.

    python scripts/report_screenshot.py                       # -> docs/report.png
    python scripts/report_screenshot.py --keep out/shot       # also keep the evaluation output there
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from tests.fixtures import WORDS, pairs  # noqa: E402  (after the path insert)

CHROMIUM = "/usr/bin/chromium"


def noisy_copy(text: str, *, keep: float, rng: random.Random) -> str:
    """`text` with each word kept with probability `keep`, else replaced by a random fixture word."""
    words = [w if rng.random() < keep else rng.choice(WORDS) for w in text.split()]
    return " ".join(words)


def write_inputs(directory: str, *, documents: int, seed: int) -> tuple[str, str]:
    """(docs.jsonl with id/article/summary/new_model, other.jsonl with id/old_model) in `directory`."""
    rng = random.Random(seed)
    docs, other = [], []
    for pair in pairs(documents, seed=seed):
        docs.append({**pair, "new_model": noisy_copy(pair["summary"], keep=rng.uniform(0.2, 0.95), rng=rng)})
        other.append({"id": pair["id"], "old_model": noisy_copy(pair["summary"], keep=rng.uniform(0.1, 0.8), rng=rng)})
    paths = os.path.join(directory, "docs.jsonl"), os.path.join(directory, "other.jsonl")
    for path, rows in zip(paths, (docs, other)):
        with open(path, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(row) + "\n" for row in rows)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", default=os.path.join(REPO, "docs", "report.png"))
    parser.add_argument("--keep", help="write the evaluation output here (default: a temporary directory)")
    args = parser.parse_args()
    if not os.path.exists(CHROMIUM):
        sys.exit(f"{CHROMIUM} not found: install it with `apt-get install -y chromium`")
    with tempfile.TemporaryDirectory() as tmp:
        docs, other = write_inputs(tmp, documents=args.documents, seed=args.seed)
        out = args.keep or os.path.join(tmp, "eval")
        subprocess.run([sys.executable, "-m", "jobs.cli", "evaluate", "--predictions", docs, "--prediction-field",
                        "new_model", "--references", docs, "--reference-field", "summary", "--articles", docs,
                        "--compare", other, "--compare-field", "old_model", "--lead-words", "8", "--oracle",
                        "-o", out, "--allow-nonempty", "--set", "evaluate.workers=1"], cwd=REPO, check=True)
        os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
        subprocess.run([CHROMIUM, "--headless=new", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
                        f"--user-data-dir={os.path.join(tmp, 'profile')}", f"--screenshot={args.output}",
                        "--window-size=1200,1600", "file://" + os.path.abspath(os.path.join(out, "report.html"))],
                       check=True, capture_output=True, timeout=120)
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
