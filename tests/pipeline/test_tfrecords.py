import glob
import os

import apache_beam as beam
import tensorflow as tf

from pipeline.tfrecords import WriteSplits
from tests.fixtures import local_pipeline


def test_write_splits_writes_every_record_of_every_batch_as_one_tfrecord(tmp_path):
    batches = {"train": [[b"a", b"bb"], [], [b"ccc"]], "validation": [[b"v"]], "test": []}
    with local_pipeline() as p:
        by_split = {split: p | f"Create{split}" >> beam.Create(elements, reshuffle=False)
                    for split, elements in batches.items()}
        by_split | WriteSplits(str(tmp_path / "data"))
    for split, elements in batches.items():
        files = sorted(glob.glob(os.path.join(tmp_path, "data", f"{split}-*.tfrecord")))
        read = [r.numpy() for f in files for r in tf.data.TFRecordDataset(f)]  # TensorFlow's own reader
        assert sorted(read) == sorted(r for batch in elements for r in batch), split
