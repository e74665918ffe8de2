#!/usr/bin/env bash
# Install sumflow and its pinned dependencies into .venv (from scratch if absent). Uses uv (a PyPI package)
# to resolve and install: ~15 s instead of ~70 s with pip.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install -q --disable-pip-version-check uv==0.13.8
.venv/bin/uv pip install -q --python .venv/bin/python -r requirements.txt pytest==9.0.3 -e .
