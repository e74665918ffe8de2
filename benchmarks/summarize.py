"""Decoding speed of sumflow's in-graph greedy and beam search against per-token Python loops, side by side.

Prints summaries/s of one model (random weights at See et al. / CNN/DM sizes, or a trained one) decoding the
same fixed random article batch with
  greedy in-graph        `model.decode.greedy_decode` in a `tf.function` (one while_loop, no Python per token);
  beam-K in-graph        `model.decode.beam_search` in a `tf.function`;
  greedy python loop     eager: one `model.decode_step` call per token from Python, the EOS / n-gram bans and
                         the argmax in numpy, stopping when every row has ended or at max_length;
  beam-K python loop     eager, the beam bookkeeping in numpy: top-k over beam * vocab per document, states,
                         coverage and histories gathered by the chosen beams, GNMT length / coverage penalties;
  ... compiled step      (extra lines) the same two loops with `decode_step` wrapped in a `tf.function`;
and the ratios greedy in-graph / greedy python loop and beam in-graph / beam python loop (target >= 10x).
The Python loops do the same work as model/decode.py (same bans, same scores, same penalties); the report
says how many rows each gives with exactly the tokens of its in-graph counterpart.

The loops run the encoder once per batch through `tf.function(model.encode)`: they measure the per-token
loop, not Keras's eager encoder (bidirectional RNN), which alone took 0.2-0.25 s a batch at --small sizes
here, against 5 ms in a tf.function, and would otherwise dominate the small runs. Two extra lines time the
encoder alone, eager and in a tf.function, so a fully eager decoder costs its loop line plus the difference.

Every variant decodes exactly max_length steps: min_length = max_length bans EOS at every step, so no row
ends early and an untrained model costs what a trained one would at full summary length. Each run includes
the encoder. The variants take turns (A, B, C, D, ...) after the warm-up runs (the first traces), and the
medians over the repetitions are reported; the machine is noisy, so compare the ratios, not the absolutes.

Before decoding (and before TensorFlow is imported, so the ROUGE worker processes fork from a process
without TF threads) it measures documents/s of ROUGE scoring, `sumflow evaluate`'s scorer against a plain
rouge-score loop, by calling the measurement function of benchmarks/evaluate.py where that file exists
and evaluation/rouge.py provides the parallel `score_documents`; otherwise it prints why it skipped it.

    python benchmarks/summarize.py                       # batch 32, max_length 100, beam 4, vocab 20k, source 400
    python benchmarks/summarize.py --small --batch 4 --max-length 10 --repeats 2        # a smoke run
    python benchmarks/summarize.py --model-dir runs/cnndm/model      # a trained model (its model.keras)
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import os
import shlex
import statistics
import sys
import time
from typing import Callable

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from configs.schema import DecodeConfig, ModelConfig  # noqa: E402  (plain dataclasses: no keras, no TF)
from contract.records import BOS_ID, EOS_ID, PAD_ID  # noqa: E402

NEG_INF = -1e9  # the ban of model/decode.py, added to a log-probability
ROUGE_FUNCTIONS = ("measure_scoring", "measure_rouge", "measure_scorers", "compare_scorers", "measure")
ROUGE_DOCUMENT_PARAMETERS = ("documents", "num_documents", "docs", "n_documents", "records")


def cnndm_config(*, source: int) -> ModelConfig:
    """sumflow's model at the sizes of configs/cnndm.yaml (See et al. 2017)."""
    return ModelConfig(embedding_dim=128, encoder_units=256, decoder_units=256, attention="bahdanau",
                       attention_units=256, pointer_generator=True, coverage=True, max_source_tokens=source)


def small_config(*, source: int) -> ModelConfig:
    """The same architecture, tiny: for checking that the script runs."""
    return ModelConfig(embedding_dim=16, encoder_units=16, decoder_units=32, attention="bahdanau",
                       attention_units=16, pointer_generator=True, coverage=True, max_source_tokens=source)


