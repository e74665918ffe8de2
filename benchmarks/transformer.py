"""The Transformer beside the RNN, measured side by side in one run.

  train   one training step as `sumflow train` runs it (a TargetScorer over the model, TargetNLL, Adam with
          train.learning_rate and clip norm, `train_on_batch`) of the RNN and of the Transformer that the given
          configs describe, on the same fixed synthetic batches, taking turns step by step after the warm-up:
          parameter counts, target tokens/s (non-pad targets), source tokens/s, examples/s and their ratio;
  decode  summaries/s of the Transformer's in-graph decoding (model/decode.py inside one tf.function) forced
          to exactly `--decode-steps` steps (min_length = max_length), with the key/value cache (each step
          runs one position) and without it (each step re-runs the decoder over the whole prefix), for greedy
          and beam search, and the ratio cached / uncached (goal >= 3x at 100 steps).

    python benchmarks/transformer.py       # configs/aeslc.yaml vs + aeslc_transformer.yaml, at aeslc's lengths
    python benchmarks/transformer.py --rnn -c aeslc --transformer -c aeslc -c aeslc_transformer   (the same)
    python benchmarks/transformer.py --rnn-set model.encoder_units=128 --rnn-set model.decoder_units=256 \
        --rnn-set model.attention_units=128      # an RNN of about the Transformer's parameter count
    python benchmarks/transformer.py --batch 4 --source 20 --target 6 --steps 1 --decode-steps 5   # smoke run
    KERAS_BACKEND=jax python benchmarks/transformer.py --only train   # no TensorFlow: e.g. a GPU with JAX

Decoding without the cache needs TensorFlow (its prefix grows inside the loop).
"""

from __future__ import annotations

import argparse
import os
import shlex
import sys
import time

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from benchmarks.train import DISTINCT_BATCHES, adam, describe_device, measure, synthetic_batches  # noqa: E402
from configs.load import load_config  # noqa: E402
from configs.schema import Config, DecodeConfig  # noqa: E402
from contract.records import PAD_ID  # noqa: E402

DEFAULT_RNN = ["aeslc"]
DEFAULT_TRANSFORMER = ["aeslc", "aeslc_transformer"]


def training_step(config: Config, *, vocab: int, jit: bool):
    """(the model, one `train_on_batch` of it as `sumflow train` runs it, returning the loss as a host value)."""
    from model.build import build_model
    from model.losses import TargetNLL
    from model.target_scorer import TargetScorer

    model = build_model(config.model, vocab, coverage_loss_weight=config.train.coverage_loss_weight)
    scorer = TargetScorer(model)
    scorer.compile(optimizer=adam(), loss=TargetNLL(), jit_compile=jit)

    def step(batch: dict) -> float:
        return float(scorer.train_on_batch(batch, batch["summary_out"], return_dict=True)["loss"])

    return model, step


