"""Word-level repetition blocking for model/decode.py: a word cannot follow itself ("matching matching").

Subword n-gram blocking (`decode.no_repeat_ngram`) cannot stop a word that is one piece repeated, and a word of
two pieces repeated is only a 4-gram. Here pieces are grouped into words the way SentencePiece writes them:

  piece classes (`piece_classes`, one per vocabulary id)
    NONE   no letter or digit: punctuation, "▁" alone, control ids (PAD, BOS, EOS, UNK), ASCII bytes that are
           no letter or digit (a newline). Part of no word; a word on either side of it is still "next".
    START  "▁" then a letter or digit: begins a word.
    CONT   a letter or digit without "▁" (and bytes >= 0x80: pieces of a character outside the vocabulary):
           continues the word before it, or begins one after a NONE piece.

`ban_word_repeats` bans, at each step and per row, the one piece that would make the word being written equal
to the word before it (the same pieces): a START piece that repeats a one-piece word, or the CONT piece that
completes a repeat of a longer one ("▁j um ▁j" -> "um" is banned). So no output holds a word twice in a row
(punctuation between the two does not count, as in evaluation/summary_stats.py). Words are compared as
pieces, compared case-folded: a piece's key is the id of its lowercase form where the vocabulary has one, so
"Metric metric" is blocked too. Everything is per row: beams and batch-mates do not interact.

`ban_content_repeats` (decode.no_repeat_content_word) goes further: a content word that the hypothesis already
holds as a word of one piece ("▁module", case-folded; a content word as evaluation/summary_stats.py defines it)
cannot begin a word again ("Return the module of the module" cannot be written). Words of several pieces are
not tracked; a banned piece also cannot begin a longer word ("module" then "modules").

`piece_table(tokenizer)` gives what both need per vocabulary id: (3, vocab) int32 rows CLASS, KEY, CONTENT.
"""

from __future__ import annotations

import numpy as np
from keras import ops

NONE, START, CONT = 0, 1, 2
CLASS, KEY, CONTENT = 0, 1, 2  # the rows of `piece_table`
WORD_START = "\u2581"  # SentencePiece's "▁"
NEG_INF = -1e9


def classify_piece(piece: str, *, control: bool = False, byte: int | None = None) -> int:
    """The class of one SentencePiece piece (see the module doc)."""
    if control:
        return NONE
    if byte is not None:
        return CONT if byte >= 0x80 or chr(byte).isalnum() else NONE
    starts = piece.startswith(WORD_START)
    if not any(c.isalnum() for c in piece.lstrip(WORD_START)):
        return NONE
    return START if starts else CONT


def piece_classes(tokenizer) -> np.ndarray:
    """(vocab,) int32 class of every id of a `contract.tokenizer.Tokenizer` (or a SentencePieceProcessor)."""
    sp = getattr(tokenizer, "_sp", tokenizer)
    out = np.zeros(sp.get_piece_size(), np.int32)
    for i in range(len(out)):
        piece = sp.id_to_piece(i)
        byte = int(piece[3:5], 16) if sp.is_byte(i) else None
        out[i] = classify_piece(piece, control=sp.is_control(i) or sp.is_unknown(i), byte=byte)
    return out


def piece_table(tokenizer) -> np.ndarray:
    """(3, vocab) int32 for `ban_word_repeats` and `ban_content_repeats`: per id its class (`piece_classes`),
    its key (the id of its lowercase form if the vocabulary has it, else its own id) and whether it is a
    START piece that is a content word by itself."""
    from evaluation.summary_stats import is_content_word

    sp = getattr(tokenizer, "_sp", tokenizer)
    classes = piece_classes(sp)
    keys = np.arange(len(classes), dtype=np.int32)
    content = np.zeros(len(classes), np.int32)
    for i in range(len(classes)):
        if classes[i] == NONE:
            continue
        piece = sp.id_to_piece(i)
        lower = sp.piece_to_id(piece.lower())
        if piece.lower() != piece and lower != sp.unk_id() and sp.id_to_piece(lower) == piece.lower():
            keys[i] = lower
        content[i] = classes[i] == START and is_content_word(piece[len(WORD_START):].lower())
    return np.stack([classes, keys, content])


def _table(pieces, vocab):
    """(classes, keys, content) tensors from a `piece_table` or a bare (vocab,) `piece_classes` array."""
    pieces = np.asarray(pieces, np.int32)
    if pieces.ndim == 1:
        pieces = np.stack([pieces, np.arange(len(pieces), dtype=np.int32), np.zeros_like(pieces)])
    return tuple(ops.convert_to_tensor(row, "int32") for row in pieces)


def _same_key(keys, pieces_to_ban, flags):
    """(rows, vocab) float: 1 where a vocabulary id has the key of the row's piece to ban and the row bans."""
    targets = ops.take(keys, pieces_to_ban)  # (rows,)
    return ops.cast(ops.logical_and(ops.equal(keys[None, :], targets[:, None]), flags[:, None]), "float32")


