import numpy as np
import pytest

from configs.load import load_config
from model.input import load_manifest, make_dataset
from contract.manifest import ManifestError
from contract.records import BOS_ID, EOS_ID
from tests.fixtures import preprocessed


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return preprocessed(tmp_path_factory.mktemp("data"))


def test_batches_follow_the_model_contract(data_dir):
    config = load_config([], ["model.max_source_tokens=30", "model.max_target_tokens=8", "train.batch_size=4",
                              "train.bucket_boundaries=[10, 20]"])
    manifest = load_manifest(data_dir)
    batches = list(make_dataset(data_dir, manifest, "validation", train=config.train, model=config.model,
                                training=False))
    total = 0
    for inputs, summary_out in batches:
        article, summary_in = inputs["article_ids"].numpy(), inputs["summary_in"].numpy()
        assert article.shape[1] <= 30 and summary_in.shape == summary_out.shape and summary_in.shape[1] <= 8
        assert (summary_in[:, 0] == BOS_ID).all()
        out = summary_out.numpy()
        lengths = (out != 0).sum(axis=1)
        # summary_out is summary_in shifted left, ending in EOS
        for row_in, row_out, n in zip(summary_in, out, lengths):
            assert row_out[n - 1] == EOS_ID and (row_in[1:n] == row_out[:n - 1]).all()
        total += len(article)
    assert total == manifest.splits["validation"].num_records


def test_training_batches_are_reproducible_with_a_seed(data_dir):
    config = load_config([], ["train.batch_size=4", "train.deterministic=true", "model.max_source_tokens=50"])
    manifest = load_manifest(data_dir)

    def first_batches():
        ds = make_dataset(data_dir, manifest, "train", train=config.train, model=config.model, training=True)
        return [x["article_ids"].numpy() for x, _ in ds.take(3)]

    a, b = first_batches(), first_batches()
    assert all(np.array_equal(x, y) for x, y in zip(a, b))


def test_refuses_data_with_another_vocabulary(data_dir):
    with pytest.raises(ManifestError, match="not the one this model was trained with"):
        load_manifest(data_dir, expected_vocab_sha256="0" * 64)


def _articles(dataset) -> list[tuple]:
    return [tuple(row[row != 0]) for inputs, _ in dataset for row in inputs["article_ids"].numpy()]


def test_the_shares_of_input_pipelines_partition_a_split(data_dir, tmp_path, monkeypatch):
    """One file (the tiny split): every other record each; as many files as pipelines: a file each."""
    import shutil

    import model.input as model_input

    config = load_config([], ["train.batch_size=4", "model.max_source_tokens=50"])
    manifest = load_manifest(data_dir)

    def share(count, index):
        return _articles(make_dataset(data_dir, manifest, "validation", train=config.train, model=config.model,
                                      training=False, shard=(count, index)))

    everything = share(1, 0)
    first, second = share(2, 0), share(2, 1)
    assert len(everything) == manifest.splits["validation"].num_records
    assert sorted(first + second) == sorted(everything) and abs(len(first) - len(second)) <= 1

    files = model_input.split_paths(data_dir, manifest, "validation")
    assert len(files) == 1
    copy = str(tmp_path / "validation-copy.tfrecord")
    shutil.copy(files[0], copy)
    monkeypatch.setattr(model_input, "split_paths", lambda *args: [files[0], copy])
    assert sorted(share(2, 0)) == sorted(share(2, 1)) == sorted(everything)  # each pipeline read one whole file
