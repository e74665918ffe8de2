#!/usr/bin/env bash
# One command on a fresh machine: install, then run the whole sumflow flow on its built-in default corpus
# (docstrings of the Python standard library and of sumflow's dependencies; nothing is downloaded): preprocess -> train ->
# tune-decoding (on the validation split) -> export ->
# summarize the test split -> ROUGE report. Each step skips work that is already complete.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
export TF_CPP_MIN_LOG_LEVEL=2
S=.venv/bin/sumflow
$S preprocess -c default
$S train -c default
$S tune-decoding -c default
$S export -c default
$S summarize -c default -i 'runs/default/data/data/test-*.tfrecord' --format tfrecord
$S evaluate -c default --predictions 'runs/default/summaries/summaries/*.jsonl' \
   --references runs/default/data --reference-split test -o runs/default/evaluation
cat <<DONE

Done.
  preprocessed data : runs/default/data        (manifest.json, stats.json, dead_letter/)
  trained model     : runs/default/model       (model.keras, history.csv, logs/ for TensorBoard)
  exported model    : runs/default/export      (SavedModel: raw strings in, summaries out)
  summaries         : runs/default/summaries/summaries/*.jsonl
  ROUGE report      : runs/default/evaluation/report.html (and report.md, report.json, per_document.jsonl)
  try the model     : .venv/bin/sumflow summarize -c default --text "Counter.most_common: List the n most common
                      elements and their counts from the most common to the least. If n is None, list them all."
DONE
