import os

import apache_beam as beam
import pytest
from apache_beam.testing.util import assert_that, equal_to

from configs.schema import TokenizerConfig
from contract.tokenizer import Tokenizer
from pipeline.vocab import LearnVocabulary, _sample_key, _TrainSentencePiece
from tests.fixtures import local_pipeline, pairs
from workspace.errors import InputError, UsageError

# Vocabulary hashes (Tokenizer.vocab_sha256) of the models learned from `pairs(40)`: the same on every machine,
# since contract/tokenizer.py trains with a fixed thread count, not the machine's cores.
ALL_40 = "174120d5c4f2c14380ba4d37061621d4ee2099fe96d95c41ebf186492e18625d"
SAMPLE_30 = "fcc54ed5becbd12a8f8181f415b0b0d33cc67b8b27e52f070138b8fc3988a652"


def _train_records(n=40):
    return [{**r, "split": "train", "origin": "pairs.jsonl"} for r in pairs(n)]


def test_sample_key_is_the_negated_sha1_prefix_of_the_id():
    # sha1("a") = 86f7e437faa5a7f..., sha1("d") = 3c363836cf4e166...
    assert _sample_key({"id": "a"}) == -0x86f7e437faa5a7f == -607843303088085631
    assert _sample_key({"id": "d", "article": "ignored"}) == -271169818692215142


def test_the_sample_is_the_ids_that_hash_lowest():
    with local_pipeline() as p:
        sample = (p | beam.Create([{"id": i} for i in "abcdef"])
                  | beam.combiners.Top.Of(3, key=_sample_key) | beam.Map(lambda s: [r["id"] for r in s]))
        # sha1 prefixes: d 3c36.., f 4a0a.., e 58e6.., then c 84a5.., a 86f7.., b e9d7..
        assert_that(sample, equal_to([["d", "f", "e"]]))


def test_learn_vocabulary_writes_the_model_and_yields_its_path(tmp_path):
    model_path = str(tmp_path / "vocab" / "spm.model")
    with local_pipeline() as p:
        out = p | beam.Create(_train_records()) | LearnVocabulary(TokenizerConfig(vocab_size=400), model_path)
        assert_that(out, equal_to([model_path]))
    tokenizer = Tokenizer.load(model_path)
    assert tokenizer.vocab_size == 400
    assert tokenizer.vocab_sha256() == ALL_40


def test_learn_vocabulary_learns_from_its_sample_only(tmp_path):
    model_path = str(tmp_path / "spm.model")
    with local_pipeline() as p:
        _ = (p | beam.Create(_train_records())
             | LearnVocabulary(TokenizerConfig(vocab_size=400, sample_documents=30), model_path))
    assert Tokenizer.load(model_path).vocab_sha256() == SAMPLE_30


def test_the_learned_pieces_encode_and_decode(tmp_path):
    import sentencepiece as spm

    (path,) = _TrainSentencePiece(TokenizerConfig(vocab_size=400), str(tmp_path / "spm.model")).process(
        _train_records())
    sp = spm.SentencePieceProcessor(model_file=path)
    assert [sp.id_to_piece(i) for i in range(6)] == ["<pad>", "<unk>", "<s>", "</s>", "<0x00>", "<0x01>"]
    assert [sp.piece_to_id("\u2581" + w) for w in ("river", "harbor", "glacier", "umbrella")] == [267, 300, 312, 306]
    tokenizer = Tokenizer.load(path)
    assert tokenizer.encode(["river harbor glacier"]) == [[267, 300, 312]]
    assert [sp.id_to_piece(i) for i in tokenizer.encode(["River stone market."])[0]] == [
        "\u2581R", "i", "v", "e", "r", "\u2581stone", "\u2581market", "."]
    # characters the corpus never holds fall back to their UTF-8 bytes, newlines included
    assert [sp.id_to_piece(i) for i in tokenizer.encode(["Zebra!\nok"])[0]] == [
        "\u2581", "<0x5A>", "e", "b", "r", "a", "<0x21>", "<0x0A>", "o", "k"]
    for text in ("River stone market.", "Zebra!\nok", "\u03a9mega \u00fcn\u00efcode \u6f22"):
        assert tokenizer.decode(tokenizer.encode([text])[0]) == text


def test_an_empty_train_split_says_what_to_check(tmp_path):
    with pytest.raises(InputError) as raised:
        list(_TrainSentencePiece(TokenizerConfig(), str(tmp_path / "spm.model")).process([]))
    assert str(raised.value) == (
        "the train split holds no records after reading, cleaning and deduplication (an empty input, or every "
        "record dropped: check source.format, the field names and the clean.* limits); there is nothing to learn "
        "a vocabulary from")


def test_a_vocabulary_smaller_than_the_characters_is_a_usage_error(tmp_path):
    # 200 distinct CJK characters + "b": 201 characters + 256 bytes + 4 reserved + "\u2581" = 462 pieces needed
    record = {"id": "a", "article": "".join(chr(0x4E00 + i) for i in range(200)), "summary": "b"}
    with pytest.raises(UsageError) as raised:
        list(_TrainSentencePiece(TokenizerConfig(vocab_size=300), str(tmp_path / "spm.model")).process([record]))
    assert str(raised.value) == (
        "tokenizer.vocab_size=300 does not fit the 1 training documents (SentencePiece: Vocabulary size is "
        "smaller than required_chars. 300 vs 462. Increase vocab_size or decrease character_coverage with "
        "--character_coverage option.); set another tokenizer.vocab_size or give more data")
    assert not os.path.exists(tmp_path / "spm.model")
