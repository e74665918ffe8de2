"""Word-level repetition blocking for model/decode.py: a word cannot follow itself ("matching matching").

Subword n-gram blocking (`decode.no_repeat_ngram`) cannot stop a word that is one piece repeated, and a word of
two pieces repeated is only a 4-gram. Here pieces are grouped into words the way SentencePiece writes them:

  piece classes (`piece_classes`, one per vocabulary id)
    NONE   no letter or digit: punctuation, "▁" alone, control ids (PAD, BOS, EOS, UNK), ASCII bytes that are
           no letter or digit (a newline). Part of no word; a word on either side of it is still "next".
    START  "▁" then a letter or digit: begins a word.
    CONT   a letter or digit without "▁" (and bytes >= 0x80: pieces of a character outside the vocabulary):
           continues the word before it, or begins one after a NONE piece.

`ban_word_repeats` bans, at each step and per row, the pieces that would make the word being written equal
to the word before it: a piece that begins a word equal to the last word, or the piece that continues the
last word into a copy of the word before it ("▁j um ▁j" -> "um" is banned). So no output holds a word twice
in a row (punctuation between the two does not count, as in evaluation/summary_stats.py). Words are compared
by their letters and digits, case-folded, whatever their pieces: "The" written "T he" after a newline and
"▁the" are the same word, and so are "▁ Metric" and "▁metric" (a word is hashed, two polynomial hashes of its
lowercase characters modulo primes below 2**15.5, so that every product fits int32 on every backend; a word
of more than `MAX_WORD_PIECES` pieces is not compared). Everything is per row: beams and batch-mates do not
interact.

`ban_content_repeats` (decode.no_repeat_content_word) goes further: a content word that the hypothesis already
holds as a word of one piece ("▁module", case-folded; a content word as evaluation/summary_stats.py defines it)
cannot begin a word again ("Return the module of the module" cannot be written). Words of several pieces are
not tracked; a banned piece also cannot begin a longer word ("module" then "modules").

`piece_table(tokenizer)` gives what both need per vocabulary id: (7, vocab) int32 rows CLASS, KEY, CONTENT
and HASH (2 rows), POWER (2 rows): each piece's hash of its lowercase letters and digits and BASE ** their
count, modulo each of `MODULI`.
"""

from __future__ import annotations

import numpy as np
from keras import ops

NONE, START, CONT = 0, 1, 2
MODULI = (46337, 46327)  # primes; (P - 1) ** 2 + P < 2 ** 31: a hash step never leaves int32
CLASS, KEY, CONTENT, HASH = 0, 1, 2, 3  # the rows of `piece_table`: HASH and POWER hold one row per modulus
POWER = HASH + len(MODULI)
BASE = 131
MAX_WORD_PIECES = 8  # longer words are not compared (none of the corpora's repeats is that long)
BYTE_CODES = 0x110000  # a byte piece's code: past every character's
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


def piece_hash(piece: str, *, byte: int | None = None) -> tuple[list[int], list[int]]:
    """(hash, BASE ** length) of a piece's lowercase letters and digits, one of each per modulus."""
    if byte is None:
        codes = [ord(c) for c in piece.lower() if c.isalnum()]
    elif byte >= 0x80:  # a piece of a character outside the vocabulary
        codes = [BYTE_CODES + byte]
    else:  # an ASCII byte: the character it is (a letter or digit counts, as in `classify_piece`)
        codes = [ord(chr(byte).lower())] if chr(byte).isalnum() else []
    hashes, powers = [], []
    for modulus in MODULI:
        h = 0
        for code in codes:
            h = (h * BASE + code) % modulus
        hashes.append(h)
        powers.append(pow(BASE, len(codes), modulus))
    return hashes, powers


def piece_table(tokenizer) -> np.ndarray:
    """(7, vocab) int32 for `ban_word_repeats` and `ban_content_repeats`: per id its class (`piece_classes`),
    its key (the id of its lowercase form if the vocabulary has it, else its own id), whether it is a START
    piece that is a content word by itself, and its hashes and powers (`piece_hash`)."""
    from evaluation.summary_stats import is_content_word

    sp = getattr(tokenizer, "_sp", tokenizer)
    classes = piece_classes(sp)
    keys = np.arange(len(classes), dtype=np.int32)
    content = np.zeros(len(classes), np.int32)
    hashes = np.zeros((len(MODULI), len(classes)), np.int32)
    powers = np.ones((len(MODULI), len(classes)), np.int32)
    for i in range(len(classes)):
        if classes[i] == NONE:
            continue
        piece = sp.id_to_piece(i)
        lower = sp.piece_to_id(piece.lower())
        if piece.lower() != piece and lower != sp.unk_id() and sp.id_to_piece(lower) == piece.lower():
            keys[i] = lower
        content[i] = classes[i] == START and is_content_word(piece[len(WORD_START):].lower())
        hashes[:, i], powers[:, i] = piece_hash(piece, byte=int(piece[3:5], 16) if sp.is_byte(i) else None)
    return np.concatenate([np.stack([classes, keys, content]), hashes, powers])