def decode_rates(model, batch: np.ndarray, *, steps: int, beam_size: int, repeats: int) -> dict[str, float]:
    """Summaries/s of greedy and beam decoding, cached and uncached, forced to `steps` steps; timed in turns."""
    import tensorflow as tf

    from model.decode import decode

    runs = {}
    for method in ("greedy", "beam"):
        cfg = DecodeConfig(method=method, beam_size=beam_size, min_length=steps, max_length=steps,
                           no_repeat_ngram=0)
        for cache in (True, False):
            runs[(method, cache)] = tf.function(lambda ids, cfg=cfg, cache=cache: decode(model, ids, cfg,
                                                                                           cache=cache))
    ids = tf.constant(batch)
    outputs = {key: np.asarray(run(ids)) for key, run in runs.items()}  # trace and warm up
    for method in ("greedy", "beam"):  # the cache changes the arithmetic, not the result
        same = np.mean(outputs[(method, True)] == outputs[(method, False)])
        print(f"  {method}: cached and uncached tokens agree at {same:.1%} of positions")
    seconds = dict.fromkeys(runs, 0.0)
    for _ in range(repeats):
        for key, run in runs.items():
            start = time.perf_counter()
            np.asarray(run(ids))
            seconds[key] += time.perf_counter() - start
    return {key: repeats * len(batch) / s for key, s in seconds.items()}


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rnn", nargs="*", default=DEFAULT_RNN, metavar="CONFIG",
                        help="the RNN's config files (shipped names or paths), layered")
    parser.add_argument("--transformer", nargs="*", default=DEFAULT_TRANSFORMER, metavar="CONFIG",
                        help="the Transformer's config files, layered")
    parser.add_argument("--rnn-set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override for the RNN (repeatable)")
    parser.add_argument("--transformer-set", action="append", default=[], metavar="KEY=VALUE",
                        help="a config override for the Transformer (repeatable)")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--source", type=int, help="article length (padded) [the RNN config's max_source_tokens]")
    parser.add_argument("--target", type=int, help="summary length (padded) [its max_target_tokens]")
    parser.add_argument("--vocab", type=int, default=8000)
    parser.add_argument("--steps", type=int, default=10, help="measured training steps per model")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--decode-steps", type=int, default=100)
    parser.add_argument("--decode-batch", type=int, default=16)
    parser.add_argument("--beam-size", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2, help="timed decoding runs per variant")
    parser.add_argument("--only", choices=("train", "decode"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.rnn = [c for c in args.rnn if c != "-c"]
    args.transformer = [c for c in args.transformer if c != "-c"]
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    keras.utils.set_random_seed(args.seed)
    backend = keras.backend.backend()
    device, accelerator = describe_device(backend)
    jit = backend == "jax" or accelerator
    configs = {"rnn": load_config(args.rnn, args.rnn_set),
               "transformer": load_config(args.transformer, args.transformer_set)}
    args.source = args.source or configs["rnn"].model.max_source_tokens
    args.target = args.target or configs["rnn"].model.max_target_tokens
    for name, config in configs.items():
        want = name if name == "transformer" else "rnn"
        if config.model.architecture != want:
            sys.exit(f"--{name} configs describe a {config.model.architecture} model; give {want} configs")
    models, steps = {}, {}
    for name, config in configs.items():
        models[name], steps[name] = training_step(config, vocab=args.vocab, jit=jit)
    if args.only != "decode":
        batches = synthetic_batches(count=DISTINCT_BATCHES, batch=args.batch, source=args.source,
                                    target=args.target, vocab=args.vocab, seed=args.seed)
        seconds = measure(steps, batches, warmup=args.warmup, measured=args.steps)
        measured = [batches[(args.warmup + i) % len(batches)] for i in range(args.steps)]
        targets = sum(int(np.sum(b["summary_out"] != PAD_ID)) for b in measured)
        sources = sum(int(np.sum(b["article_ids"] != PAD_ID)) for b in measured)
        print("training step (TargetScorer + TargetNLL, Adam), synthetic batches:")
        for name, config in configs.items():
            m = config.model
            sizes = (f"{m.layers}+{m.layers} layers, d {m.embedding_dim}, {m.heads} heads, ff {m.feed_forward_dim}"
                     if name == "transformer" else
                     f"{m.cell} {m.encoder_units}x2 / {m.decoder_units}, {m.attention} attention")
            print(f"  {name:<12} {models[name].count_params():>10,} params ({sizes}): "
                  f"{targets / seconds[name]:7.0f} target tokens/s, {sources / seconds[name]:8.0f} source tokens/s, "
                  f"{args.batch * args.steps / seconds[name]:6.1f} examples/s, {seconds[name] / args.steps:.3f} s/step")
        print(f"  ratio transformer/rnn: {seconds['rnn'] / seconds['transformer']:.2f}x examples/s")
    if args.only != "train":
        rng = np.random.default_rng(args.seed)
        batch = rng.integers(4, args.vocab, (args.decode_batch, args.source)).astype("int32")
        batch[:, args.source * 3 // 4:] = np.where(rng.random((args.decode_batch, args.source - args.source * 3 // 4))
                                                  < 0.5, PAD_ID, batch[:, args.source * 3 // 4:])
        batch = np.where(np.cumsum(batch == PAD_ID, axis=1) > 0, PAD_ID, batch)  # padding only at the end
        print(f"Transformer decoding, {args.decode_batch} documents of <= {args.source} tokens, exactly "
              f"{args.decode_steps} steps:")
        rates = decode_rates(models["transformer"], batch, steps=args.decode_steps, beam_size=args.beam_size,
                             repeats=args.repeats)
        for method in ("greedy", "beam"):
            label = method if method == "greedy" else f"beam {args.beam_size}"
            cached, uncached = rates[(method, True)], rates[(method, False)]
            print(f"  {label:<8} cache {cached:7.2f} summaries/s   no cache {uncached:7.2f} summaries/s   "
                  f"ratio {cached / uncached:.2f}x  (goal >= 3x)")
    print(f"command: {shlex.join([os.path.basename(sys.executable), *sys.argv])}")
    print(f"  backend {backend} on {device}, jit {'on' if jit else 'off'}, batch {args.batch}, source "
          f"{args.source}, target {args.target}, vocab {args.vocab}, {args.steps} steps after {args.warmup} warm-up")


if __name__ == "__main__":
    main()
