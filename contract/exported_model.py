"""`ExportedModel`: an exported summarizer loaded once, in Python: the API behind `sumflow summarize`.

    from contract.exported_model import ExportedModel

    model = ExportedModel.load("runs/default/export")
    model.summarize(["First document ...", "Second document ..."])   # -> ["summary 1", "summary 2"]

Documents are cleaned as the training articles were (`configs.schema.CleanConfig`, NFKC and the rest: pass the
training config's `clean` if it differs from the default) and summarized in batches by the SavedModel's own
graph (SentencePiece tokenization, in-graph decoding, detokenization). Needs TensorFlow and tensorflow-text,
imported on load; nothing here imports Beam or Keras.
"""

from __future__ import annotations

from typing import Sequence

from configs.schema import CleanConfig
from contract import export_format as fmt
from contract.text import clean_article


class ExportedModel:
    def __init__(self, module, info: fmt.ExportInfo, export_dir: str):
        self.module, self.info, self.export_dir = module, info, export_dir

    @classmethod
    def load(cls, export_dir: str) -> "ExportedModel":
        """Raises InputError (one line, exit 3 in the CLI) if `export_dir` holds no sumflow export."""
        import os

        from workspace.errors import InputError

        info_path = export_dir.rstrip("/") + "/" + fmt.INFO_FILE
        if "://" not in export_dir and not os.path.exists(info_path):  # said before TensorFlow loads (~5 s)
            raise InputError(f"{export_dir} holds no exported model (no {fmt.INFO_FILE}); run `sumflow export` "
                             f"or give --model-dir")
        import tensorflow as tf
        import tensorflow_text  # noqa: F401  (registers the SentencePiece ops the graph uses)

        with tf.io.gfile.GFile(info_path) as f:
            info = fmt.ExportInfo.from_json(f.read())
        return cls(tf.saved_model.load(export_dir), info, export_dir)

    def summarize_batch(self, texts: Sequence[str]) -> list[dict]:
        """One call of the graph: {"summary", "source_tokens", "summary_tokens", "truncated"} per text, as is
        (no cleaning; a text longer than the model reads is truncated)."""
        import tensorflow as tf

        out = self.module.signatures[fmt.SUMMARIZE_SIGNATURE](**{fmt.INPUT: tf.constant(list(texts))})
        return [{"summary": s.decode("utf-8"), "source_tokens": int(n), "summary_tokens": int(m),
                 "truncated": bool(t)}
                for s, n, m, t in zip(out[fmt.SUMMARY].numpy(), out[fmt.SOURCE_TOKENS].numpy(),
                                      out[fmt.SUMMARY_TOKENS].numpy(), out[fmt.TRUNCATED].numpy())]

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        import tensorflow as tf

        count = self.module.signatures[fmt.COUNT_SIGNATURE]
        return [int(n) for n in count(**{fmt.INPUT: tf.constant(list(texts))})[fmt.TOKENS].numpy()]

    def summarize(self, texts: Sequence[str], *, clean: CleanConfig = CleanConfig(),
                  batch_size: int = 32) -> list[str]:
        """A summary per text, in order; a text that is empty after cleaning gets ""."""
        if isinstance(texts, str):
            raise TypeError("summarize() takes a list of texts; wrap a single text in a list")
        cleaned = [clean_article(t, clean) for t in texts]
        summaries = [""] * len(cleaned)
        todo = [i for i, t in enumerate(cleaned) if t]
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            for i, result in zip(batch, self.summarize_batch([cleaned[i] for i in batch])):
                summaries[i] = result["summary"]
        return summaries
