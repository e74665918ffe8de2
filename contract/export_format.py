"""The exported model that `sumflow export` writes and `sumflow summarize` loads: one definition of its format.

A SavedModel with two signatures, string in, string out (tokenizer, decoder and detokenizer run in the graph):
  serving_default(texts: string[batch]) -> {summary: string[batch], source_tokens: int32[batch],
                                            summary_tokens: int32[batch], truncated: bool[batch]}
  count_tokens(texts: string[batch]) -> {tokens: int32[batch]}
and `sumflow_export.json` beside it (`ExportInfo`): the weights' fingerprint, the source limit, the decode
settings and what the model was trained on. Loading it needs `import tensorflow_text` first (it registers the
SentencePiece ops).
"""

from __future__ import annotations

import dataclasses
import json

from workspace.errors import InputError
from workspace.outputs import SUCCESS_NAME

SUMMARIZE_SIGNATURE = "serving_default"
COUNT_SIGNATURE = "count_tokens"
INPUT = "texts"
SUMMARY, SOURCE_TOKENS, SUMMARY_TOKENS, TRUNCATED = "summary", "source_tokens", "summary_tokens", "truncated"
TOKENS = "tokens"  # count_tokens' output

INFO_FILE = "sumflow_export.json"
FILES = ("saved_model.pb", "fingerprint.pb", "variables", "assets", INFO_FILE, SUCCESS_NAME)
REQUIRED = (INFO_FILE, "saved_model.pb", SUCCESS_NAME)  # a complete export holds these


@dataclasses.dataclass(frozen=True)
class ExportInfo:
    """`sumflow_export.json`: `fingerprint` (of the weights) is written next to every summary."""

    fingerprint: str
    max_source_tokens: int
    decode: dict
    vocab_sha256: str
    data_fingerprint: str | None = None

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "ExportInfo":
        """Unknown keys are ignored (a newer export may add some); a missing one is an InputError."""
        try:
            values = json.loads(text)
        except json.JSONDecodeError as e:
            raise InputError(f"{INFO_FILE} is not valid JSON ({e}); export the model again") from None
        fields = dataclasses.fields(cls)
        missing = [f.name for f in fields if f.name not in values and f.default is dataclasses.MISSING]
        if missing:
            raise InputError(f"{INFO_FILE} lacks {', '.join(missing)}: not an export of this sumflow; export the "
                             f"model again (`sumflow export --force`)")
        return cls(**{f.name: values[f.name] for f in fields if f.name in values})
