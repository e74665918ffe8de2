"""Small corpora the tests write themselves (no third-party text)."""

from __future__ import annotations

import json
import random

WORDS = ("river stone market engine harbor winter garden signal copper lantern valley meadow rocket "
         "pencil thunder orbit silver forest bridge candle desert island mirror planet ribbon saddle "
         "tunnel violin window yellow anchor basket cactus dragon ember falcon glacier hammer igloo jungle "
         "kettle lemon magnet nectar oyster parrot quartz raven spiral tiger umbrella vessel walnut").split()


def sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


def pair(rng: random.Random, index: int) -> dict:
    article = " ".join(sentence(rng, rng.randint(8, 14)) for _ in range(rng.randint(4, 8)))
    summary = " ".join(sentence(rng, rng.randint(4, 7)) for _ in range(2))
    return {"id": f"doc-{index:04d}", "article": article, "summary": summary}


def pairs(n: int, seed: int = 0) -> list[dict]:
    rng = random.Random(seed)
    return [pair(rng, i) for i in range(n)]


# Chinese words of two characters, written for these tests (no corpus text): sentences without spaces.
ZH_WORDS = ("河流 石头 市场 引擎 港口 冬天 花园 信号 铜器 灯笼 山谷 草地 火箭 铅笔 雷声 轨道 银色 森林 桥梁 蜡烛 "
            "沙漠 岛屿 镜子 星球 丝带 马鞍 隧道 提琴 窗户 黄色 铁锚 篮子 仙人 飞龙 余火 猎鹰 冰川 锤子 丛林 水壶 "
            "柠檬 磁铁 花蜜 牡蛎 鹦鹉 石英 乌鸦 螺旋 老虎 雨伞 船只 核桃").split()


def zh_sentence(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(ZH_WORDS) for _ in range(n)) + rng.choice("。。。！？")


def zh_pairs(n: int, seed: int = 0) -> list[dict]:
    """Chinese article/summary pairs: articles of 4-8 sentences (50-230 characters), summaries of 2 sentences."""
    rng = random.Random(seed)
    return [{"id": f"zh-{i:04d}",
             "article": "".join(zh_sentence(rng, rng.randint(6, 14)) for _ in range(rng.randint(4, 8))),
             "summary": "".join(zh_sentence(rng, rng.randint(3, 6)) for _ in range(2))} for i in range(n)]


def write_jsonl(path, records, extra_lines=(), *, ensure_ascii: bool = True) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=ensure_ascii) + "\n")
        for line in extra_lines:
            f.write(line + "\n")


def vocabulary(tmp, records, *, name: str = "spm", vocab_size: int = 400) -> str:
    """A SentencePiece model learned from the articles and summaries of `records`; returns its path."""
    from contract.tokenizer import train_sentencepiece

    sentences = tmp / f"{name}.txt"
    sentences.write_text("\n".join(r["article"] + "\n" + r["summary"] for r in records), encoding="utf-8")
    return train_sentencepiece(sentences_path=str(sentences), model_prefix=str(tmp / name), vocab_size=vocab_size)


def local_pipeline():
    """An in-process Beam pipeline on the FnApiRunner (DirectRunner would try to download Prism)."""
    import apache_beam as beam
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    return beam.Pipeline(runner=FnApiRunner())


def preprocessed(tmp, n: int = 120, seed: int = 0) -> str:
    """A small preprocess output (train/validation/test) built by the real job; returns its directory."""
    from configs.load import load_config
    from pipeline import preprocess

    write_jsonl(tmp / "pairs.jsonl", pairs(n, seed=seed))
    config = load_config([], ["source.format=jsonl", f"source.paths=[{tmp / 'pairs.jsonl'}]",
                              f"preprocess.output_dir={tmp / 'out'}", "tokenizer.vocab_size=400",
                              "clean.min_article_words=5", "dedup.near=false",
                              "split.train=0.8", "split.validation=0.1", "split.test=0.1"])
    return preprocess.run(config, make_pipeline=local_pipeline, log=lambda m: None).output_dir


TINY_MODEL = ["model.embedding_dim=16", "model.encoder_units=16", "model.decoder_units=32",
              "model.attention_units=16", "model.max_source_tokens=40", "model.max_target_tokens=10",
              "train.batch_size=8", "train.warmup_steps=5", "train.learning_rate=0.01"]
# Over TINY_MODEL: the Transformer at the same model size (one block each side, two heads).
TINY_TRANSFORMER = ["model.architecture=transformer", "model.heads=2", "model.feed_forward_dim=32",
                    "model.layers=1"]


def exported(tmp, *overrides: str) -> str:
    """Preprocess a small corpus, train a tiny model for a few steps and export it; returns the export dir."""
    from configs.load import load_config
    from model import trainer
    from model.export import export

    data_dir = preprocessed(tmp, n=100)
    config = load_config([], TINY_MODEL + [f"train.data_dir={data_dir}", f"train.model_dir={tmp / 'model'}",
                                           "train.epochs=1", "train.steps_per_epoch=4",
                                           "decode.max_length=8", *overrides])
    trainer.train(config, verbose=0, log=lambda m: None)
    export(model_dir=str(tmp / "model"), export_dir=str(tmp / "export"), decode_cfg=config.decode,
           max_source_tokens=config.model.max_source_tokens)
    return str(tmp / "export")
