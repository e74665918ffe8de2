"""`LearnVocabulary`: learn the SentencePiece model from a deterministic sample of the train split."""

from __future__ import annotations

import hashlib
import os
import tempfile

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from configs.schema import TokenizerConfig
from workspace.errors import InputError, UsageError
from contract.tokenizer import train_sentencepiece


def _sample_key(record: dict) -> int:
    # Top.Of keeps the largest keys: negate so the documents whose ids hash lowest form the sample. The same
    # inputs give the same sample on every runner, whatever the bundle order.
    return -int(hashlib.sha1(record["id"].encode("utf-8")).hexdigest()[:15], 16)


class _TrainSentencePiece(beam.DoFn):
    """Writes the sample to a local file, trains, and copies the `.model` to `model_path` (any filesystem)."""

    def __init__(self, cfg: TokenizerConfig, model_path: str):
        self._cfg, self._model_path = cfg, model_path

    def process(self, sample: list[dict]):
        if not sample:
            raise InputError("the train split holds no records after reading, cleaning and deduplication "
                             "(an empty input, or every record dropped: check source.format, the field names "
                             "and the clean.* limits); there is nothing to learn a vocabulary from")
        cfg = self._cfg
        with tempfile.TemporaryDirectory() as tmp:
            sentences = os.path.join(tmp, "sentences.txt")
            with open(sentences, "w", encoding="utf-8") as f:
                for record in sorted(sample, key=lambda r: r["id"]):
                    f.write(record["article"] + "\n" + record["summary"] + "\n")
            try:
                local = train_sentencepiece(sentences_path=sentences, model_prefix=os.path.join(tmp, "spm"),
                                            vocab_size=cfg.vocab_size, model_type=cfg.model_type,
                                            character_coverage=cfg.character_coverage,
                                            byte_fallback=cfg.byte_fallback, seed=cfg.seed)
            except RuntimeError as e:  # SentencePiece's own check of the size against the data
                reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
                reason = reason.rsplit("] ", 1)[-1]  # drop SentencePiece's source location and check
                raise UsageError(f"tokenizer.vocab_size={cfg.vocab_size} does not fit the {len(sample)} training "
                                 f"documents (SentencePiece: {reason[:200]}); set another tokenizer.vocab_size "
                                 f"or give more data") from None
            with open(local, "rb") as src, FileSystems.create(self._model_path) as dst:
                dst.write(src.read())
        yield self._model_path


class LearnVocabulary(beam.PTransform):
    """train records -> [path of the learned `.model`]."""

    def __init__(self, cfg: TokenizerConfig, model_path: str):
        super().__init__()
        self._cfg, self._model_path = cfg, model_path

    def expand(self, train_records):
        return (train_records
                | "Texts" >> beam.Map(lambda r: {"id": r["id"], "article": r["article"], "summary": r["summary"]})
                | "Sample" >> beam.combiners.Top.Of(self._cfg.sample_documents, key=_sample_key)
                | "Train" >> beam.ParDo(_TrainSentencePiece(self._cfg, self._model_path)))
