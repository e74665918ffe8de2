"""The low-resource Transformer recipe on AESLC, one change at a time: each row trains the shipped Transformer
(`-c aeslc -c aeslc_transformer`) with one change on the same preprocessed data and the same training budget,
and reports what the validation split says of it. Nothing here reads the test split.

    python benchmarks/transformer_recipe.py [--out runs/recipe] [--epochs 24 --steps-per-epoch 0]
                                            [--minutes 28] [--rows baseline label_smoothing ...] [--set K=V]

Per row: the validation greedy ROUGE-1 of the kept epoch (train.select_by: rouge, on
train.validation_rouge_samples dev emails: rouge-score F1 x 100 with the Porter stemmer), the lowest validation
loss, the epochs and training steps run, the minutes, and the mean copy gate p_gen on 8 validation batches
(1.0 = the pointer is never used; model/copy_gate.py). `--epochs/--steps-per-epoch` fix the work per row so that
rows compare on a shared machine; `--minutes` (train.max_minutes) fixes the time instead. The `vocab_4000`
row preprocesses the data a second time with a 4,000-piece vocabulary (once, cached in --out).
Needs ../shared/data/aeslc.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # before TensorFlow loads (mean_p_gen, in this process)
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BASE = ["-c", "aeslc", "-c", "aeslc_transformer"]
ROWS = {  # name: (what changes, overrides)
    "baseline": ("configs/aeslc_transformer.yaml as shipped", []),
    "label_smoothing": ("train.label_smoothing 0.1", ["train.label_smoothing=0.1"]),
    "embedding_init": ("N(0, d^-0.5) embedding init", ["model.embedding_init=normal"]),
    "dropouts_apart": ("attention and activation dropout 0.1 (residual 0.3)",
                       ["model.attention_dropout=0.1", "model.activation_dropout=0.1"]),
    "rsqrt_schedule": ("inverse-square-root decay instead of cosine (same warmup)", ["train.decay=rsqrt"]),
    "vocab_4000": ("4,000 subwords instead of 8,000", ["tokenizer.vocab_size=4000"]),
    "one_wide_layer": ("1 layer of 256 (8 heads, 1,024 inner) instead of 2 of 128",
                       ["model.layers=1", "model.embedding_dim=256", "model.heads=8", "model.feed_forward_dim=1024"]),
    "word_dropout": ("word dropout 0.1 on the decoder inputs", ["model.word_dropout=0.1"]),
}


def sumflow(*args: str) -> float:
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    start = time.time()
    result = subprocess.run([os.path.join(os.path.dirname(sys.executable), "sumflow"), *args], cwd=REPO, env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"sumflow {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return time.time() - start


def data_dir(out: str, overrides: list[str], budget: list[str]) -> str:
    vocab = [o for o in overrides if o.startswith("tokenizer.")]
    path = f"{out}/data-{'-'.join(v.split('=')[1] for v in vocab)}" if vocab else f"{out}/data"
    if not os.path.exists(os.path.join(REPO, path, "_SUCCESS")):
        seconds = sumflow("preprocess", *BASE, "-o", path, *sum((["--set", o] for o in vocab + budget), []))
        print(f"preprocess -> {path}: {seconds:.0f} s", flush=True)
    return path


def mean_p_gen(model_dir: str, data: str) -> float:
    import keras

    import model.build  # noqa: F401  (registers the layers)
    from configs.load import load_config
    from model.copy_gate import mean_generation_probability
    from model.input import load_manifest, make_dataset

    config = load_config([os.path.join(REPO, model_dir, "config.yaml")], [], {})
    manifest = load_manifest(os.path.join(REPO, data))
    batches = make_dataset(os.path.join(REPO, data), manifest, "validation", train=config.train, model=config.model,
                           training=False, targets_in_inputs=False).take(8)
    model = keras.saving.load_model(os.path.join(REPO, model_dir, "model.keras"), compile=False)
    return mean_generation_probability(model, [inputs for inputs, _ in batches])


def run_row(name: str, out: str, budget: list[str], extra: list[str]) -> dict:
    change, overrides = ROWS[name]
    data = data_dir(out, overrides + extra, extra)
    model_dir = f"{out}/{name}/model"
    sets = [f"train.data_dir={data}", f"train.model_dir={model_dir}", *budget, *overrides, *extra]
    # No --force: a row whose run already completed with this config is not trained again (its minutes are
    # then the no-op's); delete --out to measure afresh.
    seconds = sumflow("train", *BASE, *sum((["--set", o] for o in sets), []))
    with open(os.path.join(REPO, model_dir, "history.csv")) as f:
        history = list(csv.DictReader(f))
    kept = max(history, key=lambda h: float(h.get("val_rouge1") or 0))
    row = {"name": name, "change": change, "val_rouge1": float(kept["val_rouge1"]),
           "val_loss": min(float(h["val_loss"]) for h in history), "epochs": len(history),
           "kept": int(kept["epoch"]) + 1, "minutes": seconds / 60,
           "p_gen": mean_p_gen(model_dir, data)}
    print(f"{name}: val R-1 {row['val_rouge1']:.2f} (epoch {row['kept']}/{row['epochs']}), val loss "
          f"{row['val_loss']:.3f}, p_gen {row['p_gen']:.3f}, {row['minutes']:.1f} min", flush=True)
    return row


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="runs/recipe")
    parser.add_argument("--rows", nargs="+", choices=list(ROWS), default=list(ROWS))
    parser.add_argument("--epochs", type=int, default=0, help="train.epochs per row (0: the config's)")
    parser.add_argument("--steps-per-epoch", type=int, default=0, help="train.steps_per_epoch (0: one pass)")
    parser.add_argument("--minutes", type=float, default=None, help="train.max_minutes per row (default: the "
                                                                    "config's; 0 = no limit)")
    parser.add_argument("--set", dest="extra", action="append", default=[], help="KEY=VALUE for every row")
    args = parser.parse_args()
    if not os.path.isdir(os.path.join(REPO, "..", "shared", "data", "aeslc")):
        sys.exit("../shared/data/aeslc is absent")
    budget = [f"train.steps_per_epoch={args.steps_per_epoch}"]
    budget += [f"train.epochs={args.epochs}"] if args.epochs else []
    budget += [f"train.max_minutes={args.minutes}"] if args.minutes is not None else []
    rows = []
    for name in args.rows:
        try:
            rows.append(run_row(name, args.out, budget, args.extra))
        except RuntimeError as e:  # one failed row is reported; the others still run
            print(f"{name}: {e}", flush=True)
    print(f"\nAESLC validation, Transformer, one change per row ({' '.join(budget + args.extra)}); "
          f"R-1 = greedy ROUGE-1 F1 of the kept epoch:")
    print("| row | change | val R-1 | val loss | epochs (kept) | minutes | mean p_gen |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['name']} | {r['change']} | {r['val_rouge1']:.2f} | {r['val_loss']:.3f} | {r['epochs']} "
              f"({r['kept']}) | {r['minutes']:.1f} | {r['p_gen']:.3f} |")


if __name__ == "__main__":
    main()
