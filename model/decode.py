"""Greedy and beam-search decoding in the graph (one `keras.ops.while_loop`, no Python loop per token).

Both take a model (`EncoderDecoder`: the RNN or the Transformer, through its `init_search` / `search_step`)
and padded article ids (batch, src) and return token ids (batch, max_length), PAD after
EOS. Every operation is per row (top-k within a row's beams, gathers within a row), and the encoder masks
padding, so a document's summary does not depend on its batch-mates or on how much padding it got.

Options (DecodeConfig): `min_length` (EOS is banned before it), `max_length`, `no_repeat_ngram` (a token that
would repeat an n-gram already in the hypothesis is banned), `no_repeat_word` (a word cannot follow itself:
model/word_repeats.py; it needs the vocabulary's pieces, passed as `pieces=piece_table(tokenizer)`, and is off
where a caller passes none), `no_repeat_content_word` (a content word of one piece is written once at most), beam search's `length_penalty` alpha (final scores divided by
((5 + length) / 6) ** alpha, GNMT) and `coverage_penalty` beta (plus beta * sum_i log(min(coverage_i, 1))
over source positions, GNMT).
"""

from __future__ import annotations

import keras
from keras import ops

from configs.schema import DecodeConfig
from contract.records import BOS_ID, EOS_ID, PAD_ID
from model.word_repeats import ban_content_repeats, ban_word_repeats

NEG_INF = -1e9


def _ban_eos(log_probs, step, min_length):
    vocab = ops.shape(log_probs)[-1]
    eos = ops.cast(ops.equal(ops.arange(vocab), EOS_ID), log_probs.dtype)  # (vocab,)
    early = ops.cast(ops.less(step, min_length), log_probs.dtype)
    return log_probs + NEG_INF * early * eos[None, :]


def _ban_repeats(log_probs, history, step, n):
    """Ban tokens that would complete an n-gram already present in `history` (rows, max_length)."""
    if n <= 0:
        return log_probs
    rows, max_length = ops.shape(history)[0], ops.shape(history)[1]
    vocab = ops.shape(log_probs)[-1]
    positions = ops.arange(max_length)
    # The last n-1 tokens of each row: history[:, step - n + 1 + k] for k < n - 1.
    match = ops.less_equal(positions + n, step)[None, :]  # an n-gram starting at j ends before the step
    match = ops.logical_and(match, ops.greater_equal(step, n - 1))
    for k in range(n - 1):
        last_k = ops.take(history, ops.maximum(step - n + 1 + k, 0), axis=1)  # (rows,)
        shifted = ops.take(history, ops.minimum(positions + k, max_length - 1), axis=1)  # (rows, max_length)
        match = ops.logical_and(match, ops.equal(shifted, last_k[:, None]))
    banned_tokens = ops.take(history, ops.minimum(positions + n - 1, max_length - 1), axis=1)  # (rows, max_len)
    row_ids = ops.repeat(ops.arange(rows)[:, None], max_length, axis=1)
    indices = ops.stack([ops.reshape(row_ids, (-1,)), ops.reshape(banned_tokens, (-1,))], axis=1)
    hits = ops.scatter(indices, ops.reshape(ops.cast(match, "float32"), (-1,)), (rows, vocab))  # (rows, vocab)
    return log_probs + NEG_INF * ops.cast(ops.greater(hits, 0.0), log_probs.dtype)


def _bans(log_probs, history, step, cfg: DecodeConfig, pieces):
    """Every ban of the decode options on one step's (rows, vocab) log-probabilities, float32."""
    log_probs = _ban_eos(ops.cast(log_probs, "float32"), step, cfg.min_length)
    log_probs = _ban_repeats(log_probs, history, step, cfg.no_repeat_ngram)
    if cfg.no_repeat_word and pieces is not None:
        log_probs = ban_word_repeats(log_probs, history, step, pieces)
    if cfg.no_repeat_content_word and pieces is not None:
        log_probs = ban_content_repeats(log_probs, history, step, pieces)
    return log_probs


def _write(history, step, tokens):
    max_length = ops.shape(history)[1]
    at_step = ops.cast(ops.equal(ops.arange(max_length), step), "int32")[None, :]
    return history * (1 - at_step) + tokens[:, None] * at_step


