"""The one subword tokenizer of sumflow: SentencePiece, the same model in Python and in the TF graph.

Preprocessing learns and applies the model with the `sentencepiece` package (fast batch encoding in Beam
workers); exported models run the same `.model` bytes through `tensorflow_text.SentencepieceTokenizer`, so
the ids a model was trained on are the ids it sees at serving time (tests/contract/test_tokenizer.py).
"""

from __future__ import annotations

import hashlib
from typing import Iterable, Sequence

from contract.records import BOS_ID, EOS_ID, PAD_ID, UNK_ID

# SentencePiece's training result depends on how many threads share the EM passes: a fixed count (not the
# machine's cores) learns the same vocabulary from the same sample on every machine.
TRAINING_THREADS = 2


def train_sentencepiece(*, sentences_path: str, model_prefix: str, vocab_size: int, model_type: str = "unigram",
                        character_coverage: float = 0.9995, byte_fallback: bool = True, seed: int = 17,
                        num_threads: int = TRAINING_THREADS) -> str:
    """Learn a SentencePiece model from a file of one sentence a line; returns the `.model` path."""
    import sentencepiece as spm

    spm.set_random_generator_seed(seed)
    spm.SentencePieceTrainer.train(
        input=sentences_path, model_prefix=model_prefix, vocab_size=vocab_size, model_type=model_type,
        character_coverage=character_coverage, byte_fallback=byte_fallback,
        pad_id=PAD_ID, unk_id=UNK_ID, bos_id=BOS_ID, eos_id=EOS_ID,
        # Summaries keep sentence breaks as '\n'; whitespace is normalised by our cleaner, not by SentencePiece.
        normalization_rule_name="identity", remove_extra_whitespaces=True,
        hard_vocab_limit=False, num_threads=num_threads,
        input_sentence_size=0, shuffle_input_sentence=False, minloglevel=2)
    return model_prefix + ".model"


class Tokenizer:
    """A loaded SentencePiece model. Cheap to pickle (only the model bytes travel)."""

    def __init__(self, model_proto: bytes):
        import sentencepiece as spm

        self.model_proto = model_proto
        self._sp = spm.SentencePieceProcessor(model_proto=model_proto)
        if (self._sp.pad_id(), self._sp.unk_id(), self._sp.bos_id(), self._sp.eos_id()) != (
                PAD_ID, UNK_ID, BOS_ID, EOS_ID):
            raise ValueError("this SentencePiece model does not reserve pad=0, unk=1, bos=2, eos=3; "
                             "retrain it with sumflow preprocess (or spm_train --pad_id=0 --unk_id=1 "
                             "--bos_id=2 --eos_id=3)")

    @classmethod
    def load(cls, path: str) -> "Tokenizer":
        if "://" not in path:  # local: no TensorFlow import (seconds and ~400 MB in every Beam worker)
            with open(path, "rb") as f:
                return cls(f.read())
        import tensorflow as tf  # gfile: gs:// and other remote paths, without importing Beam in training

        with tf.io.gfile.GFile(path, "rb") as f:
            return cls(f.read())

    def __reduce__(self):
        return (Tokenizer, (self.model_proto,))

    @property
    def vocab_size(self) -> int:
        return self._sp.get_piece_size()

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Batch-encode texts to ids (no BOS/EOS). Newlines survive (byte pieces), so summaries keep sentence breaks."""
        return self._sp.encode(list(texts), out_type=int)

    def decode(self, ids: Iterable[int]) -> str:
        return self._sp.decode([int(i) for i in ids if i not in (PAD_ID, BOS_ID, EOS_ID)])

    def vocab_sha256(self) -> str:
        """Hash of the vocabulary (pieces, scores, types): the `.model` bytes embed the training path."""
        h = hashlib.sha256()
        sp = self._sp
        for i in range(sp.get_piece_size()):
            kind = 0 if sp.is_control(i) else 1 if sp.is_unknown(i) else 2 if sp.is_byte(i) else 3
            h.update(f"{sp.id_to_piece(i)}\t{sp.get_score(i):.6f}\t{kind}\n".encode("utf-8"))
        return h.hexdigest()


def tf_tokenizer(model_proto: bytes):
    """The same model as an in-graph `tensorflow_text.SentencepieceTokenizer` (int32 ids, no BOS/EOS)."""
    import tensorflow as tf
    import tensorflow_text as tf_text

    return tf_text.SentencepieceTokenizer(model=model_proto, out_type=tf.int32, add_bos=False, add_eos=False)
