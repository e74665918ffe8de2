"""Training speed of sumflow's model against a textbook step-by-step reference, measured side by side.

Prints target tokens/s (non-pad targets) and examples/s of one training step (forward, backward, Adam) for
  sumflow    `build_seq2seq` at See et al. sizes (vocab 20k, embedding 128, BiGRU 256 per direction,
             decoder GRU 256, Bahdanau attention 256, pointer-generator, coverage + coverage loss), compiled
             with `MaskedNLL` and run with `model.train_on_batch` as `sumflow train` runs it (the targets
             among the inputs, so only their probabilities are computed): the whole target decoded at
             once, a scan only over the attention (coverage); `--attention luong` for the multiplicative
             scorer;
  reference  the same sizes trained as in the TensorFlow tutorial "Neural machine translation with
             attention": a Decoder called once per target step in a Python loop inside a `tf.function` with
             `tf.GradientTape` (benchmarks/reference_nmt.py says what it leaves out, which favours it, and what
             `--reference textbook|literal` changes);
and the ratio sumflow / reference (target >= 3x on CPU). `--floor` adds
  floor      a part of the reference's own work that every implementation of this model must also do: its
             BiGRU encoder over the source and its output head (projection, 20k-vocabulary logits,
             log-softmax at the targets) run over all target positions at once, forward, backward and Adam;
             none of the decoder's recurrent work (RNN, attention; sumflow's pointer and coverage);
and prints reference / floor, the most any implementation could gain over the reference on this machine.
All get the same fixed synthetic batches and the
same optimizer (Adam with `sumflow train`'s learning rate and clip norm), take turns step by step (A, B, A, B)
after the warm-up steps (the first includes tracing), and are timed to a host copy of the loss.

    python benchmarks/train.py                                   # batch 32, source 400, target 100, vocab 20k
    python benchmarks/train.py --attention luong                 # sumflow with multiplicative attention
    python benchmarks/train.py --floor                           # and the shared-work floor (a ceiling on 3x)
    python benchmarks/train.py --batch 4 --source 40 --target 10 --steps 2      # a smoke run
    KERAS_BACKEND=jax python benchmarks/train.py --only sumflow  # no TensorFlow needed: e.g. a GPU with JAX

With `--backend jax` (or KERAS_BACKEND=jax) only sumflow can run; that path imports keras, numpy and the
model code, never TensorFlow.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import sys
import time
from typing import Callable

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

from configs.schema import ModelConfig, TrainConfig  # noqa: E402  (plain dataclasses: no keras, no TF)
from contract.records import BOS_ID, EOS_ID, PAD_ID  # noqa: E402  (TF only inside functions not used here)

MODELS = ("sumflow", "reference", "floor")
DISTINCT_BATCHES = 4  # cycled; the same sequence for both models


def see_et_al_config(*, source: int, target: int) -> ModelConfig:
    """sumflow's model at See et al. (2017) sizes; the reference reads its sizes from the same config."""
    return ModelConfig(embedding_dim=128, encoder_units=256, decoder_units=256, attention="bahdanau",
                       attention_units=256, pointer_generator=True, coverage=True, max_source_tokens=source,
                       max_target_tokens=target)


