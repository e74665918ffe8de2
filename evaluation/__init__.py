"""ROUGE scoring, baselines, bootstrap intervals and reports for `sumflow evaluate` (plain Python, no Beam, no
Keras; training's validation ROUGE uses the same scorer)."""
