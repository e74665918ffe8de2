"""The data contract between the jobs: record schema and Example proto, TFRecord framing, tokenizer, manifest,
text normalisation, sentences, splits, and the model directory and exported-model formats.

Beam-free and Keras-free (tests/test_imports.py): preprocessing writes it, training and summarization read it.
"""
