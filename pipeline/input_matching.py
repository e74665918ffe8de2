"""Which files a job reads, matched once per run: the inputs of `preprocess` (source.paths and
source.split_paths) and the documents of `summarize` (summarize.inputs).

The run's identity (pipeline/completion.py) is computed from these matches, and the readers
(pipeline/sources.py `ReadPairs`, pipeline/documents.py `ReadDocuments`) are handed the files it lists, so
what is recorded as read is what was read. Plain Python: no Beam, no TensorFlow (the no-op check uses it).
"""

from __future__ import annotations

import os

from configs.schema import ConfigError, SourceConfig, SummarizeConfig
from workspace.errors import InputError, UsageError
from workspace.input_files import is_local, match_files


def input_files(cfg: SourceConfig) -> list[tuple[str, str]]:
    """(path, split) for every input file matched; raises InputError naming a pattern that matched nothing."""
    patterns = [(p, "") for p in cfg.paths] + [(p, s) for s, p in sorted(cfg.split_paths.items())]
    if not patterns:
        raise ConfigError(f"source.paths: give input files with -i FILE_OR_GLOB, source.paths or "
                          f"source.split_paths.SPLIT for format {cfg.format}")
    out = []
    for pattern, split in patterns:
        out.extend((path, split) for path in match_files(pattern, folders=cfg.format == "text_dir",
                                                           what="source"))
    return out


def document_files(cfg: SummarizeConfig) -> list[str]:
    """The files summarize reads, in the order of the patterns given."""
    if not cfg.inputs:
        raise InputError("summarize: give the documents to summarize (--input FILE_OR_GLOB)")
    out = []
    for pattern in cfg.inputs:
        if cfg.format == "text_dir" and is_local(pattern) and os.path.isfile(pattern):
            raise UsageError(f"--format text_dir reads folders of text files (one document a file); {pattern} is "
                             f"a file: give its folder, or --format jsonl / tfrecord for a file of documents")
        out.extend(match_files(pattern, folders=cfg.format == "text_dir", what="summarize.inputs"))
    return out
