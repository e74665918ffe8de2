"""`train.init_from`: start training from an earlier model's weights (a model trained on an earlier version of
a growing dataset) instead of random ones.

The earlier model must be a finished run (model/export.py `check_model_dir`) on the same vocabulary as the
data (its SentencePiece hash) with the same model section (architecture and sizes); anything else is one line
naming what differs. The optimizer starts afresh (its schedule is this run's); a resumed run's backup, restored
when training begins, takes precedence over these weights.
"""

from __future__ import annotations

import os

import keras
import yaml

from configs.schema import Config, ConfigError, to_dict
from contract import model_dir as layout
from contract.manifest import Manifest
from workspace.errors import InputError


def check_compatible(init_dir: str, config: Config, manifest: Manifest) -> None:
    """Raise InputError (exit 3: not a finished model, another vocabulary) or ConfigError (exit 2: another
    model section) unless `init_dir` can seed this run."""
    from model.export import check_model_dir

    try:
        trained_on = check_model_dir(init_dir)
    except InputError as e:
        raise InputError(f"train.init_from: {e}") from None
    if trained_on.get("vocab_sha256") != manifest.vocab.sha256:
        raise InputError(f"train.init_from {init_dir}: trained on another vocabulary "
                         f"({str(trained_on.get('vocab_sha256'))[:12]}, this data's is {manifest.vocab.sha256[:12]}); "
                         f"preprocess the data with that model's vocabulary (tokenizer.model_path) or train from "
                         f"scratch")
    with open(os.path.join(init_dir, layout.CONFIG), encoding="utf-8") as f:
        theirs = (yaml.safe_load(f) or {}).get("model", {})
    ours = to_dict(config.model)
    differ = [key for key in ours if theirs.get(key) != ours[key]]
    if differ:
        key = differ[0]
        raise ConfigError(f"train.init_from {init_dir}: model.{key} is {theirs.get(key)!r} there and {ours[key]!r} "
                          f"here ({len(differ)} model setting(s) differ); the model section must be the same")


def load_weights(model: keras.Model, init_dir: str) -> None:
    """Set `model`'s weights to those of `init_dir`'s model.keras (checked by `check_compatible`)."""
    from model import build  # noqa: F401  (registers the layers of every architecture for loading)

    source = keras.saving.load_model(os.path.join(init_dir, layout.MODEL_FILE), compile=False)
    model.set_weights(source.get_weights())