def ban_word_repeats(log_probs, history, step, pieces):
    """`log_probs` (rows, vocab) with -1e9 added to the pieces that would repeat the previous word.

    history: (rows, max_length) int32, the pieces chosen before `step` (later columns are ignored);
    pieces: (3, vocab) `piece_table` (or (vocab,) `piece_classes`: words compared by id).
    """
    rows, max_length = ops.shape(history)[0], ops.shape(history)[1]
    vocab = ops.shape(log_probs)[-1]
    positions = ops.arange(max_length)[None, :]  # (1, max_length)
    classes, keys, _ = _table(pieces, vocab)
    history_keys = ops.take(keys, history)
    kind = ops.where(positions < step, ops.take(classes, history), NONE)  # (rows, max_length)
    word = ops.not_equal(kind, NONE)
    after_word = ops.concatenate([ops.zeros((rows, 1), "bool"), word[:, :-1]], axis=1)
    begins = ops.logical_and(word, ops.logical_or(ops.equal(kind, START), ops.logical_not(after_word)))
    continues = ops.logical_and(word, ops.logical_not(begins))
    starts_at = ops.where(begins, positions, -1)
    s1 = ops.max(starts_at, axis=1)  # (rows,) the last word's first position, -1 if none
    s2 = ops.max(ops.where(positions < s1[:, None], starts_at, -1), axis=1)  # the word before it

    def end(start):  # (rows,) one past the last piece of the word that begins at `start`
        stop = ops.logical_and(positions > start[:, None], ops.logical_not(continues))
        return ops.min(ops.where(stop, positions, max_length), axis=1)

    def piece_at(index):  # (rows,) history[row, index[row]]
        return ops.take_along_axis(history, ops.clip(index, 0, max_length - 1)[:, None], axis=1)[:, 0]

    len1, len2 = end(s1) - s1, end(s2) - s2
    last_is_word = ops.take(word, ops.maximum(step - 1, 0), axis=1)  # (rows,) False at step 0 (no pieces)

    # A new word equal to the last one, a single piece: that piece again, where it would begin a word.
    first = piece_at(s1)
    first_starts = ops.logical_or(ops.equal(ops.take(classes, first), START), ops.logical_not(last_is_word))
    ban_first = ops.logical_and(ops.logical_and(s1 >= 0, ops.equal(len1, 1)), first_starts)

    # The last word, still being written, one piece short of the word before it: that piece.
    shift = (s1 - s2)[:, None]
    in_prefix = ops.logical_and(positions >= s2[:, None], positions < (s2 + len1)[:, None])
    shifted = ops.take_along_axis(history_keys, ops.clip(positions + shift, 0, max_length - 1), axis=1)
    same_prefix = ops.all(ops.logical_or(ops.logical_not(in_prefix), ops.equal(history_keys, shifted)), axis=1)
    ban_next = ops.logical_and(ops.logical_and(last_is_word, s2 >= 0),
                               ops.logical_and(ops.equal(len2, len1 + 1), same_prefix))
    next_piece = piece_at(s2 + len1)

    # every piece of the first's key that would begin a word there (a START piece always does)
    ban_first_ids = ops.logical_and(ops.cast(_same_key(keys, first, ban_first), "bool"),
                                    ops.logical_or(ops.equal(classes, START)[None, :],
                                                   ops.logical_not(last_is_word)[:, None]))
    banned = ops.maximum(ops.cast(ban_first_ids, "float32"), _same_key(keys, next_piece, ban_next))
    return log_probs + NEG_INF * ops.cast(banned, log_probs.dtype)  # (rows, vocab)


def ban_content_repeats(log_probs, history, step, pieces):
    """`log_probs` (rows, vocab) with -1e9 added to every START piece whose key is a content word of one piece
    that the hypothesis already holds (see the module doc); pieces: a (3, vocab) `piece_table`."""
    rows, max_length = ops.shape(history)[0], ops.shape(history)[1]
    vocab = ops.shape(log_probs)[-1]
    classes, keys, content = _table(pieces, vocab)
    positions = ops.arange(max_length)[None, :]
    kind = ops.where(positions < step, ops.take(classes, history), NONE)  # (rows, max_length)
    following = ops.concatenate([kind[:, 1:], ops.zeros((rows, 1), "int32")], axis=1)
    # a one-piece word: a START piece not continued (the last piece counts: a START piece would end it)
    whole = ops.logical_and(ops.equal(kind, START),
                            ops.logical_or(ops.not_equal(following, CONT), ops.equal(positions, step - 1)))
    used = ops.logical_and(whole, ops.equal(ops.take(content, history), 1))  # (rows, max_length)
    row_ids = ops.repeat(ops.arange(rows)[:, None], max_length, axis=1)
    indices = ops.stack([ops.reshape(row_ids, (-1,)), ops.reshape(ops.take(keys, history), (-1,))], axis=1)
    seen = ops.scatter(indices, ops.reshape(ops.cast(used, "float32"), (-1,)), (rows, vocab))  # by key
    banned = ops.logical_and(ops.greater(ops.take(seen, keys, axis=1), 0.0),
                             ops.equal(classes, START)[None, :])
    return log_probs + NEG_INF * ops.cast(banned, log_probs.dtype)
