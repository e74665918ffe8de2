"""In-graph greedy and beam search on a tiny random model: consistency, options, batch/padding independence;
word-level repetition blocking on a scripted step function."""

import dataclasses

import numpy as np
import pytest

from configs.schema import DecodeConfig, ModelConfig
from model.decode import _ban_repeats, beam_search, decode, greedy_decode
from model.build import build_model
from contract.records import BOS_ID, EOS_ID, PAD_ID
from model.word_repeats import CONT, NONE, START, classify_piece, piece_classes

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


# --- word-level repetition blocking (model/word_repeats.py) on a hand-built step function --------------------

MATCH, J, UM, DOT, CLASS = 4, 5, 6, 7, 8  # "▁match", "▁j", "um", ".", "▁class"
PIECES = np.array([NONE, NONE, NONE, NONE, START, START, CONT, NONE, START], "int32")  # PAD UNK BOS EOS ...


class ScriptedModel:
    """The search interface of `EncoderDecoder` without a network: row r's article is two scripts of equal
    length, and at position p the step prefers script one's token (log-prob ~0), then script two's (~-1)."""

    def init_search(self, article_ids, *, max_length, cache=True):
        from keras import ops

        half = ops.shape(article_ids)[1] // 2
        return {"first": article_ids[:, :half], "second": article_ids[:, half:], "source_ids": article_ids}, {
            "steps": ops.zeros((ops.shape(article_ids)[0],), "int32")}

    def search_step(self, tokens, *, position, memory, state):
        from keras import ops

        vocab = len(PIECES)
        first = ops.take(memory["first"], position, axis=1)  # (rows,)
        second = ops.take(memory["second"], position, axis=1)
        logits = 10.0 * ops.one_hot(first, vocab) + 9.0 * ops.one_hot(second, vocab)
        rows = ops.shape(tokens)[0]
        return (ops.log_softmax(logits, axis=-1), ops.zeros((rows, ops.shape(memory["source_ids"])[1]), "float32"),
                {"steps": state["steps"] + 1})


SCRIPTS = {  # first choices, second choices -> the output with word blocking
    "one piece": ([MATCH, MATCH, MATCH, EOS_ID], [CLASS, CLASS, CLASS, CLASS], [MATCH, CLASS, MATCH, EOS_ID]),
    "two pieces": ([J, UM, J, UM, EOS_ID], [CLASS, CLASS, CLASS, DOT, CLASS], [J, UM, J, DOT, EOS_ID]),
    "across punctuation": ([MATCH, DOT, MATCH, EOS_ID], [CLASS, CLASS, CLASS, CLASS], [MATCH, DOT, CLASS, EOS_ID]),
    "two pieces across punctuation": ([J, UM, DOT, J, UM, EOS_ID], [CLASS] * 6, [J, UM, DOT, J, CLASS, EOS_ID]),
    "a word begun by a piece without ▁": ([UM, DOT, UM, EOS_ID], [CLASS] * 4, [UM, DOT, CLASS, EOS_ID]),
    "a longer word is no repeat": ([J, UM, DOT, UM, UM, EOS_ID], [CLASS] * 6, [J, UM, DOT, UM, UM, EOS_ID]),
}


def _scripted(names, width=None):
    width = width or max(len(SCRIPTS[n][0]) for n in names)
    rows = [np.concatenate([np.pad(SCRIPTS[n][0], (0, width - len(SCRIPTS[n][0])), constant_values=EOS_ID),
                            np.pad(SCRIPTS[n][1], (0, width - len(SCRIPTS[n][1])), constant_values=EOS_ID)])
            for n in names]
    return np.stack(rows).astype("int32"), width


@pytest.mark.parametrize("method", ["greedy", "beam"])
def test_a_word_of_one_or_two_pieces_cannot_follow_itself(method):
    names = list(SCRIPTS)
    articles, width = _scripted(names)
    cfg = DecodeConfig(method=method, beam_size=3, min_length=0, max_length=width, no_repeat_ngram=0,
                       length_penalty=0.0)
    out = np.asarray(decode(ScriptedModel(), articles, cfg, pieces=PIECES))
    assert {n: _trim(row) for n, row in zip(names, out)} == {n: SCRIPTS[n][2] for n in names}
    # Batch-invariant: each row alone decodes the same.
    for name, row in zip(names, out):
        alone, _ = _scripted([name], width)
        assert _trim(np.asarray(decode(ScriptedModel(), alone, cfg, pieces=PIECES))[0]) == _trim(row)
    # Without the blocking (switched off, or no piece classes given) the scripts' first choices come out.
    for off in (dict(cfg=DecodeConfig(method=method, beam_size=3, min_length=0, max_length=width,
                                      no_repeat_ngram=0, length_penalty=0.0, no_repeat_word=False),
                     pieces=PIECES), dict(cfg=cfg, pieces=None)):
        plain = np.asarray(decode(ScriptedModel(), articles, off["cfg"], pieces=off["pieces"]))
        assert [_trim(row) for row in plain] == [SCRIPTS[n][0] for n in names]


