"""The model directory that `sumflow train` writes and `sumflow export` reads: one definition of its names.

  model.keras               the best model (train.select_by: lowest val_loss or highest val_rouge1), at the end
  best.weights.h5           best weights so far (ModelCheckpoint on the monitored figure)
  backup/                   resume state (weights + optimizer + epoch), removed when training completes
  history.csv               every epoch's figures (appended across restarts)
  logs/                     TensorBoard
  vocab.model               the SentencePiece model the data were tokenized with
  train.json                what the model was trained on (data dir and fingerprint, vocabulary hash and size)
  config.yaml               the resolved config
  decoding.json             `sumflow tune-decoding`'s choice on validation (contract/tuned_decoding.py), which
                            `sumflow export` applies; it names the model.keras it was chosen for
  _COMPLETE                 written last: the fingerprint of data + model/train config
"""

from __future__ import annotations

MODEL_FILE = "model.keras"
BEST_WEIGHTS = "best.weights.h5"
BACKUP_DIR = "backup"
HISTORY = "history.csv"
LOGS_DIR = "logs"
VOCAB = "vocab.model"
TRAIN_INFO = "train.json"
CONFIG = "config.yaml"
COMPLETE = "_COMPLETE"
DECODING = "decoding.json"

# Everything training writes (a folder as `name/`): recorded as sumflow's before it is written, so a rerun
# replaces only these and never a user's file (workspace/outputs.py).
FILES = (MODEL_FILE, BEST_WEIGHTS, BACKUP_DIR + "/", HISTORY, LOGS_DIR + "/", VOCAB, TRAIN_INFO, CONFIG, DECODING,
         COMPLETE)
# What a finished run holds: export refuses a directory that lacks one.
FINISHED = (MODEL_FILE, VOCAB, TRAIN_INFO, COMPLETE)