def greedy_decode(model, article_ids, cfg: DecodeConfig, *, cache: bool = True, pieces=None):
    """(batch, max_length) int32 token ids. `cache=False` only for a Transformer without its key/value cache;
    pieces: `model.word_repeats.piece_table` for the word-level bans (None: no word blocking)."""
    article_ids = ops.cast(article_ids, "int32")
    memory, state = model.init_search(article_ids, max_length=cfg.max_length, cache=cache)
    batch = ops.shape(article_ids)[0]
    history = ops.zeros((batch, cfg.max_length), "int32")
    tokens = ops.full((batch,), BOS_ID, "int32")
    finished = ops.zeros((batch,), "bool")

    def cond(step, tokens, state, history, finished):
        return ops.logical_and(ops.less(step, cfg.max_length), ops.logical_not(ops.all(finished)))

    def body(step, tokens, state, history, finished):
        log_probs, _, state = model.search_step(tokens, position=step, memory=memory, state=state)
        log_probs = _bans(log_probs, history, step, cfg, pieces)
        chosen = ops.cast(ops.argmax(log_probs, axis=-1), "int32")
        chosen = ops.where(finished, PAD_ID, chosen)
        history = _write(history, step, chosen)
        return step + 1, chosen, state, history, ops.logical_or(finished, ops.equal(chosen, EOS_ID))

    _, _, _, history, _ = ops.while_loop(
        cond, body, (ops.convert_to_tensor(0, "int32"), tokens, state, history, finished))
    return history


def beam_search(model, article_ids, cfg: DecodeConfig, *, cache: bool = True, pieces=None):
    """(batch, max_length) int32 token ids of the best beam of each row (`pieces` as in `greedy_decode`)."""
    k = cfg.beam_size
    article_ids = ops.cast(article_ids, "int32")
    batch = ops.shape(article_ids)[0]
    # rows: batch * k, beams of a row adjacent
    memory, state = model.init_search(ops.repeat(article_ids, k, axis=0), max_length=cfg.max_length, cache=cache)
    rows = batch * k
    src = ops.shape(article_ids)[1]
    # Only the first beam of each row is live at the start (the others would duplicate it).
    scores = ops.tile(ops.convert_to_tensor([0.0] + [NEG_INF] * (k - 1), "float32")[None, :], (batch, 1))
    tokens = ops.full((rows,), BOS_ID, "int32")
    history = ops.zeros((rows, cfg.max_length), "int32")
    finished = ops.zeros((rows,), "bool")
    lengths = ops.zeros((rows,), "float32")
    attention_sum = ops.zeros((rows, src), "float32")
    row_offsets = ops.repeat(ops.arange(batch) * k, k)  # (rows,) first row of each document's beams

    def cond(step, *loop):
        finished = loop[3]
        return ops.logical_and(ops.less(step, cfg.max_length), ops.logical_not(ops.all(finished)))

    def body(step, tokens, state, history, finished, scores, lengths, attention_sum):
        log_probs, attention, state = model.search_step(tokens, position=step, memory=memory, state=state)
        log_probs = _bans(log_probs, history, step, cfg, pieces)
        vocab = ops.shape(log_probs)[-1]
        # A finished beam extends only with PAD, at no cost: its score stays as it was.
        pad_only = ops.where(ops.equal(ops.arange(vocab), PAD_ID), 0.0, NEG_INF)[None, :]
        log_probs = ops.where(finished[:, None], pad_only, log_probs)
        candidates = ops.reshape(scores, (rows, 1)) + log_probs  # (rows, vocab)
        candidates = ops.reshape(candidates, (batch, k * vocab))
        scores, flat = ops.top_k(candidates, k)  # (batch, k)
        flat = ops.reshape(flat, (rows,))
        source_rows = row_offsets + flat // vocab  # (rows,) which previous beam each new beam extends
        chosen = ops.cast(flat % vocab, "int32")

        def pick(x):
            return ops.take(x, source_rows, axis=0)

        state, history = keras.tree.map_structure(pick, state), pick(history)
        was_finished = pick(finished)
        attention_sum = pick(attention_sum + ops.where(finished[:, None], 0.0, ops.cast(attention, "float32")))
        lengths = pick(lengths) + ops.cast(ops.logical_not(was_finished), "float32")
        history = _write(history, step, chosen)
        finished = ops.logical_or(was_finished, ops.equal(chosen, EOS_ID))
        return step + 1, chosen, state, history, finished, scores, lengths, attention_sum

    loop = ops.while_loop(cond, body, (ops.convert_to_tensor(0, "int32"), tokens, state, history, finished,
                                       scores, lengths, attention_sum))
    _, _, _, history, _, scores, lengths, attention_sum = loop
    final = ops.reshape(scores, (rows,)) / ops.power((5.0 + lengths) / 6.0, cfg.length_penalty)
    if cfg.coverage_penalty:
        source_mask = ops.cast(ops.not_equal(memory["source_ids"], PAD_ID), "float32")
        penalty = ops.sum(ops.log(ops.clip(attention_sum, 1e-6, 1.0)) * source_mask, axis=-1)
        final = final + cfg.coverage_penalty * penalty
    best = ops.argmax(ops.reshape(final, (batch, k)), axis=-1)  # (batch,)
    return ops.take(history, ops.arange(batch) * k + ops.cast(best, "int32"), axis=0)


def decode(model, article_ids, cfg: DecodeConfig, *, cache: bool = True, pieces=None):
    if cfg.method == "greedy" or cfg.beam_size == 1:
        return greedy_decode(model, article_ids, cfg, cache=cache, pieces=pieces)
    return beam_search(model, article_ids, cfg, cache=cache, pieces=pieces)
