"""The one config schema of sumflow: frozen dataclasses, one default per value.

Every job reads a `Config` built by `configs.load.load_config` (YAML layers + `--set` overrides) and
writes the resolved config next to its outputs. Each section validates itself in `__post_init__` with a
message that names the key and says how to fix it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from workspace.errors import UsageError

SPLITS = ("train", "validation", "test")


class ConfigError(UsageError):
    """A config value is missing or invalid; the message says which key and how to fix it."""


def _require(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"{key}: {message}")


@dataclasses.dataclass(frozen=True)
class SourceConfig:
    """Where article/summary pairs come from.

    format: builtin | jsonl | csv | tsv | text_dir | tfds.
      builtin  - docstrings of the Python standard library and of the installed packages named in
                 `builtin_packages` (summary <- first line, article <- the rest); real human text, offline,
                 nothing downloaded or committed.
      jsonl    - one object a line; field names below.
      csv/tsv  - a header row naming the fields below.
      text_dir - a folder of text files: the article, then `summary_marker` lines each followed by one
                 summary sentence (the CNN/DM `.story` layout). The id is the relative path.
      tfds     - a prepared TFDS dataset read from `tfds_data_dir` (never downloaded).
    Files ending in `.gz` are read gzip-compressed.
    paths: files or globs without splits of their own (records are split by a hash of their id).
    split_paths: {split: glob} when the source has its own splits (e.g. AESLC train/dev/test).
    """

    format: str = "builtin"
    paths: tuple[str, ...] = ()
    split_paths: dict[str, str] = dataclasses.field(default_factory=dict)
    id_field: str = "id"
    article_field: str = "article"
    summary_field: str = "summary"
    summary_marker: str = "@highlight"
    tfds_name: str = ""
    tfds_data_dir: str = ""
    tfds_splits: dict[str, str] = dataclasses.field(
        default_factory=lambda: {"train": "train", "validation": "validation", "test": "test"})
    builtin_packages: tuple[str, ...] = ("stdlib",)  # `stdlib` and/or installed packages' import names
    builtin_names: bool = False  # each article starts with the documented object's name ("Widget.spin: ...")
    builtin_max_records: int = 0  # 0 = every docstring found

    FORMATS = ("builtin", "jsonl", "csv", "tsv", "text_dir", "tfds")

    def __post_init__(self):
        _require(self.format in self.FORMATS, "source.format",
                 f"{self.format!r} is not one of {', '.join(self.FORMATS)}")
        for split in self.split_paths:
            _require(split in SPLITS, f"source.split_paths.{split}", f"split must be one of {SPLITS}")
        if self.format == "tfds":
            _require(bool(self.tfds_name), "source.tfds_name",
                     "set the TFDS dataset name (e.g. cnn_dailymail) when source.format is tfds")
        # No input files is preprocess's error (pipeline/completion.py `input_files`), not the config's: every
        # job loads the config, and `sumflow train -c jsonl` needs none; the input may come with -i.
        _require(self.builtin_max_records >= 0, "source.builtin_max_records", "must be >= 0")
        _require(bool(self.builtin_packages), "source.builtin_packages", "name at least one source (e.g. stdlib)")


@dataclasses.dataclass(frozen=True)
class CleanConfig:
    """Text cleaning and the length limits that drop a record (counted, with its reason)."""

    unicode_form: str = "NFKC"
    strip_html: bool = True
    lowercase: bool = False
    rules: tuple[str, ...] = ()  # dataset-specific rules, e.g. ("cnn_byline",)
    # The unit of the *_words limits. auto: words where words are separated by spaces, one unit per Han/kana
    # character where they are not (Chinese, Japanese); words: space-separated only; characters: non-space.
    length_unit: str = "auto"
    min_article_words: int = 10
    max_article_words: int = 10_000
    min_summary_words: int = 1
    max_summary_words: int = 400

    RULES = ("cnn_byline",)

    def __post_init__(self):
        _require(self.unicode_form in ("NFC", "NFKC", "NFD", "NFKD", ""), "clean.unicode_form",
                 "use NFKC (default), NFC, NFD, NFKD or '' for none")
        for rule in self.rules:
            _require(rule in self.RULES, "clean.rules", f"unknown rule {rule!r}; known: {self.RULES}")
        _require(self.length_unit in ("auto", "words", "characters"), "clean.length_unit",
                 "use auto (default), words or characters")
        _require(0 <= self.min_article_words <= self.max_article_words, "clean.min_article_words",
                 "must be >= 0 and <= clean.max_article_words")
        _require(0 <= self.min_summary_words <= self.max_summary_words, "clean.min_summary_words",
                 "must be >= 0 and <= clean.max_summary_words")


@dataclasses.dataclass(frozen=True)
class DedupConfig:
    """Exact (hash of the normalised article) and near-duplicate (MinHash LSH) removal."""

    exact: bool = True
    near: bool = True
    shingle_words: int = 5
    num_perm: int = 64
    bands: int = 8
    threshold: float = 0.8  # estimated Jaccard similarity at or above which a pair is a near-duplicate

    def __post_init__(self):
        _require(self.shingle_words >= 1, "dedup.shingle_words", "must be >= 1")
        _require(self.num_perm >= 1, "dedup.num_perm", "must be >= 1")
        _require(self.bands >= 1 and self.num_perm % self.bands == 0, "dedup.bands",
                 f"dedup.num_perm ({self.num_perm}) must be a multiple of dedup.bands ({self.bands})")
        _require(0.0 < self.threshold <= 1.0, "dedup.threshold", "must be in (0, 1]")


@dataclasses.dataclass(frozen=True)
class SplitConfig:
    """Deterministic split by a salted hash of the record id, unless the source has its own splits."""

    train: float = 0.9
    validation: float = 0.05
    test: float = 0.05
    salt: str = "sumflow"

    def __post_init__(self):
        total = self.train + self.validation + self.test
        _require(abs(total - 1.0) < 1e-6 and min(self.train, self.validation, self.test) >= 0,
                 "split", f"train + validation + test must be 1.0 and each >= 0 (got {total:g})")


@dataclasses.dataclass(frozen=True)
class TokenizerConfig:
    """SentencePiece subword model: learned from the train split, or reused from `model_path`.

    Ids: pad=0, unk=1, bos=2, eos=3 (fixed; the model and decoders rely on them).
    byte_fallback keeps every character representable, so the copy mechanism never meets <unk>.
    """

    model_path: str = ""  # reuse this .model instead of learning one
    model_type: str = "unigram"
    vocab_size: int = 8000
    character_coverage: float = 0.9995
    byte_fallback: bool = True
    sample_documents: int = 20_000  # train documents (article + summary) the model is learned from
    seed: int = 17

    def __post_init__(self):
        _require(self.model_type in ("unigram", "bpe"), "tokenizer.model_type", "use unigram or bpe")
        _require(self.vocab_size >= 300 or self.model_path != "", "tokenizer.vocab_size",
                 "must be >= 300 (byte fallback alone needs 256 pieces)")
        _require(0.9 <= self.character_coverage <= 1.0, "tokenizer.character_coverage", "must be in [0.9, 1]")
        _require(self.sample_documents > 0, "tokenizer.sample_documents", "must be > 0")
        _require(self.seed >= 0, "tokenizer.seed", "must be >= 0")


@dataclasses.dataclass(frozen=True)
class PreprocessConfig:
    """Where the preprocessing job writes (its Beam runner: the `beam` section)."""

    output_dir: str = "runs/default/data"

    def __post_init__(self):
        _require(bool(self.output_dir), "preprocess.output_dir", "set an output directory")


@dataclasses.dataclass(frozen=True)
class BeamConfig:
    """The Beam runner of both Beam jobs (preprocess, summarize); arguments after `--` go to Beam over it."""

    runner: str = "DirectRunner"
    direct_num_workers: int = 0  # 0 = one per core
    direct_running_mode: str = "multi_processing"

    def __post_init__(self):
        _require(self.direct_num_workers >= 0, "beam.direct_num_workers", "must be >= 0 (0 = one per core)")
        _require(self.direct_running_mode in ("in_memory", "multi_threading", "multi_processing"),
                 "beam.direct_running_mode", "use in_memory, multi_threading or multi_processing")


# Keys that moved to another section: a config that still has them gets one line saying where they are now.
MOVED_KEYS = {f"preprocess.{key}": f"beam.{key}" for key in ("runner", "direct_num_workers", "direct_running_mode")}


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The summarizer: the RNN attention seq2seq (bidirectional encoder, attention decoder) or a Transformer;
    both with pointer-generator copying and coverage. embedding_dim..attention_units: rnn; layers..: transformer."""

    architecture: str = "rnn"  # rnn (See et al. 2017) | transformer (embedding_dim is its model size)
    embedding_dim: int = 128
    encoder_units: int = 128  # per direction
    decoder_units: int = 256
    cell: str = "gru"  # gru | lstm
    attention: str = "bahdanau"  # bahdanau (additive) | luong (multiplicative)
    attention_units: int = 128
    pointer_generator: bool = True
    coverage: bool = True
    tie_embeddings: bool = True
    dropout: float = 0.0
    max_source_tokens: int = 400
    max_target_tokens: int = 100
    layers: int = 2  # transformer: blocks in the encoder and in the decoder
    heads: int = 4  # transformer: attention heads (embedding_dim must be a multiple)
    feed_forward_dim: int = 512  # transformer: inner size of the feed-forward sub-layers
    # transformer: dropout is on each sub-layer's output (the residual dropout); these two are on the attention
    # weights (-1 = the same as dropout) and on the feed-forward's inner activations
    attention_dropout: float = -1.0
    activation_dropout: float = 0.0
    # the shared embedding's initial values: uniform (Keras's default, +-0.05) | normal (N(0, embedding_dim^-0.5),
    # the Transformer's with tied embeddings: after the sqrt(embedding_dim) input scaling, unit variance)
    embedding_init: str = "uniform"
    word_dropout: float = 0.0  # training only: each decoder input token (not BOS) becomes <unk> with this rate

    def __post_init__(self):
        _require(self.architecture in ("rnn", "transformer"), "model.architecture", "use rnn or transformer")
        _require(self.embedding_dim % max(self.heads, 1) == 0, "model.heads",
                 f"embedding_dim ({self.embedding_dim}) must be a multiple of heads ({self.heads})")
        _require(self.cell in ("gru", "lstm"), "model.cell", "use gru or lstm")
        _require(self.attention in ("bahdanau", "luong"), "model.attention", "use bahdanau or luong")
        for key in ("embedding_dim", "encoder_units", "decoder_units", "attention_units",
                    "max_source_tokens", "max_target_tokens", "layers", "heads", "feed_forward_dim"):
            _require(getattr(self, key) > 0, f"model.{key}", "must be > 0")
        _require(0.0 <= self.dropout < 1.0, "model.dropout", "must be in [0, 1)")
        _require(self.attention_dropout == -1.0 or 0.0 <= self.attention_dropout < 1.0, "model.attention_dropout",
                 "must be in [0, 1), or -1 for the same as model.dropout")
        _require(0.0 <= self.activation_dropout < 1.0, "model.activation_dropout", "must be in [0, 1)")
        _require(self.embedding_init in ("uniform", "normal"), "model.embedding_init", "use uniform or normal")
        _require(0.0 <= self.word_dropout < 1.0, "model.word_dropout", "must be in [0, 1)")


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Optimisation, checkpoints and the distribution strategy of `sumflow train`."""

    data_dir: str = "runs/default/data"  # a preprocess output (read by its manifest)
    model_dir: str = "runs/default/model"
    batch_size: int = 32
    epochs: int = 10
    steps_per_epoch: int = 0  # 0 = one pass over the train split
    learning_rate: float = 1e-3
    warmup_steps: int = 200
    decay: str = "cosine"  # cosine | constant | rsqrt
    clip_norm: float = 2.0
    label_smoothing: float = 0.0
    coverage_loss_weight: float = 1.0
    shuffle_buffer: int = 10_000
    bucket_boundaries: tuple[int, ...] = (50, 100, 200, 300)
    deterministic: bool = False
    seed: int = 42
    mixed_precision: str = "auto"  # auto (bf16/fp16 on GPU only) | off
    jit_compile: str = "auto"  # auto (GPU only: XLA was slower on CPU) | on | off
    strategy: str = "auto"  # auto | default | mirrored | multi_worker
    early_stopping_patience: int = 3
    validation_rouge_samples: int = 64
    select_by: str = "loss"  # the saved model: loss = lowest val_loss; rouge = highest val_rouge1 of that sample
    max_minutes: float = 0.0  # 0 = no limit; validation counts, the last epoch is validated inside it
    # the learning-rate curve: auto = sized by max_minutes when set (it ends at the last step the budget
    # allows, or at the last epoch if that comes first), else by epochs x steps; epochs = by epochs alone
    schedule_by: str = "auto"  # auto | epochs
    # A finished model directory to start from instead of random weights (a model trained on an earlier
    # version of the data): same vocabulary and the same model section, else a one-line error (model/warm_start.py)
    init_from: str = ""

    def __post_init__(self):
        _require(self.batch_size > 0, "train.batch_size", "must be > 0")
        _require(self.epochs > 0, "train.epochs", "must be > 0")
        _require(self.steps_per_epoch >= 0, "train.steps_per_epoch", "must be >= 0 (0 = one pass over the train split)")
        _require(self.learning_rate > 0, "train.learning_rate", "must be > 0")
        _require(self.warmup_steps >= 0, "train.warmup_steps", "must be >= 0")
        _require(self.clip_norm >= 0, "train.clip_norm", "must be >= 0 (0 = no clipping)")
        _require(self.coverage_loss_weight >= 0, "train.coverage_loss_weight", "must be >= 0")
        _require(self.shuffle_buffer >= 1, "train.shuffle_buffer", "must be >= 1")
        _require(all(b > 0 for b in self.bucket_boundaries) and list(self.bucket_boundaries) == sorted(
            set(self.bucket_boundaries)), "train.bucket_boundaries", "must be increasing lengths > 0")
        _require(self.seed >= 0, "train.seed", "must be >= 0")
        _require(self.early_stopping_patience >= 0, "train.early_stopping_patience", "must be >= 0")
        _require(self.validation_rouge_samples >= 0, "train.validation_rouge_samples", "must be >= 0 (0 = none)")
        _require(self.decay in ("cosine", "constant", "rsqrt"), "train.decay", "use cosine, constant or rsqrt")
        _require(self.mixed_precision in ("auto", "off"), "train.mixed_precision", "use auto or off")
        _require(self.jit_compile in ("auto", "on", "off"), "train.jit_compile", "use auto, on or off")
        _require(self.strategy in ("auto", "default", "mirrored", "multi_worker"), "train.strategy",
                 "use auto, default, mirrored or multi_worker")
        _require(0.0 <= self.label_smoothing < 1.0, "train.label_smoothing", "must be in [0, 1)")
        _require(self.select_by in ("loss", "rouge"), "train.select_by", "use loss or rouge")
        _require(self.max_minutes >= 0, "train.max_minutes", "must be >= 0 (0 = no limit)")
        _require(self.schedule_by in ("auto", "epochs"), "train.schedule_by", "use auto or epochs")
        _require(self.select_by != "rouge" or self.validation_rouge_samples > 0, "train.select_by",
                 "rouge needs train.validation_rouge_samples > 0: set it, or use select_by: loss")


@dataclasses.dataclass(frozen=True)
class DecodeConfig:
    """In-graph greedy or beam search."""

    method: str = "beam"  # greedy | beam
    beam_size: int = 4
    min_length: int = 1
    max_length: int = 100
    length_penalty: float = 1.0  # alpha of the GNMT length normalisation ((5 + len) / 6) ** alpha
    coverage_penalty: float = 0.0  # beta of the GNMT coverage penalty
    no_repeat_ngram: int = 3  # subword n-grams; 0 = off
    # A word (SentencePiece pieces from a "▁" piece on; punctuation between words ignored) never follows
    # itself: "matching matching" cannot be written, whatever its pieces (model/word_repeats.py).
    no_repeat_word: bool = True
    # A content word (3+ characters with a letter, not a stop word) that the summary already holds as a word of
    # one piece cannot begin a word again: "the module of the module" cannot be written (model/word_repeats.py).
    no_repeat_content_word: bool = False
    # export applies the settings `sumflow tune-decoding` chose on validation (train.model_dir/decoding.json)
    # over the config files' decode section; explicit --set decode.KEY=... still win. false = ignore them.
    use_tuned: bool = True
    tune: DecodeTuneConfig = dataclasses.field(default_factory=lambda: DecodeTuneConfig())

    def __post_init__(self):
        _require(self.method in ("greedy", "beam"), "decode.method", "use greedy or beam")
        _require(self.beam_size >= 1, "decode.beam_size", "must be >= 1")
        _require(self.max_length >= 1, "decode.max_length", "must be >= 1")
        _require(0 <= self.min_length <= self.max_length, "decode.min_length", "must be in [0, max_length]")
        _require(self.length_penalty >= 0, "decode.length_penalty", "must be >= 0 (0 = none)")
        _require(self.coverage_penalty >= 0, "decode.coverage_penalty", "must be >= 0 (0 = none)")
        _require(self.no_repeat_ngram >= 0, "decode.no_repeat_ngram", "must be >= 0 (0 = off)")


@dataclasses.dataclass(frozen=True)
class DecodeTuneConfig:
    """The grid `sumflow tune-decoding` scores on the validation split (every combination; greedy points
    ignore length_penalty, so each is scored once). An empty list keeps the decode section's value."""

    beam_size: tuple[int, ...] = (1, 4)  # 1 = greedy
    length_penalty: tuple[float, ...] = (0.6, 1.0, 2.0)
    min_length: tuple[int, ...] = ()
    no_repeat_ngram: tuple[int, ...] = (0, 3)
    no_repeat_word: tuple[bool, ...] = ()
    no_repeat_content_word: tuple[bool, ...] = ()
    documents: int = 500  # validation documents scored (the first by id); 0 = the whole split
    metric: str = "rouge1"  # the F1 that picks the best point: rouge1 | rouge2 | rougeLsum
    batch_size: int = 32

    def __post_init__(self):
        for value in self.beam_size:
            _require(value >= 1, "decode.tune.beam_size", "every beam size must be >= 1")
        for value in self.min_length:
            _require(value >= 0, "decode.tune.min_length", "every min length must be >= 0")
        for value in self.no_repeat_ngram:
            _require(value >= 0, "decode.tune.no_repeat_ngram", "every value must be >= 0 (0 = off)")
        _require(self.documents >= 0, "decode.tune.documents", "must be >= 0 (0 = the whole validation split)")
        _require(self.metric in ("rouge1", "rouge2", "rougeLsum"), "decode.tune.metric",
                 "use rouge1, rouge2 or rougeLsum")
        _require(self.batch_size > 0, "decode.tune.batch_size", "must be > 0")


