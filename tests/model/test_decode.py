"""In-graph greedy and beam search on a tiny random model: consistency, options, batch/padding independence."""

import numpy as np
import pytest

from configs.schema import DecodeConfig, ModelConfig
from model.decode import _ban_repeats, beam_search, decode, greedy_decode
from model.build import build_model
from contract.records import BOS_ID, EOS_ID, PAD_ID

VOCAB = 40


@pytest.fixture(scope="module", params=["rnn", "transformer"])
def model(request):
    import keras

    keras.utils.set_random_seed(3)
    cfg = ModelConfig(architecture=request.param, embedding_dim=8, encoder_units=8, decoder_units=16,
                      attention_units=8, heads=2, feed_forward_dim=16, max_source_tokens=12, max_target_tokens=8)
    m = build_model(cfg, VOCAB)
    m({"article_ids": np.ones((1, 5), "int32"), "summary_in": np.ones((1, 3), "int32")})
    return m


def _articles():
    rng = np.random.RandomState(0)
    return [rng.randint(4, VOCAB, size=n).astype("int32") for n in (7, 4, 9)]


def _pad(rows, width):
    return np.stack([np.pad(r, (0, width - len(r))) for r in rows]).astype("int32")


def _python_greedy(model, article, cfg):
    """Reference: one search_step per token from Python, no bans."""
    memory, state = model.init_search(article[None, :], max_length=cfg.max_length)
    token, out = np.array([BOS_ID], "int32"), []
    for position in range(cfg.max_length):
        log_probs, _, state = model.search_step(token, position=position, memory=memory, state=state)
        token = np.asarray(log_probs).argmax(-1).astype("int32")
        out.append(int(token[0]))
        if out[-1] == EOS_ID:
            break
    return out


def _trim(row):
    row = [int(t) for t in row]
    return row[: row.index(EOS_ID) + 1] if EOS_ID in row else [t for t in row if t != PAD_ID]


def test_greedy_matches_a_python_loop(model):
    cfg = DecodeConfig(method="greedy", max_length=6, min_length=0, no_repeat_ngram=0)
    articles = _articles()
    out = np.asarray(greedy_decode(model, _pad(articles, 9), cfg))
    for row, article in zip(out, articles):
        assert _trim(row) == _python_greedy(model, article, cfg)


@pytest.mark.parametrize("method", ["greedy", "beam"])
def test_output_does_not_depend_on_batch_mates_or_padding(model, method):
    cfg = DecodeConfig(method=method, beam_size=3, max_length=6, min_length=2, no_repeat_ngram=2)
    articles = _articles()
    together = np.asarray(decode(model, _pad(articles, 9), cfg))
    for i, article in enumerate(articles):
        alone = np.asarray(decode(model, _pad([article], len(article) + 3), cfg))[0]
        np.testing.assert_array_equal(alone, together[i])


def test_beam_of_one_equals_greedy_and_min_length_holds(model):
    articles = _pad(_articles(), 9)
    greedy = np.asarray(greedy_decode(model, articles, DecodeConfig(method="greedy", max_length=6, min_length=3,
                                                                    no_repeat_ngram=0)))
    beam1 = np.asarray(beam_search(model, articles, DecodeConfig(method="beam", beam_size=1, max_length=6,
                                                                 min_length=3, no_repeat_ngram=0,
                                                                 length_penalty=0.0)))
    np.testing.assert_array_equal(greedy, beam1)
    assert not (greedy[:, :3] == EOS_ID).any()


def test_no_repeat_ngram_bans_exactly_the_repeating_token():
    history = np.array([[5, 6, 7, 5, 0, 0]], "int32")  # step 4: last token 5; "5 6" occurred -> ban 6
    log_probs = np.zeros((1, 10), "float32")
    banned = np.asarray(_ban_repeats(log_probs, history, 4, 2))[0]
    assert (banned < -1e8).nonzero()[0].tolist() == [6]
    trigram = np.asarray(_ban_repeats(log_probs, np.array([[5, 6, 7, 5, 6, 0]], "int32"), 5, 3))[0]
    assert (trigram < -1e8).nonzero()[0].tolist() == [7]