def test_piece_classes():
    assert [classify_piece(p) for p in ("\u2581matching", "um", ".", "\u2581", "\u2581(", "\u258142", "s.")] == [
        START, CONT, NONE, NONE, NONE, START, CONT]
    assert classify_piece("<0x0A>", byte=0x0A) == NONE and classify_piece("<0xE4>", byte=0xE4) == CONT
    assert classify_piece("</s>", control=True) == NONE


def test_piece_classes_of_a_trained_vocabulary(tmp_path):
    from contract.tokenizer import Tokenizer
    from tests.fixtures import pairs, vocabulary

    tok = Tokenizer.load(vocabulary(tmp_path, pairs(60)))
    classes = piece_classes(tok)
    assert len(classes) == tok.vocab_size
    assert classes[[PAD_ID, BOS_ID, EOS_ID]].tolist() == [NONE, NONE, NONE]
    for i in range(tok.vocab_size):
        piece = tok._sp.id_to_piece(i)
        if piece.startswith("\u2581") and piece[1:].isalpha():
            assert classes[i] == START, piece
        elif piece.isalpha() and not tok._sp.is_control(i):
            assert classes[i] == CONT, piece


# --- with a piece table: words compared case-folded, and content words written once ---------------------------

MODULE, MODULE_UP, THE, OF, MOD, ULES = 4, 5, 6, 7, 8, 9  # "▁module", "▁Module", "▁the", "▁of", "▁mod", "ules"
TABLE = np.array([[NONE, NONE, NONE, NONE, START, START, START, START, START, CONT],  # classes
                  [0, 1, 2, 3, 4, 4, 6, 7, 8, 9],  # keys: "▁Module" folds to "▁module"
                  [0, 0, 0, 0, 1, 1, 0, 0, 0, 0]], "int32")  # one-piece content words: module


class TwoChoices:
    """Like ScriptedModel with the vocabulary of TABLE."""

    def init_search(self, article_ids, *, max_length, cache=True):
        return ScriptedModel().init_search(article_ids, max_length=max_length, cache=cache)

    def search_step(self, tokens, *, position, memory, state):
        from keras import ops

        first = ops.take(memory["first"], position, axis=1)
        second = ops.take(memory["second"], position, axis=1)
        logits = 10.0 * ops.one_hot(first, TABLE.shape[1]) + 9.0 * ops.one_hot(second, TABLE.shape[1])
        return (ops.log_softmax(logits, axis=-1), ops.zeros((ops.shape(tokens)[0], ops.shape(memory["source_ids"])[1])),
                {"steps": state["steps"] + 1})


@pytest.mark.parametrize("content, first, second, expected", [
    (False, [MODULE_UP, MODULE, EOS_ID], [THE] * 3, [MODULE_UP, THE, EOS_ID]),  # "Module module": case-folded
    (False, [THE, MODULE, OF, THE, MODULE, EOS_ID], [OF] * 6, [THE, MODULE, OF, THE, MODULE, EOS_ID]),
    (True, [THE, MODULE, OF, THE, MODULE_UP, EOS_ID], [OF] * 6, [THE, MODULE, OF, THE, OF, EOS_ID]),
    (True, [THE, OF, THE, EOS_ID], [MODULE] * 4, [THE, OF, THE, EOS_ID]),  # a stop word repeats
    (True, [MOD, ULES, OF, MOD, ULES, EOS_ID], [THE] * 6, [MOD, ULES, OF, MOD, ULES, EOS_ID]),  # several pieces
])
def test_a_piece_table_folds_case_and_writes_a_content_word_once(content, first, second, expected):
    width = len(first)
    articles = np.array([first + second], "int32")
    cfg = DecodeConfig(method="greedy", min_length=0, max_length=width, no_repeat_ngram=0,
                       no_repeat_content_word=content)
    assert _trim(np.asarray(decode(TwoChoices(), articles, cfg, pieces=TABLE))[0]) == expected