@dataclasses.dataclass(frozen=True)
class SummarizeConfig:
    """The batch summarization job (`sumflow summarize`)."""

    model_dir: str = "runs/default/export"
    inputs: tuple[str, ...] = ()
    format: str = "jsonl"  # jsonl | text_dir | tfrecord
    id_field: str = "id"
    text_field: str = "article"
    output_dir: str = "runs/default/summaries"
    batch_size: int = 32
    long_documents: str = "truncate"  # truncate | chunk | reject
    # An id seen more than once: "drop" summarizes one copy (the first by file path, then text) and
    # dead-letters the others as duplicate_id; "keep" summarizes every copy (one row each).
    duplicate_ids: str = "drop"

    def __post_init__(self):
        _require(self.duplicate_ids in ("drop", "keep"), "summarize.duplicate_ids", "use drop or keep")
        _require(self.format in ("jsonl", "text_dir", "tfrecord"), "summarize.format",
                 "use jsonl, text_dir or tfrecord")
        _require(self.long_documents in ("truncate", "chunk", "reject"), "summarize.long_documents",
                 "use truncate, chunk or reject")
        _require(self.batch_size > 0, "summarize.batch_size", "must be > 0")


@dataclasses.dataclass(frozen=True)
class EvaluateConfig:
    """ROUGE reports (`sumflow evaluate`): inputs are JSONL files joined on `id_field`.

    references: "" = the predictions file. compare: a second system for the paired bootstrap test; a
    `compare_field` alone reads it from the predictions file, a `compare` file alone reads
    `prediction_field` from it. articles (optional): for the lead-k and oracle baselines and novel n-grams.
    tokenizer: unicode (keeps non-Latin letters; ASCII text gets rouge-score's tokens) | default
    (rouge-score's own, which drops every letter outside a-z).
    """

    metrics: tuple[str, ...] = ("rouge1", "rouge2", "rougeL", "rougeLsum")
    use_stemmer: bool = True
    tokenizer: str = "unicode"
    bootstrap_samples: int = 1000
    confidence: float = 0.95
    seed: int = 0
    lead_k: int = 3  # 0 = no lead baseline
    lead_words: int = 0  # also score the first N words of the article (0 = off; AESLC's lead baseline uses 4)
    oracle: bool = False  # greedy extractive oracle (needs articles)
    examples: int = 0  # print and report the first N documents (by id): article, reference, summary
    workers: int = 0  # 0 = one per core
    predictions: str = ""
    prediction_field: str = "summary"
    references: str = ""  # a JSONL file (or glob); with reference_split: a `sumflow preprocess` output dir
    reference_split: str = ""  # read references and articles from this split of the preprocess output
    reference_field: str = "reference"  # a string, or a list of strings (several references)
    id_field: str = "id"
    articles: str = ""
    article_field: str = "article"
    compare: str = ""
    compare_field: str = ""
    # A reference without a prediction (a document summarize dropped): "fail" refuses the report (exit 3),
    # "skip" scores the documents that have predictions and lists the others in the report.
    missing_predictions: str = "fail"
    output_dir: str = "runs/default/evaluation"

    def __post_init__(self):
        _require(bool(self.metrics), "evaluate.metrics", "list at least one metric")
        for metric in self.metrics:
            _require(metric in ("rouge1", "rouge2", "rougeL", "rougeLsum"), "evaluate.metrics",
                     f"unknown metric {metric!r}")
        _require(self.tokenizer in ("unicode", "default"), "evaluate.tokenizer", "use unicode or default")
        _require(0.0 < self.confidence < 1.0, "evaluate.confidence", "must be in (0, 1)")
        _require(self.bootstrap_samples >= 0, "evaluate.bootstrap_samples", "must be >= 0")
        _require(self.seed >= 0, "evaluate.seed", "must be >= 0")
        _require(self.lead_words >= 0, "evaluate.lead_words", "must be >= 0 (0 = off)")
        _require(self.reference_split in ("",) + SPLITS, "evaluate.reference_split",
                 f"use one of {SPLITS} (or leave it empty for a JSONL references file)")
        _require(self.lead_k >= 0, "evaluate.lead_k", "must be >= 0 (0 = no lead baseline)")
        _require(self.workers >= 0, "evaluate.workers", "must be >= 0 (0 = one per core)")
        _require(self.examples >= 0, "evaluate.examples", "must be >= 0")
        _require(self.missing_predictions in ("fail", "skip"), "evaluate.missing_predictions",
                 "use fail or skip")
        _require(bool(self.output_dir), "evaluate.output_dir", "set an output directory")


