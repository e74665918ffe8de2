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
        """Raises InputError (one line, exit 3 in the CLI) if `export_dir` holds no sumflow export, LockedError
        (exit 75) while `sumflow export` writes it (it holds the directory's lock)."""
        from workspace.readers import shared_lock

        with shared_lock(export_dir, what="the model directory"):
            return cls._load(export_dir)

    @classmethod
    def _load(cls, export_dir: str) -> "ExportedModel":
        import os

        from workspace.errors import InputError

        info_path = export_dir.rstrip("/") + "/" + fmt.INFO_FILE
        if "://" not in export_dir and not os.path.exists(info_path):  # said before TensorFlow loads (~5 s)
            raise InputError(f"{export_dir} holds no exported model (no {fmt.INFO_FILE}); run `sumflow export` "
                             f"or give --model-dir")
        import tensorflow as tf
        import tensorflow_text  # noqa: F401  (registers the SentencePiece ops the graph uses)

        try:
            with tf.io.gfile.GFile(info_path) as f:
                info = fmt.ExportInfo.from_json(f.read())
        except Exception as e:  # noqa: BLE001  (a damaged export: one line, exit 3)
            raise _unloadable(export_dir, fmt.INFO_FILE, e) from None
        try:
            module = tf.saved_model.load(export_dir)
        except Exception as e:  # noqa: BLE001  (TensorFlow raises many types for a damaged file)
            raise _unloadable(export_dir, _damaged_file(export_dir), e) from None
        return cls(module, info, export_dir)

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


def _unloadable(export_dir: str, name: str | None, error: Exception):
    from workspace.errors import InputError

    lines = str(error).strip().splitlines()
    reason = f"{type(error).__name__}: {lines[0][:200] if lines else ''}"
    where = f"{name} is truncated or corrupt ({reason})" if name else reason
    return InputError(f"cannot load the exported model in {export_dir}: {where}; run `sumflow export` again")


def _damaged_file(export_dir: str) -> str | None:
    """The file of an export that TensorFlow could not load: each one read on its own (after the failure, so a
    good model pays nothing); None when each reads on its own."""
    import tensorflow as tf
    from tensorflow.core.protobuf import saved_model_pb2

    try:
        with tf.io.gfile.GFile(f"{export_dir.rstrip('/')}/saved_model.pb", "rb") as f:
            saved_model_pb2.SavedModel().ParseFromString(f.read())
    except Exception:  # noqa: BLE001
        return "saved_model.pb"
    prefix = f"{export_dir.rstrip('/')}/variables/variables"
    try:
        reader = tf.train.load_checkpoint(prefix)
    except Exception:  # noqa: BLE001
        return "variables/variables.index"
    try:
        for name in reader.get_variable_to_shape_map():
            reader.get_tensor(name)
    except Exception:  # noqa: BLE001
        shards = sorted(tf.io.gfile.glob(prefix + ".data-*"))
        return "variables/" + shards[0].rsplit("/", 1)[-1] if len(shards) == 1 else "variables/variables.data-*"
    return None