def test_the_piece_table_of_a_trained_vocabulary(tmp_path):
    from contract.tokenizer import Tokenizer
    from model.word_repeats import CLASS, CONTENT, KEY, piece_table
    from tests.fixtures import pairs, vocabulary

    tok = Tokenizer.load(vocabulary(tmp_path, pairs(60)))
    table = piece_table(tok)
    sp = tok._sp
    assert table.shape == (7, tok.vocab_size) and (table[CLASS] == piece_classes(tok)).all()
    folded = [i for i in range(tok.vocab_size) if table[KEY, i] != i]
    assert folded and all(sp.id_to_piece(int(table[KEY, i])) == sp.id_to_piece(i).lower() for i in folded)
    for i in np.flatnonzero(table[CONTENT]):
        piece = sp.id_to_piece(int(i))
        assert piece.startswith("\u2581") and len(piece) >= 4 and piece[1:].lower() not in ("the", "and", "for")


# --- words compared by their letters, whatever their pieces ---------------------------------------------------

SEGMENTED = ["<pad>", "<unk>", "<s>", "</s>", "<0x0A>", "\u2581", "T", "he", "\u2581the", "Metric", "\u2581metric",
             "\u2581class", ".", "\u2581The"]
NL, SPACE, T_, HE, THE_, METRIC, METRIC_LOW, CLASS_, DOT_, THE_UP = range(4, 14)


class FakeSentencePiece:
    """The few SentencePieceProcessor methods `piece_table` reads, over the pieces of SEGMENTED."""

    def get_piece_size(self):
        return len(SEGMENTED)

    def id_to_piece(self, i):
        return SEGMENTED[i]

    def piece_to_id(self, piece):
        return SEGMENTED.index(piece) if piece in SEGMENTED else 1

    def unk_id(self):
        return 1

    def is_byte(self, i):
        return SEGMENTED[i].startswith("<0x")

    def is_control(self, i):
        return i in (0, 2, 3)

    def is_unknown(self, i):
        return i == 1


class SegmentedChoices(TwoChoices):
    def search_step(self, tokens, *, position, memory, state):
        from keras import ops

        first = ops.take(memory["first"], position, axis=1)
        second = ops.take(memory["second"], position, axis=1)
        vocab = len(SEGMENTED)
        logits = 10.0 * ops.one_hot(first, vocab) + 9.0 * ops.one_hot(second, vocab)
        return (ops.log_softmax(logits, axis=-1), ops.zeros((ops.shape(tokens)[0], ops.shape(memory["source_ids"])[1])),
                {"steps": state["steps"] + 1})


@pytest.mark.parametrize("method", ["greedy", "beam"])
@pytest.mark.parametrize("first, expected", [
    ([DOT_, NL, T_, HE, THE_, EOS_ID], [DOT_, NL, T_, HE, CLASS_, EOS_ID]),  # ".\nThe the": "T he" then "▁the"
    ([SPACE, METRIC, METRIC_LOW, EOS_ID], [SPACE, METRIC, CLASS_, EOS_ID]),  # "▁ Metric" then "▁metric"
    ([THE_, NL, T_, HE, EOS_ID], [THE_, NL, T_, CLASS_, EOS_ID]),  # "▁the" then "T he": "he" is banned
    ([THE_UP, DOT_, THE_, EOS_ID], [THE_UP, DOT_, CLASS_, EOS_ID]),  # one piece each, case-folded
    ([T_, HE, DOT_, HE, EOS_ID], [T_, HE, DOT_, HE, EOS_ID]),  # "The. he": other words
])
def test_a_word_cannot_follow_itself_in_another_segmentation(method, first, expected):
    from model.word_repeats import piece_table

    table = piece_table(FakeSentencePiece())
    articles = np.array([first + [CLASS_] * len(first)], "int32")
    cfg = DecodeConfig(method=method, beam_size=2, min_length=0, max_length=len(first), no_repeat_ngram=0,
                       length_penalty=0.0)
    assert _trim(np.asarray(decode(SegmentedChoices(), articles, cfg, pieces=table))[0]) == expected
    off = dataclasses.replace(cfg, no_repeat_word=False)
    assert _trim(np.asarray(decode(SegmentedChoices(), articles, off, pieces=table))[0]) == first


def test_a_piece_is_hashed_by_its_case_folded_letters_and_digits():
    from model.word_repeats import piece_hash

    assert piece_hash("\u2581The") == piece_hash("the") == piece_hash("\u2581(the")
    assert piece_hash("<0x41>", byte=0x41) == piece_hash("a")  # an ASCII byte piece is the character it is
    assert piece_hash("<0x0A>", byte=0x0A) == piece_hash("\u2581") == ([0, 0], [1, 1])  # no letter: nothing
    assert piece_hash("<0xE4>", byte=0xE4) != piece_hash("\u00e4")  # a byte of a character is not that character