RUN_DIR_DEFAULT = "runs/default"
RUN_DIR_TEMPLATE = "{run_dir}"
# section, key -> the folder of the run directory it defaults to (configs/load.py applies them)
RUN_PATHS = {("preprocess", "output_dir"): "data", ("train", "data_dir"): "data", ("train", "model_dir"): "model",
             ("summarize", "model_dir"): "export", ("summarize", "output_dir"): "summaries",
             ("evaluate", "output_dir"): "evaluation"}


@dataclasses.dataclass(frozen=True)
class Config:
    # The run's folder (flax's workdir): the paths below default to folders in it (RUN_PATHS), and a path given
    # as "{run_dir}/..." is taken inside it, so one setting (--run-dir, or run_dir: in a config) moves a run.
    run_dir: str = RUN_DIR_DEFAULT
    source: SourceConfig = dataclasses.field(default_factory=SourceConfig)
    clean: CleanConfig = dataclasses.field(default_factory=CleanConfig)
    dedup: DedupConfig = dataclasses.field(default_factory=DedupConfig)
    split: SplitConfig = dataclasses.field(default_factory=SplitConfig)
    tokenizer: TokenizerConfig = dataclasses.field(default_factory=TokenizerConfig)
    preprocess: PreprocessConfig = dataclasses.field(default_factory=PreprocessConfig)
    beam: BeamConfig = dataclasses.field(default_factory=BeamConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    decode: DecodeConfig = dataclasses.field(default_factory=DecodeConfig)
    summarize: SummarizeConfig = dataclasses.field(default_factory=SummarizeConfig)
    evaluate: EvaluateConfig = dataclasses.field(default_factory=EvaluateConfig)


def to_dict(config: Any) -> dict:
    """A plain, YAML/JSON-friendly dict of a config (tuples become lists)."""

    def plain(value):
        if isinstance(value, (tuple, list)):
            return [plain(v) for v in value]
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        return value

    return {k: plain(v) for k, v in dataclasses.asdict(config).items()}