def _table(pieces, vocab):
    """(classes, keys, content, hashes (2, vocab), powers (2, vocab)) tensors from a `piece_table`, a
    (3, vocab) table of classes, keys and content or a bare (vocab,) `piece_classes` array: without hashes a
    piece is hashed as one character, its key (words are compared as sequences of keys)."""
    pieces = np.asarray(pieces, np.int32)
    if pieces.ndim == 1:
        pieces = np.stack([pieces, np.arange(len(pieces), dtype=np.int32), np.zeros_like(pieces)])
    if len(pieces) == 3:
        moduli = np.asarray(MODULI, np.int64)[:, None]
        hashes = ((pieces[KEY][None, :].astype(np.int64) + 1) % moduli).astype(np.int32)
        powers = np.broadcast_to(BASE % moduli, hashes.shape).astype(np.int32)
        pieces = np.concatenate([pieces, hashes, powers])
    t = ops.convert_to_tensor(pieces, "int32")
    n = len(MODULI)
    return t[CLASS], t[KEY], t[CONTENT], t[HASH:HASH + n], t[POWER:POWER + n]


def _word_hashes(history, start, length, hashes, powers):
    """(moduli, rows) int32 hashes of the words of `length` pieces at `start` in each row of `history`."""
    max_length = ops.shape(history)[1]
    moduli = ops.convert_to_tensor(MODULI, "int32")[:, None]
    offsets = ops.arange(MAX_WORD_PIECES)[None, :]
    at = ops.take_along_axis(history, ops.clip(start[:, None] + offsets, 0, max_length - 1), axis=1)
    inside = offsets < length[:, None]  # (rows, MAX_WORD_PIECES)
    h = ops.zeros((len(MODULI), ops.shape(history)[0]), "int32")
    for j in range(MAX_WORD_PIECES):
        piece = at[:, j]
        step = ops.mod(h * ops.take(powers, piece, axis=1) + ops.take(hashes, piece, axis=1), moduli)
        h = ops.where(inside[None, :, j], step, h)
    return h


def ban_word_repeats(log_probs, history, step, pieces):
    """`log_probs` (rows, vocab) with -1e9 added to the pieces that would repeat the previous word.

    history: (rows, max_length) int32, the pieces chosen before `step` (later columns are ignored);
    pieces: a (7, vocab) `piece_table` (or a (vocab,) `piece_classes` array: words compared by id).
    """
    rows, max_length = ops.shape(history)[0], ops.shape(history)[1]
    vocab = ops.shape(log_probs)[-1]
    positions = ops.arange(max_length)[None, :]  # (1, max_length)
    classes, _, _, hashes, powers = _table(pieces, vocab)
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

    len1, len2 = end(s1) - s1, end(s2) - s2
    last_is_word = ops.take(word, ops.maximum(step - 1, 0), axis=1)  # (rows,) False at step 0 (no pieces)
    last, before = _word_hashes(history, s1, len1, hashes, powers), _word_hashes(history, s2, len2, hashes, powers)
    is_start, is_cont = ops.equal(classes, START)[None, :], ops.equal(classes, CONT)[None, :]  # (1, vocab)

    # A piece that begins a word (a START piece; any word piece after punctuation) equal to the last word.
    begins_word = ops.logical_or(is_start, ops.logical_and(is_cont, ops.logical_not(last_is_word)[:, None]))
    same = ops.all(ops.equal(hashes[:, None, :], last[:, :, None]), axis=0)  # (rows, vocab)
    known_last = ops.logical_and(s1 >= 0, len1 <= MAX_WORD_PIECES)[:, None]
    ban_begin = ops.logical_and(ops.logical_and(begins_word, same), known_last)

    # A piece that continues the last word into a copy of the word before it.
    moduli = ops.convert_to_tensor(MODULI, "int32")[:, None, None]
    extended = ops.mod(last[:, :, None] * powers[:, None, :] + hashes[:, None, :], moduli)  # (moduli, rows, vocab)
    copies = ops.all(ops.equal(extended, before[:, :, None]), axis=0)
    known_both = ops.logical_and(ops.logical_and(last_is_word, s2 >= 0),
                                 ops.logical_and(len1 < MAX_WORD_PIECES, len2 <= MAX_WORD_PIECES))[:, None]
    ban_continue = ops.logical_and(ops.logical_and(is_cont, copies), known_both)

    banned = ops.logical_or(ban_begin, ban_continue)
    return log_probs + NEG_INF * ops.cast(banned, log_probs.dtype)  # (rows, vocab)


def ban_content_repeats(log_probs, history, step, pieces):
    """`log_probs` (rows, vocab) with -1e9 added to every START piece whose key is a content word of one piece
    that the hypothesis already holds (see the module doc); pieces: a `piece_table`."""
    rows, max_length = ops.shape(history)[0], ops.shape(history)[1]
    vocab = ops.shape(log_probs)[-1]
    classes, keys, content, _, _ = _table(pieces, vocab)
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
