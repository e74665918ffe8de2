import pytest

from contract.records import BOS_ID, EOS_ID, PAD_ID, UNK_ID
from contract.tokenizer import Tokenizer, tf_tokenizer
from tests.fixtures import pairs, vocabulary


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    return vocabulary(tmp_path_factory.mktemp("spm"), pairs(60))


TEXTS = ["River stone market engine.", "Caf\u00e9 \u00fcber \u4e16\u754c zeppelin!", "line one\nline two", ""]


def test_reserved_ids_and_round_trip(model_path):
    tok = Tokenizer.load(model_path)
    assert (tok._sp.pad_id(), tok._sp.unk_id(), tok._sp.bos_id(), tok._sp.eos_id()) == (
        PAD_ID, UNK_ID, BOS_ID, EOS_ID)
    ids = tok.encode(TEXTS)
    assert UNK_ID not in sum(ids, [])  # byte fallback: unseen characters still have ids
    assert tok.decode(ids[1]) == TEXTS[1]
    assert tok.decode(ids[2]) == "line one\nline two"  # sentence breaks survive (byte fallback), for ROUGE-Lsum


def test_python_and_tensorflow_graph_tokenizers_agree(model_path):
    """Training data is tokenized in Python; exported models tokenize in the TF graph: ids must match."""
    import tensorflow as tf

    tok = Tokenizer.load(model_path)
    graph = tf_tokenizer(tok.model_proto)
    texts = TEXTS + [r["article"] for r in pairs(20, seed=5)]
    graph_ids = graph.tokenize(tf.constant(texts)).to_list()
    assert graph_ids == tok.encode(texts)
    detok = [t.decode("utf-8") for t in graph.detokenize(tf.ragged.constant(tok.encode(texts))).numpy()]
    assert detok == [tok.decode(ids) for ids in tok.encode(texts)]


def test_vocab_hash_ignores_training_path_and_survives_pickle(model_path, tmp_path):
    import pickle

    tok = Tokenizer.load(model_path)
    assert pickle.loads(pickle.dumps(tok)).vocab_sha256() == tok.vocab_sha256()
    other = vocabulary(tmp_path, pairs(60), name="elsewhere")
    assert Tokenizer.load(other).vocab_sha256() == tok.vocab_sha256()  # same data + seed -> same vocab


def test_chinese_round_trips_without_spaces_in_python_and_in_the_graph(tmp_path):
    import tensorflow as tf

    from tests.fixtures import zh_pairs

    tok = Tokenizer.load(vocabulary(tmp_path, zh_pairs(80), name="zh"))
    texts = ["河流石头市场。\n冬天花园！", "未见过的字：鲸鱼。", "混合 text 与中文。"]
    ids = tok.encode(texts)
    assert UNK_ID not in sum(ids, [])
    assert [tok.decode(row) for row in ids] == texts  # no space is inserted between Han characters
    graph = tf_tokenizer(tok.model_proto)
    assert graph.tokenize(tf.constant(texts)).to_list() == ids
    assert [t.decode("utf-8") for t in graph.detokenize(tf.ragged.constant(ids)).numpy()] == texts