def synthetic_articles(*, batch: int, source: int, vocab: int, seed: int) -> np.ndarray:
    """(batch, source) int32: random ids, each row filling 3/4 to all of `source`, then PAD."""
    rng = np.random.default_rng(seed)
    lengths = rng.integers(max(1, source * 3 // 4), source + 1, (batch, 1))
    ids = rng.integers(4, vocab, (batch, source))
    return np.where(np.arange(source)[None, :] < lengths, ids, PAD_ID).astype("int32")


def describe_model(model) -> str:
    decoder = model.decoder
    return (f"vocab {decoder.vocab_size}, embedding {decoder.embedding.output_dim}, encoder {model.encoder.cell} "
            f"{model.encoder.units}x2, decoder {decoder.cell} {decoder.units}, attention "
            f"{type(decoder.attention).__name__} {getattr(decoder.attention, 'units', '-')}, pointer "
            f"{'on' if decoder.pointer is not None else 'off'}, coverage "
            f"{'on' if decoder.attention.coverage else 'off'}")


# ---------------------------------------------------------------------------------------------------------
# The per-token Python loops (the same decisions as model/decode.py, made in numpy)


def ban_eos(log_probs: np.ndarray, step: int, min_length: int) -> np.ndarray:
    """`model.decode._ban_eos`: EOS gets NEG_INF added before `min_length`."""
    if step >= min_length:
        return log_probs
    log_probs = log_probs.copy()
    log_probs[:, EOS_ID] += NEG_INF
    return log_probs


def ban_repeats(log_probs: np.ndarray, history: np.ndarray, step: int, n: int) -> np.ndarray:
    """`model.decode._ban_repeats`: ban each token that would complete an n-gram already in `history[:, :step]`."""
    if n <= 0 or step < n:  # fewer than n tokens written: no complete n-gram yet
        return log_probs
    windows = np.lib.stride_tricks.sliding_window_view(history[:, :step], n, axis=1)  # (rows, step - n + 1, n)
    last = history[:, step - n + 1:step]  # (rows, n - 1) the tokens an n-gram would continue
    match = np.all(windows[:, :, :n - 1] == last[:, None, :], axis=-1)  # (rows, step - n + 1)
    rows, starts = np.nonzero(match)
    banned = np.zeros(log_probs.shape, bool)  # (rows, vocab)
    banned[rows, windows[rows, starts, n - 1]] = True
    return log_probs + np.float32(NEG_INF) * banned


def python_greedy(article_ids: np.ndarray, cfg: DecodeConfig, *, encode: Callable, step: Callable) -> np.ndarray:
    """(batch, max_length) int32, PAD after EOS: one `step` (model.decode_step) call per token from Python."""
    memory = encode(article_ids)
    batch = article_ids.shape[0]
    tokens = np.full((batch,), BOS_ID, "int32")
    history = np.zeros((batch, cfg.max_length), "int32")
    finished = np.zeros((batch,), bool)
    state, coverage = memory["state"], memory["coverage"]
    for t in range(cfg.max_length):
        if finished.all():
            break
        log_probs, state, _, coverage = step(tokens, state=state, encoder_outputs=memory["encoder_outputs"],
                                             keys=memory["keys"], source_ids=memory["source_ids"],
                                             coverage=coverage)
        log_probs = np.asarray(log_probs, "float32")  # (batch, vocab)
        log_probs = ban_repeats(ban_eos(log_probs, t, cfg.min_length), history, t, cfg.no_repeat_ngram)
        tokens = np.where(finished, PAD_ID, np.argmax(log_probs, axis=-1)).astype("int32")
        history[:, t] = tokens
        finished |= tokens == EOS_ID
    return history


def python_beam(article_ids: np.ndarray, cfg: DecodeConfig, *, encode: Callable, step: Callable) -> np.ndarray:
    """(batch, max_length) int32, the best beam of each row: `beam_search` with the bookkeeping in numpy."""
    k = cfg.beam_size
    batch, src = article_ids.shape
    rows = batch * k  # beams of a document adjacent, as in model/decode.py
    memory = encode(np.repeat(article_ids, k, axis=0))
    scores = np.tile(np.array([0.0] + [NEG_INF] * (k - 1), "float32"), (batch, 1))  # (batch, k) one live beam
    tokens = np.full((rows,), BOS_ID, "int32")
    history = np.zeros((rows, cfg.max_length), "int32")
    finished = np.zeros((rows,), bool)
    lengths = np.zeros((rows,), "float32")
    attention_sum = np.zeros((rows, src), "float32")
    row_offsets = np.repeat(np.arange(batch) * k, k)  # (rows,) first row of each document's beams
    state, coverage = memory["state"], memory["coverage"]
    pad_only = None
    for t in range(cfg.max_length):
        if finished.all():
            break
        log_probs, state, attention, coverage = step(tokens, state=state, encoder_outputs=memory["encoder_outputs"],
                                                     keys=memory["keys"], source_ids=memory["source_ids"],
                                                     coverage=coverage)
        log_probs = np.asarray(log_probs, "float32")  # (rows, vocab)
        log_probs = ban_repeats(ban_eos(log_probs, t, cfg.min_length), history, t, cfg.no_repeat_ngram)
        vocab = log_probs.shape[-1]
        if pad_only is None:
            pad_only = np.where(np.arange(vocab) == PAD_ID, 0.0, NEG_INF).astype("float32")[None, :]
        log_probs = np.where(finished[:, None], pad_only, log_probs)  # a finished beam extends only with PAD
        candidates = (scores.reshape(rows, 1) + log_probs).reshape(batch, k * vocab)
        best = np.argpartition(-candidates, k - 1, axis=1)[:, :k]  # (batch, k) the top k, unordered
        best_scores = np.take_along_axis(candidates, best, axis=1)
        order = np.argsort(-best_scores, axis=1, kind="stable")  # highest first, as top_k
        flat = np.take_along_axis(best, order, axis=1).reshape(rows)
        scores = np.take_along_axis(best_scores, order, axis=1)  # (batch, k)
        source_rows = row_offsets + flat // vocab  # (rows,) which previous beam each new beam extends
        tokens = (flat % vocab).astype("int32")
        state, coverage = np.asarray(state)[source_rows], np.asarray(coverage)[source_rows]
        history = history[source_rows]
        was_finished = finished[source_rows]
        attention_sum = (attention_sum + np.where(finished[:, None], 0.0, np.asarray(attention, "float32")))
        attention_sum = attention_sum[source_rows]
        lengths = lengths[source_rows] + ~was_finished
        history[:, t] = tokens
        finished = was_finished | (tokens == EOS_ID)
    final = scores.reshape(rows) / np.power((5.0 + lengths) / 6.0, cfg.length_penalty)
    if cfg.coverage_penalty:
        source_mask = np.repeat(article_ids, k, axis=0) != PAD_ID  # (rows, src)
        final = final + cfg.coverage_penalty * np.sum(np.log(np.clip(attention_sum, 1e-6, 1.0)) * source_mask, -1)
    chosen = np.argmax(final.reshape(batch, k), axis=-1)  # (batch,)
    return history[np.arange(batch) * k + chosen]


# ---------------------------------------------------------------------------------------------------------
# Variants, timing, ROUGE


GREEDY_GRAPH = "greedy in-graph"
GREEDY_LOOP = "greedy python loop"
GREEDY_LOOP_COMPILED = "greedy python loop, compiled step"
ENCODE_EAGER, ENCODE_GRAPH = "encoder alone, eager", "encoder alone, tf.function"


def beam_names(k: int) -> tuple[str, str, str]:
    return f"beam-{k} in-graph", f"beam-{k} python loop", f"beam-{k} python loop, compiled step"


def variants(model, *, greedy: DecodeConfig, beam: DecodeConfig, compiled_step: bool) -> dict[str, Callable]:
    """name -> run(article_ids) -> numpy (a host copy, so the work is done): decoders give (batch, max_length)
    token ids; the two encoder lines give the encoder's state."""
    import tensorflow as tf

    from model.decode import beam_search, greedy_decode

    greedy_graph = tf.function(lambda ids: greedy_decode(model, ids, greedy), reduce_retracing=True)
    beam_graph = tf.function(lambda ids: beam_search(model, ids, beam), reduce_retracing=True)
    encode = tf.function(model.encode, reduce_retracing=True)  # the loops' encoder (see the module docstring)
    beam_graph_name, beam_loop_name, beam_loop_compiled_name = beam_names(beam.beam_size)
    runs = {
        GREEDY_GRAPH: lambda ids: np.asarray(greedy_graph(tf.constant(ids))),
        beam_graph_name: lambda ids: np.asarray(beam_graph(tf.constant(ids))),
        GREEDY_LOOP: lambda ids: python_greedy(ids, greedy, encode=encode, step=model.decode_step),
        beam_loop_name: lambda ids: python_beam(ids, beam, encode=encode, step=model.decode_step),
    }
    if compiled_step:
        step = tf.function(model.decode_step, reduce_retracing=True)
        runs[GREEDY_LOOP_COMPILED] = lambda ids: python_greedy(ids, greedy, encode=encode, step=step)
        runs[beam_loop_compiled_name] = lambda ids: python_beam(ids, beam, encode=encode, step=step)
    runs[ENCODE_EAGER] = lambda ids: np.asarray(model.encode(ids)["state"])
    runs[ENCODE_GRAPH] = lambda ids: np.asarray(encode(ids)["state"])
    return runs


def measure(runs: dict[str, Callable], articles: np.ndarray, *, warmup: int,
            repeats: int) -> tuple[dict[str, list[float]], dict[str, np.ndarray]]:
    """(seconds of every timed run, the output of the last run) per variant, taking turns run by run."""
    outputs = {}
    for _ in range(warmup):  # the first traces the tf.functions
        for name, run in runs.items():
            outputs[name] = run(articles)
    seconds = {name: [] for name in runs}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            outputs[name] = run(articles)
            seconds[name].append(time.perf_counter() - start)
    return seconds, outputs


def rouge_lines(*, documents: int | None, seed: int) -> list[str]:
    """The ROUGE part of the report, measured by benchmarks/evaluate.py, or why it was skipped.

    documents: None leaves the document count to the measurement function's default.
    """
    skip = "rouge scoring: skipped:"
    if not os.path.exists(os.path.join(REPO, "benchmarks", "evaluate.py")):
        return [f"{skip} benchmarks/evaluate.py does not exist (yet); it is to hold the measurement of "
                "`sumflow evaluate`'s scorer vs a plain rouge-score loop."]
    try:
        rouge = importlib.import_module("evaluation.rouge")
        module = importlib.import_module("benchmarks.evaluate")
    except Exception as error:  # another engineer's work in progress: report it, keep the decoding numbers
        return [f"{skip} importing evaluation/rouge.py or benchmarks/evaluate.py failed: "
                f"{type(error).__name__}: {error}"]
    if not callable(getattr(rouge, "score_documents", None)):
        return [f"{skip} evaluation/rouge.py has no parallel `score_documents`."]
    function = next((getattr(module, name) for name in ROUGE_FUNCTIONS if callable(getattr(module, name, None))),
                    None)
    if function is None:
        public = sorted(n for n, v in vars(module).items() if inspect.isfunction(v) and not n.startswith("_"))
        return [f"{skip} benchmarks/evaluate.py has none of {', '.join(ROUGE_FUNCTIONS)} "
                f"(its functions: {', '.join(public) or 'none'})."]
    kwargs, missing = {}, []
    for name, parameter in inspect.signature(function).parameters.items():
        if name in ROUGE_DOCUMENT_PARAMETERS and documents is not None:
            kwargs[name] = documents
        elif name == "seed":
            kwargs[name] = seed
        elif parameter.default is inspect.Parameter.empty and parameter.kind not in (
                inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD):
            missing.append(name)
    if missing:
        return [f"{skip} benchmarks/evaluate.py:{function.__name__} needs arguments this script cannot give: "
                f"{', '.join(missing)}."]
    try:
        result = function(**kwargs)
    except Exception as error:  # as above: report it, keep the decoding numbers
        return [f"{skip} benchmarks/evaluate.py:{function.__name__} failed: {type(error).__name__}: {error}"]
    call = ", ".join(f"{key}={value}" for key, value in kwargs.items())
    head = f"rouge scoring (benchmarks/evaluate.py:{function.__name__}({call}))"
    if isinstance(result, dict):
        return [head] + [f"  {key}: {value:.2f}" if isinstance(value, float) else f"  {key}: {value}"
                         for key, value in result.items()]
    return [f"{head}: {result}"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    defaults = DecodeConfig()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model-dir", help="a `sumflow train` output holding model.keras (default: random weights)")
    parser.add_argument("--small", action="store_true", help="a tiny model (vocab 1000, 16-32 units, source 50)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--max-length", type=int, default=defaults.max_length,
                        help="decoded tokens per summary (every variant decodes all of them: min_length = max_length)")
    parser.add_argument("--beam", type=int, default=defaults.beam_size, help="beam size")
    parser.add_argument("--source", type=int, help="article length (padded); default 400, 50 with --small")
    parser.add_argument("--vocab", type=int, help="vocabulary of a random model; default 20000, 1000 with --small")
    parser.add_argument("--no-repeat-ngram", type=int, default=defaults.no_repeat_ngram, help="0 = off")
    parser.add_argument("--length-penalty", type=float, default=defaults.length_penalty)
    parser.add_argument("--coverage-penalty", type=float, default=defaults.coverage_penalty)
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per variant")
    parser.add_argument("--warmup", type=int, default=1, help="untimed runs per variant (the first traces)")
    parser.add_argument("--compiled-step", action=argparse.BooleanOptionalAction, default=True,
                        help="also time the Python loops with decode_step in a tf.function (extra lines)")
    parser.add_argument("--rouge", action=argparse.BooleanOptionalAction, default=True,
                        help="also measure ROUGE scoring through benchmarks/evaluate.py where it exists")
    parser.add_argument("--rouge-documents", type=int,
                        help="documents for the ROUGE measurement, if its function takes a count (default: that "
                             "function's own; 200 with --small)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.source = args.source or (50 if args.small else 400)
    args.vocab = args.vocab or (1000 if args.small else 20000)
    if args.rouge_documents is None and args.small:
        args.rouge_documents = 200
    if min(args.batch, args.max_length, args.beam, args.source, args.repeats, args.warmup) < 1:
        parser.error("--batch, --max-length, --beam, --source, --repeats and --warmup must be >= 1 "
                     "(the warm-up run traces the tf.functions)")
    if args.vocab <= 4:
        parser.error("--vocab must exceed the 4 reserved ids")
    if args.model_dir and not os.path.exists(os.path.join(args.model_dir, "model.keras")):
        parser.error(f"--model-dir {args.model_dir} has no model.keras; pass the model_dir of a `sumflow train` run")
    return args


def load_model(args: argparse.Namespace):
    import keras

    import model.rnn_seq2seq  # noqa: F401  (registers the layers for loading)
    from model.rnn_seq2seq import build_seq2seq

    if args.model_dir:
        return keras.saving.load_model(os.path.join(args.model_dir, "model.keras"), compile=False)
    config = (small_config if args.small else cnndm_config)(source=args.source)
    return build_seq2seq(config, args.vocab)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    rouge = rouge_lines(documents=args.rouge_documents, seed=args.seed) if args.rouge else [
        "rouge scoring: skipped (--no-rouge)"]

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(args.seed)
    model = load_model(args)
    vocab = model.decoder.vocab_size
    articles = synthetic_articles(batch=args.batch, source=args.source, vocab=vocab, seed=args.seed)
    common = dict(min_length=args.max_length, max_length=args.max_length, no_repeat_ngram=args.no_repeat_ngram,
                  length_penalty=args.length_penalty, coverage_penalty=args.coverage_penalty)
    greedy = DecodeConfig(method="greedy", beam_size=1, **common)
    beam = DecodeConfig(method="beam", beam_size=args.beam, **common)
    runs = variants(model, greedy=greedy, beam=beam, compiled_step=args.compiled_step)
    seconds, outputs = measure(runs, articles, warmup=args.warmup, repeats=args.repeats)
    print_report(args, seconds=seconds, outputs=outputs, rouge=rouge, model=model)


def print_report(args: argparse.Namespace, *, seconds: dict[str, list[float]], outputs: dict[str, np.ndarray],
                 rouge: list[str], model) -> None:
    import keras
    import tensorflow as tf

    median = {name: statistics.median(times) for name, times in seconds.items()}
    beam_graph, beam_loop, beam_loop_compiled = beam_names(args.beam)
    print(f"decoding: batch {args.batch}, {args.max_length} steps each (min_length = max_length: EOS banned, no "
          f"early stop), source {args.source}, no_repeat_ngram {args.no_repeat_ngram}, length_penalty "
          f"{args.length_penalty}, coverage_penalty {args.coverage_penalty}")
    for name in seconds:
        spread = f"(range {min(seconds[name]):.3f}-{max(seconds[name]):.3f})"
        if name in (ENCODE_EAGER, ENCODE_GRAPH):
            print(f"  {name:<36} {'':>22} median {median[name]:.3f} s/batch {spread}")
            continue
        reference = GREEDY_GRAPH if name.startswith("greedy") else beam_graph
        same = int(np.sum(np.all(outputs[name] == outputs[reference], axis=1)))
        agreement = "" if name == reference else f"   rows identical to {reference}: {same}/{args.batch}"
        print(f"  {name:<36} {args.batch / median[name]:9.2f} summaries/s   median {median[name]:.3f} s/batch "
              f"{spread}{agreement}")
    ratios = [(GREEDY_GRAPH, GREEDY_LOOP), (beam_graph, beam_loop)]
    if args.compiled_step:
        ratios += [(GREEDY_GRAPH, GREEDY_LOOP_COMPILED), (beam_graph, beam_loop_compiled)]
    for fast, slow in ratios:
        target = "" if "compiled" in slow else "   (target >= 10x)"
        print(f"ratio {fast} / {slow}: {median[slow] / median[fast]:.2f}x{target}")
    eager_extra = median[ENCODE_EAGER] - median[ENCODE_GRAPH]
    print(f"  (a fully eager greedy loop, its encoder eager too: {median[GREEDY_LOOP] + eager_extra:.3f} s/batch, "
          f"ratio {(median[GREEDY_LOOP] + eager_extra) / median[GREEDY_GRAPH]:.2f}x; the loops above encode in a "
          "tf.function)")
    for line in rouge:
        print(line)
    print(f"command: {shlex.join([os.path.basename(sys.executable), *sys.argv])}")
    source = args.model_dir or ("random weights, --small" if args.small else "random weights, CNN/DM sizes")
    print(f"  model ({source}): {describe_model(model)}")
    print(f"  TensorFlow {tf.__version__}, Keras {keras.__version__}, "
          f"{'GPU' if tf.config.list_physical_devices('GPU') else 'CPU'}, warmup {args.warmup}, "
          f"repeats {args.repeats} (medians; variants take turns)")


if __name__ == "__main__":
    main()
