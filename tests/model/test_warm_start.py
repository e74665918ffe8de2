"""train.init_from (issue 28): training starts from an earlier model's weights; another vocabulary or model
section is one line naming what differs."""

import numpy as np
import pytest

from configs.load import load_config
from configs.schema import ConfigError
from tests.fixtures import TINY_MODEL, preprocessed
from workspace.errors import InputError


@pytest.fixture(scope="module")
def earlier(tmp_path_factory):
    from model import trainer

    tmp = tmp_path_factory.mktemp("earlier")
    data_dir = preprocessed(tmp, n=100)
    config = load_config([], TINY_MODEL + [f"train.data_dir={data_dir}", f"train.model_dir={tmp / 'model'}",
                                           "train.epochs=1", "train.steps_per_epoch=3"])
    trainer.train(config, verbose=0, log=lambda m: None)
    return data_dir, str(tmp / "model")


def _config(tmp_path, data_dir, init_from, *extra):
    return load_config([], TINY_MODEL + [f"train.data_dir={data_dir}", f"train.model_dir={tmp_path / 'next'}",
                                         "train.epochs=1", "train.steps_per_epoch=2", f"train.init_from={init_from}",
                                         *extra])


def test_training_starts_from_the_earlier_weights(tmp_path, earlier):
    import keras

    from model import trainer

    data_dir, model_dir = earlier
    seen = []

    class FirstWeights(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            if not seen:
                seen.append([np.array(w) for w in getattr(self.model, "seq2seq", self.model).get_weights()])

    messages = []
    trainer.train(_config(tmp_path, data_dir, model_dir), callbacks=[FirstWeights()], verbose=0,
                  log=messages.append)
    start = keras.saving.load_model(f"{model_dir}/model.keras", compile=False).get_weights()
    assert all(np.array_equal(a, b) for a, b in zip(seen[0], start, strict=True))
    assert f"train: starting from the weights of {model_dir}" in messages


def test_another_model_section_or_vocabulary_is_one_line(tmp_path, earlier):
    from model import trainer

    data_dir, model_dir = earlier
    with pytest.raises(ConfigError, match=r"^train.init_from .*: model.embedding_dim is 16 there and 24 here "
                                          r"\(1 model setting\(s\) differ\)"):
        trainer.train(_config(tmp_path, data_dir, model_dir, "model.embedding_dim=24"), verbose=0,
                      log=lambda m: None)
    (tmp_path / "other").mkdir()
    other_data = preprocessed(tmp_path / "other", n=100, seed=5)
    with pytest.raises(InputError, match=r"^train.init_from .*: trained on another vocabulary"):
        trainer.train(_config(tmp_path, other_data, model_dir), verbose=0, log=lambda m: None)
    with pytest.raises(InputError, match=r"^train.init_from: .* does not exist"):
        trainer.train(_config(tmp_path, data_dir, tmp_path / "nowhere"), verbose=0, log=lambda m: None)
