#!/usr/bin/env bash
# One command on a fresh machine: install, then run sumflow on its built-in default corpus (docstrings of
# the Python standard library; nothing is downloaded) and say where the outputs are.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export TF_CPP_MIN_LOG_LEVEL=2
.venv/bin/sumflow doctor
.venv/bin/sumflow preprocess -c default
echo
echo "Preprocessed data: runs/default/data (manifest.json, stats.json, data/*.tfrecord, dead_letter/)"
