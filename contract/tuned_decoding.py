"""decoding.json: the decoding settings `sumflow tune-decoding` chose on the validation split, which
`sumflow export` applies (TF-free: export decides before TensorFlow loads what it will build).

  {"split": "validation", "documents": N, "metric": "rouge1", "model_sha256": "...",   the model.keras scored
   "chosen": {"method": ..., "beam_size": ..., "length_penalty": ..., "min_length": ...,
              "no_repeat_ngram": ..., "no_repeat_word": ..., "no_repeat_content_word": ...},
   "points": [{"settings": {...}, "rouge1": F1 x 100, "rouge2": ..., "rougeLsum": ...,
               "back_to_back": share, "repeated_content_word": share, "seconds": ...}, ...]}   grid order

The choice holds for the model it was made on only: `applied` ignores it, with a line saying so, when
model.keras has changed since (a retrained model; `sumflow train` also removes the file when it starts).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from typing import Iterable

from configs.schema import DecodeConfig
from contract import model_dir as layout

TUNED_KEYS = ("method", "beam_size", "length_penalty", "min_length", "no_repeat_ngram", "no_repeat_word",
              "no_repeat_content_word")


def model_sha256(model_dir: str) -> str:
    digest = hashlib.sha256()
    with open(os.path.join(model_dir, layout.MODEL_FILE), "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def settings(cfg: DecodeConfig) -> dict:
    """The tuned keys of a decode config, as decoding.json writes them."""
    return {key: getattr(cfg, key) for key in TUNED_KEYS}


def write(model_dir: str, record: dict) -> str:
    """Write decoding.json atomically (call under the model directory's lock); returns its path."""
    path = os.path.join(model_dir, layout.DECODING)
    with open(path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(record, f, indent=2)
    os.replace(path + ".tmp", path)
    return path


def read(model_dir: str) -> dict | None:
    path = os.path.join(model_dir, layout.DECODING)
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def applied(model_dir: str, cfg: DecodeConfig, *, explicit: Iterable[str] = ()) -> tuple[DecodeConfig, str]:
    """(the decode config export uses, a line saying where its settings come from).

    The tuned settings go over `cfg` where decode.use_tuned is on and decoding.json was chosen for this
    model.keras; keys in `explicit` (given as --set decode.KEY=...) keep the command line's value.
    """
    record = read(model_dir)
    if not cfg.use_tuned:
        return cfg, "decoding settings from the config (decode.use_tuned is off)"
    if record is None:
        return cfg, "decoding settings from the config (no decoding.json: `sumflow tune-decoding` chooses them)"
    path = os.path.join(model_dir, layout.DECODING)
    if not os.path.exists(os.path.join(model_dir, layout.MODEL_FILE)):
        return cfg, "decoding settings from the config (no model.keras)"  # the export then says what is missing
    if record.get("model_sha256") != model_sha256(model_dir):
        return cfg, f"decoding settings from the config ({path} was chosen for another model.keras: ignored)"
    explicit = set(explicit)
    chosen = {key: value for key, value in record["chosen"].items() if key in TUNED_KEYS and key not in explicit}
    kept = sorted(set(TUNED_KEYS) & explicit)
    cfg = dataclasses.replace(cfg, **chosen)
    words = ", ".join(f"{key} {value}" for key, value in settings(cfg).items())
    note = f"; --set kept {', '.join(kept)}" if kept else ""
    return cfg, (f"decoding settings chosen on {record['documents']} {record['split']} documents by "
                 f"{record['metric']} ({path}): {words}{note}")