def synthetic_batches(*, count: int, batch: int, source: int, target: int, vocab: int, seed: int) -> list[dict]:
    """Random but fixed padded batches: {"article_ids", "summary_in", "summary_out"} int32.

    Articles fill 3/4 to all of `source`; summaries have n words, n from target/2 to target - 1, so
    summary_out = y_1..y_n, EOS, pad and summary_in = BOS, y_1..y_n, pad (n + 1 targets a row).
    """
    rng = np.random.default_rng(seed)
    positions_src, positions_tgt = np.arange(source)[None, :], np.arange(target)[None, :]
    batches = []
    for _ in range(count):
        article_len = rng.integers(max(1, source * 3 // 4), source + 1, (batch, 1))
        article = np.where(positions_src < article_len, rng.integers(4, vocab, (batch, source)), PAD_ID)
        lengths = rng.integers(target // 2, target, (batch, 1))  # n, words in each row's summary
        summary_out = np.where(positions_tgt < lengths, rng.integers(4, vocab, (batch, target)), PAD_ID)
        summary_out = np.where(positions_tgt == lengths, EOS_ID, summary_out)  # (batch, tgt)
        summary_in = np.concatenate([np.full((batch, 1), BOS_ID), summary_out[:, :-1]], axis=1)
        summary_in = np.where(summary_in == EOS_ID, PAD_ID, summary_in)  # (batch, tgt)
        batches.append({"article_ids": article.astype("int32"), "summary_in": summary_in.astype("int32"),
                        "summary_out": summary_out.astype("int32")})
    return batches


def adam():
    """The optimizer of both models: Adam with `sumflow train`'s learning rate and clip norm (no schedule)."""
    import keras

    train = TrainConfig()
    return keras.optimizers.Adam(train.learning_rate, clipnorm=train.clip_norm)


def sumflow_step(config: ModelConfig, *, vocab: int, jit: bool) -> Callable[[dict], float]:
    """One `train_on_batch` of sumflow's model; returns the loss (a host value, so the step has finished)."""
    from model.losses import MaskedNLL
    from model.rnn_seq2seq import build_seq2seq

    model = build_seq2seq(config, vocab, coverage_loss_weight=TrainConfig().coverage_loss_weight)
    model.compile(optimizer=adam(), loss=MaskedNLL(), jit_compile=jit)

    def step(batch: dict) -> float:
        # As `sumflow train` feeds it (no label smoothing): the targets among the inputs, scored alone.
        inputs = {"article_ids": batch["article_ids"], "summary_in": batch["summary_in"],
                  "summary_out": batch["summary_out"]}
        return float(model.train_on_batch(inputs, batch["summary_out"], return_dict=True)["loss"])

    return step


def floor_step(config: ModelConfig, *, vocab: int, jit: bool) -> Callable[[dict], float]:
    """One `train_on_batch` of the shared-work floor (see the module docstring); returns the loss."""
    import keras
    from keras import ops

    from benchmarks.reference_nmt import Encoder
    from model.losses import MaskedNLL, target_log_softmax

    class Floor(keras.Model):
        """The reference's own encoder and output head, the head run over all target positions at once (its
        cheapest form). Encoder outputs (plus the bridged state) stand in for the decoder's states and
        attention contexts: the same shapes, so the head does the same arithmetic as in either model."""

        def __init__(self):
            super().__init__()
            self.encoder = Encoder(vocab_size=vocab, embedding_dim=config.embedding_dim,
                                   enc_units=config.encoder_units, dec_units=config.decoder_units)
            self.projection = keras.layers.Dense(config.embedding_dim, activation="tanh")
            self.logits = keras.layers.Dense(vocab)

        def call(self, inputs, training=None):
            outputs, state = self.encoder(inputs["article_ids"], training=training)  # (b, src, 2u), (b, dec)
            target_len = ops.shape(inputs["summary_out"])[1]
            states = outputs[:, :target_len, :config.decoder_units] + state[:, None, :]  # (b, tgt, dec)
            context = outputs[:, :target_len, :]  # (b, tgt, 2u)
            logits = self.logits(self.projection(ops.concatenate([states, context], axis=-1)))  # (b, tgt, v)
            return target_log_softmax(logits, inputs["summary_out"])  # (b, tgt)

    model = Floor()
    model.compile(optimizer=adam(), loss=MaskedNLL(), jit_compile=jit)

    def step(batch: dict) -> float:
        inputs = {"article_ids": batch["article_ids"], "summary_out": batch["summary_out"]}
        return float(model.train_on_batch(inputs, batch["summary_out"], return_dict=True)["loss"])

    return step


def reference_step(config: ModelConfig, *, vocab: int, variant: str, jit: bool) -> Callable[[dict], float]:
    """One tutorial-style `train_step` of the reference; returns the loss as a host value."""
    import tensorflow as tf

    from benchmarks.reference_nmt import ReferenceTrainer

    trainer = ReferenceTrainer(vocab_size=vocab, embedding_dim=config.embedding_dim,
                               encoder_units=config.encoder_units, decoder_units=config.decoder_units,
                               attention_units=config.attention_units, variant=variant,
                               optimizer=adam(), jit_compile=jit)
    tensors = {}  # batch id -> (inp, targ) as tensors, made once (the tutorial feeds a tf.data.Dataset)

    def step(batch: dict) -> float:
        if id(batch) not in tensors:
            bos = np.full((batch["summary_out"].shape[0], 1), BOS_ID, "int32")
            targ = np.concatenate([bos, batch["summary_out"]], axis=1)  # (batch, tgt + 1)
            tensors[id(batch)] = (tf.constant(batch["article_ids"]), tf.constant(targ))
        return float(trainer.train_step(*tensors[id(batch)]))

    return step


def describe_device(backend: str) -> tuple[str, bool]:
    """(a short device description, whether it is an accelerator)."""
    if backend == "jax":
        import jax

        device = jax.devices()[0]
        return f"{device.platform.upper()} ({device.device_kind})", device.platform != "cpu"
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    return ("GPU" if gpus else "CPU"), bool(gpus)


def measure(steps: dict[str, Callable[[dict], float]], batches: list[dict], *, warmup: int,
            measured: int) -> dict[str, float]:
    """Seconds each model spent on `measured` steps, taking turns step by step after `warmup` steps each."""
    for i in range(warmup):
        for step in steps.values():
            step(batches[i % len(batches)])
    seconds = dict.fromkeys(steps, 0.0)
    for i in range(measured):
        batch = batches[(warmup + i) % len(batches)]
        for name, step in steps.items():
            start = time.perf_counter()
            loss = step(batch)
            seconds[name] += time.perf_counter() - start
            if not np.isfinite(loss):
                raise RuntimeError(f"{name}: the loss became {loss} at measured step {i}.")
    return seconds


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--source", type=int, default=400, help="article length (padded)")
    parser.add_argument("--target", type=int, default=100, help="summary length (padded), positions predicted")
    parser.add_argument("--vocab", type=int, default=20000)
    parser.add_argument("--steps", type=int, default=10, help="measured steps per model")
    parser.add_argument("--warmup", type=int, default=2, help="untimed steps per model (the first traces)")
    parser.add_argument("--only", choices=MODELS, help="run one model (no ratio)")
    parser.add_argument("--floor", action="store_true",
                        help="also time the shared-work floor: encoder + output head only (module docstring)")
    parser.add_argument("--attention", choices=("bahdanau", "luong"), default="bahdanau",
                        help="sumflow's attention (the reference is Bahdanau, as in the tutorial)")
    parser.add_argument("--reference", choices=("textbook", "literal"), default="textbook",
                        help="reference variant (see benchmarks/reference_nmt.py)")
    parser.add_argument("--backend", choices=("tensorflow", "jax"),
                        default=os.environ.get("KERAS_BACKEND", "tensorflow"),
                        help="Keras backend (default: $KERAS_BACKEND, else tensorflow)")
    parser.add_argument("--jit", choices=("auto", "on", "off"), default="auto",
                        help="XLA: auto = on with JAX or a GPU, off on a TensorFlow CPU (XLA was slower there)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.batch < 1 or args.source < 1 or args.target < 1 or args.steps < 1 or args.warmup < 1:
        parser.error("--batch, --source, --target, --steps and --warmup must be >= 1 (warm-up includes tracing)")
    if args.vocab <= 4:
        parser.error("--vocab must exceed the 4 reserved ids")
    if args.only and args.floor:
        parser.error("--floor runs beside sumflow and the reference: leave out --only")
    if args.backend != "tensorflow" and args.only != "sumflow":
        parser.error(f"the reference is TensorFlow code (tf.function + GradientTape): with backend "
                     f"{args.backend} pass --only sumflow")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    backend_from_env = os.environ.get("KERAS_BACKEND")
    os.environ["KERAS_BACKEND"] = args.backend  # before keras is first imported
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    if keras.backend.backend() != args.backend:
        raise RuntimeError(f"keras was imported with backend {keras.backend.backend()} before {args.backend} "
                           "could be set; run the script directly.")
    keras.utils.set_random_seed(args.seed)
    device, accelerator = describe_device(args.backend)
    jit = args.jit == "on" or (args.jit == "auto" and (args.backend == "jax" or accelerator))

    config = dataclasses.replace(see_et_al_config(source=args.source, target=args.target), attention=args.attention)
    names = [args.only] if args.only else [name for name in MODELS if name != "floor" or args.floor]
    steps = {}
    if "sumflow" in names:
        steps["sumflow"] = sumflow_step(config, vocab=args.vocab, jit=jit)
    if "reference" in names:
        steps["reference"] = reference_step(config, vocab=args.vocab, variant=args.reference, jit=jit)
    if "floor" in names:
        steps["floor"] = floor_step(config, vocab=args.vocab, jit=jit)
    batches = synthetic_batches(count=DISTINCT_BATCHES, batch=args.batch, source=args.source,
                                target=args.target, vocab=args.vocab, seed=args.seed)
    seconds = measure(steps, batches, warmup=args.warmup, measured=args.steps)

    measured = [batches[(args.warmup + i) % len(batches)] for i in range(args.steps)]
    tokens = sum(int(np.sum(b["summary_out"] != PAD_ID)) for b in measured)
    examples = args.batch * args.steps
    for name in names:
        label = {"reference": f"reference ({args.reference})", "sumflow": f"sumflow ({args.attention})",
                 "floor": "floor (encoder+head)"}[name]
        print(f"{label:<22} {tokens / seconds[name]:9.0f} tokens/s {examples / seconds[name]:8.2f} examples/s "
              f"({args.steps} steps, {seconds[name] / args.steps:.2f} s/step)")
    if "sumflow" in names and "reference" in names:
        print(f"ratio sumflow/reference: {seconds['reference'] / seconds['sumflow']:.2f}x  (target >= 3x on CPU)")
    if "floor" in names and "reference" in names:
        print(f"ceiling reference/floor: {seconds['reference'] / seconds['floor']:.2f}x  (no implementation of this "
              f"model can do better here: the floor is work the reference does too)")
    env = f"KERAS_BACKEND={backend_from_env} " if backend_from_env else ""
    print(f"command: {env}{shlex.join([os.path.basename(sys.executable), *sys.argv])}")
    print(f"  backend {args.backend} on {device}, jit {'on' if jit else 'off'}, batch {args.batch}, source "
          f"{args.source}, target {args.target}, vocab {args.vocab}, warmup {args.warmup}, steps {args.steps}")


if __name__ == "__main__":
    main()
