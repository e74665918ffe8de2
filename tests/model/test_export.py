"""The exported SavedModel: raw strings in, summaries out, identical to decoding in Python."""

import json
import os

import numpy as np
import pytest

from tests.fixtures import exported, pairs


@pytest.fixture(scope="module", params=["rnn", "transformer"])
def export_dir(request, tmp_path_factory):
    """The same string-in/string-out SavedModel from either architecture."""
    return exported(tmp_path_factory.mktemp("m"), "decode.method=greedy", f"model.architecture={request.param}",
                    "model.heads=2", "model.feed_forward_dim=32")


def test_saved_model_matches_python_tokenize_decode_detokenize(export_dir):
    import keras
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the SentencePiece ops)

    from configs.schema import DecodeConfig
    from model.decode import greedy_decode
    from model.word_repeats import piece_table
    import model.build  # noqa: F401  (registers both architectures' layers)
    from contract.records import EOS_ID
    from contract.tokenizer import Tokenizer

    model_dir = os.path.join(os.path.dirname(export_dir), "model")
    info = json.load(open(os.path.join(export_dir, "sumflow_export.json")))
    serve = tf.saved_model.load(export_dir).signatures["serving_default"]
    texts = [r["article"] for r in pairs(5, seed=11)] + ["Caf\u00e9 \u4e16\u754c short one."]
    out = serve(texts=tf.constant(texts))

    tok = Tokenizer.load(os.path.join(model_dir, "vocab.model"))
    keras_model = keras.saving.load_model(os.path.join(model_dir, "model.keras"), compile=False)
    cfg = DecodeConfig(**{k: v for k, v in info["decode"].items() if k != "tune"})
    pieces = piece_table(Tokenizer.load(os.path.join(model_dir, "vocab.model")))
    limit = info["max_source_tokens"]
    for i, text in enumerate(texts):
        ids = tok.encode([text])[0]
        assert out["source_tokens"].numpy()[i] == len(ids)
        assert bool(out["truncated"].numpy()[i]) == (len(ids) > limit)
        tokens = [int(t) for t in np.asarray(greedy_decode(keras_model, np.array([ids[:limit]], "int32"), cfg,
                                                              pieces=pieces))[0]]
        tokens = tokens[: tokens.index(EOS_ID)] if EOS_ID in tokens else [t for t in tokens if t != 0]
        assert out["summary"].numpy()[i].decode("utf-8") == tok.decode(tokens)
        assert out["summary_tokens"].numpy()[i] == len(tokens)


def test_count_tokens_signature(export_dir):
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    counts = tf.saved_model.load(export_dir).signatures["count_tokens"](texts=tf.constant(["a b c", ""]))
    assert counts["tokens"].numpy()[1] == 0 and counts["tokens"].numpy()[0] > 0


def test_a_model_directory_with_another_vocabulary_is_refused(tmp_path):
    from model.export import check_model_dir
    from workspace.errors import InputError
    from contract.tokenizer import Tokenizer, train_sentencepiece

    model_dir = tmp_path / "model"
    model_dir.mkdir()
    (tmp_path / "s.txt").write_text("\n".join(p["article"] for p in pairs(30)))
    vocab = train_sentencepiece(sentences_path=str(tmp_path / "s.txt"), model_prefix=str(tmp_path / "spm"),
                                vocab_size=400)
    os.replace(vocab, model_dir / "vocab.model")
    for name in ("model.keras", "_COMPLETE"):
        (model_dir / name).write_text("")
    actual = Tokenizer.load(str(model_dir / "vocab.model")).vocab_sha256()
    (model_dir / "train.json").write_text(json.dumps({"vocab_sha256": actual}))
    assert check_model_dir(str(model_dir)) == {"vocab_sha256": actual}
    (model_dir / "train.json").write_text(json.dumps({"vocab_sha256": "0" * 64}))
    with pytest.raises(InputError, match=r"vocab.model \(\w{12}\) is not the vocabulary the model was trained "
                                         r"with \(000000000000\); retrain"):
        check_model_dir(str(model_dir))
    os.remove(model_dir / "_COMPLETE")
    with pytest.raises(InputError, match=r"holds no finished training run \(missing _COMPLETE\)"):
        check_model_dir(str(model_dir))
