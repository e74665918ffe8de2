"""The decoding-settings search of `sumflow tune-decoding`: every point of decode.tune's grid decodes the same
validation documents and is scored by ROUGE against their references; the best by decode.tune.metric wins.

Grid order is the product of decode.tune's lists (beam size, length penalty, min length, n-gram blocking, word
blocking, content-word blocking; an empty list keeps the decode section's value), greedy points (beam 1)
taking no length penalty, so each is decoded once. Ties go to the earlier point: the cheaper decoder first, as
the grid lists it. The test split is never read here: a figure reported on it stays a held-out one.
"""

from __future__ import annotations

import dataclasses
import itertools
import time
from typing import Callable, Sequence

import numpy as np

from configs.schema import DecodeConfig
from contract.records import EOS_ID, PAD_ID
from contract.tuned_decoding import settings

METRICS = ("rouge1", "rouge2", "rougeLsum")


def grid(cfg: DecodeConfig) -> list[DecodeConfig]:
    """The decode configs to score, in grid order, without duplicates."""
    tune = cfg.tune
    beams = tune.beam_size or (cfg.beam_size if cfg.method == "beam" else 1,)
    lists = (beams, tune.length_penalty or (cfg.length_penalty,), tune.min_length or (cfg.min_length,),
             tune.no_repeat_ngram or (cfg.no_repeat_ngram,), tune.no_repeat_word or (cfg.no_repeat_word,),
             tune.no_repeat_content_word or (cfg.no_repeat_content_word,))
    out: list[DecodeConfig] = []
    for beam, penalty, min_length, ngram, word, content in itertools.product(*lists):
        point = dataclasses.replace(cfg, method="beam" if beam > 1 else "greedy", beam_size=beam,
                                    length_penalty=penalty if beam > 1 else cfg.length_penalty,
                                    min_length=min(min_length, cfg.max_length), no_repeat_ngram=ngram,
                                    no_repeat_word=word, no_repeat_content_word=content)
        if point not in out:
            out.append(point)
    return out


def _batches(articles: Sequence[Sequence[int]], batch_size: int, max_source_tokens: int):
    """(batch, width) int32 arrays of the articles' first `max_source_tokens` ids, PAD after them; one width for
    every batch (the longest article's), so each decoder is traced once."""
    width = max(1, min(max_source_tokens, max((len(a) for a in articles), default=1)))
    for start in range(0, len(articles), batch_size):
        chunk = articles[start:start + batch_size]
        ids = np.full((len(chunk), width), PAD_ID, np.int32)
        for i, article in enumerate(chunk):
            kept = list(article)[:width]
            ids[i, :len(kept)] = kept
        yield ids


def _summary_ids(row) -> list[int]:
    ids = [int(t) for t in row]
    ids = ids[: ids.index(EOS_ID)] if EOS_ID in ids else ids
    return [t for t in ids if t != PAD_ID]


def search(model, tokenizer, *, articles: Sequence[Sequence[int]], references: Sequence[str], cfg: DecodeConfig,
           max_source_tokens: int, use_stemmer: bool = True, rouge_tokenizer: str = "unicode",
           log: Callable[[str], None] = lambda m: None) -> tuple[int, list[dict]]:
    """(the index of the best point, every point's figures) for `grid(cfg)` on these documents.

    model: an `EncoderDecoder` (either architecture); tokenizer: its `contract.tokenizer.Tokenizer`;
    articles: token ids per document; references: their summaries (one sentence a line).
    """
    import tensorflow as tf

    from evaluation.rouge import RougeTokenizer, score_documents
    from evaluation.summary_stats import summary_stats
    from model.decode import decode
    from model.word_repeats import piece_table

    pieces = piece_table(tokenizer)
    plain = RougeTokenizer(use_stemmer=False, kind=rouge_tokenizer)  # as evaluate counts repeats
    batches = list(_batches(articles, cfg.tune.batch_size, max_source_tokens))
    configs, points = grid(cfg), []
    for n, point in enumerate(configs, 1):
        started = time.monotonic()
        run = tf.function(lambda ids, point=point: decode(model, ids, point, pieces=pieces), reduce_retracing=True)
        predictions = [tokenizer.decode(_summary_ids(row)) for ids in batches for row in np.asarray(run(ids))]
        seconds = time.monotonic() - started
        scores = score_documents(predictions=predictions, references=[[r] for r in references], metrics=METRICS,
                                 use_stemmer=use_stemmer, tokenizer=rouge_tokenizer, workers=1)
        stats = summary_stats(predictions, tokenizer=plain)
        figures = {metric: round(float(scores[:, i, 2].mean() * 100), 4) for i, metric in enumerate(METRICS)}
        points.append({"settings": settings(point),
                       **figures,
                       "back_to_back": stats["back_to_back"], "repeated_content_word": stats["repeated_content_word"],
                       "seconds": round(seconds, 2)})
        log(f"tune-decoding: {n}/{len(configs)} {describe(points[-1]['settings'])}: "
            + ", ".join(f"{m} {figures[m]:.2f}" for m in METRICS) + f" ({seconds:.1f} s)")
    metric = cfg.tune.metric
    best = max(range(len(points)), key=lambda i: (points[i][metric], -i))
    return best, points


