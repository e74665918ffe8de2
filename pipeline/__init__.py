"""The Beam jobs (preprocess, summarize) and the transforms they are built from."""
