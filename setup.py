"""sumflow: preprocess, train and batch-summarize text with Beam and Keras.

This file is also what Beam's ``--setup_file ./setup.py`` ships to remote workers (Dataflow, Flink,
Spark): it must stay self-contained (no imports from the project) so a worker can build it.
"""

import setuptools

# Ranges a user's environment may satisfy; requirements.txt pins the tested set that CI installs.
INSTALL_REQUIRES = [
    "tensorflow>=2.21,<2.22",
    "tensorflow-text>=2.21,<2.22",
    "keras>=3.15,<4",
    "tensorboard>=2.21,<2.22",
    "apache-beam>=2.77,<2.78",  # pipeline/runner.py uses Beam internals: tests/pipeline/test_runner.py
    "google-crc32c>=1.5",
    "tensorflow-datasets>=4.9.10,<5",
    "rouge-score==0.1.2",
    "click>=8.1,<9",
    "sentencepiece>=0.2,<0.3",
    "pyyaml>=6",
    "regex>=2023",
    "datasketch>=1.6,<3",
    "numpy>=1.26",
    "nltk>=3.8",  # the Porter stemmer of rouge-score, imported directly (evaluation/rouge.py)
    "protobuf>=4.25",  # tf.train.Example without TensorFlow (contract/example_proto.py)
]

# Optional: `pip install "sumflow[dask]"` runs the Beam jobs on a Dask cluster (`-- --runner dask`,
# pipeline/dask_runner.py; the versions Beam 2.77's own `dask` extra asks for); `sumflow[gcp]` brings what
# DataflowRunner and gs:// paths need (Beam's gcp extra: google-cloud-storage, apitools, google-auth, ...).
EXTRAS_REQUIRE = {
    "test": ["pytest>=8"],
    "dask": ["dask>=2024.4.2", "distributed>=2024.4.2"],
    "gcp": ["apache-beam[gcp]>=2.77,<2.78"],
}

# The repository's top-level folders, installed under their own names (README "Layout": why no namespace).
PACKAGES = ["workspace", "configs", "contract", "pipeline", "model", "evaluation", "jobs"]

setuptools.setup(
    name="sumflow",
    version="0.1.0",
    description="Text-summarization pipeline: Beam preprocessing, Keras seq2seq training, batch summaries, ROUGE.",
    python_requires=">=3.10",
    packages=setuptools.find_packages(include=[name + suffix for name in PACKAGES for suffix in ("", ".*")]),
    package_data={"configs": ["*.yaml"]},
    include_package_data=True,
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS_REQUIRE,
    entry_points={"console_scripts": ["sumflow=jobs.cli:main"]},
)