def describe(chosen: dict) -> str:
    """'beam 4, length penalty 1, min length 1, no repeat 3-gram, word blocking' in words."""
    decoder = f"beam {chosen['beam_size']}, length penalty {chosen['length_penalty']:g}" \
        if chosen["method"] == "beam" and chosen["beam_size"] > 1 else "greedy"
    ngram = f"no repeat {chosen['no_repeat_ngram']}-gram" if chosen["no_repeat_ngram"] else "no n-gram blocking"
    word = "word blocking" if chosen["no_repeat_word"] else "no word blocking"
    if chosen.get("no_repeat_content_word"):
        word += ", content words once"
    return f"{decoder}, min length {chosen['min_length']}, {ngram}, {word}"


def validation_documents(data_dir: str, manifest, documents: int) -> tuple[list[list[int]], list[str], list[str]]:
    """(article ids, reference summaries, ids) of the validation split's first `documents` records by id (all
    of them for 0): the same documents on every run and every machine."""
    import tensorflow as tf

    from contract.manifest import split_paths
    from contract.records import decode_example
    from contract.tfrecord import read_records
    from workspace.errors import InputError

    records = []
    for path in split_paths(data_dir, manifest, "validation"):
        with tf.io.gfile.GFile(path, "rb") as f:
            records.extend(decode_example(r) for r in read_records(f, path))
    if not records:
        raise InputError(f"{data_dir}: the validation split is empty; decoding settings are chosen on it "
                         f"(preprocess with split.validation > 0, or source.split_paths.validation)")
    records.sort(key=lambda r: r["id"])
    records = records[:documents] if documents else records
    return [r["article_ids"] for r in records], [r["summary"] for r in records], [r["id"] for r in records]


def tune(config, *, log: Callable[[str], None] = lambda m: None) -> dict:
    """Score decode.tune's grid for the model in train.model_dir on validation documents of train.data_dir and
    write the best into the model directory's decoding.json (contract/tuned_decoding.py); returns the record."""
    import os

    import keras

    import model.build  # noqa: F401  (registers the layers of every architecture for loading)
    from contract import model_dir as layout, tuned_decoding
    from contract.manifest import load_manifest
    from contract.tokenizer import Tokenizer
    from model.export import check_model_dir
    from workspace import outputs

    model_dir = config.train.model_dir
    trained_on = check_model_dir(model_dir)
    manifest = load_manifest(config.train.data_dir, expected_vocab_sha256=trained_on["vocab_sha256"])
    articles, references, _ = validation_documents(config.train.data_dir, manifest, config.decode.tune.documents)
    with outputs.locked(model_dir):  # not while a training run replaces the model
        sha = tuned_decoding.model_sha256(model_dir)
        network = keras.saving.load_model(os.path.join(model_dir, layout.MODEL_FILE), compile=False)
        tokenizer = Tokenizer.load(os.path.join(model_dir, layout.VOCAB))
        log(f"tune-decoding: {len(grid(config.decode))} settings on {len(articles)} validation documents of "
            f"{config.train.data_dir}, chosen by {config.decode.tune.metric} F1")
        best, points = search(network, tokenizer, articles=articles, references=references, cfg=config.decode,
                              max_source_tokens=config.model.max_source_tokens,
                              use_stemmer=config.evaluate.use_stemmer, rouge_tokenizer=config.evaluate.tokenizer,
                              log=log)
        record = {"split": "validation", "documents": len(articles), "metric": config.decode.tune.metric,
                  "model_sha256": sha, "data_fingerprint": manifest.fingerprint,
                  "chosen": points[best]["settings"], "points": points}
        path = tuned_decoding.write(model_dir, record)
    log(f"tune-decoding: chose {describe(points[best]['settings'])} "
        f"({config.decode.tune.metric} {points[best][config.decode.tune.metric]:.2f}) -> {path}; "
        f"`sumflow export` applies it")
    return record
