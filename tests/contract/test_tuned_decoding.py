"""decoding.json (contract/tuned_decoding.py): export applies the choice only for the model.keras it was made on,
keeps keys given with --set, and decode.use_tuned: false ignores it."""

from configs.schema import DecodeConfig
from contract import tuned_decoding

CHOSEN = {"method": "beam", "beam_size": 6, "length_penalty": 0.6, "min_length": 3, "no_repeat_ngram": 0,
          "no_repeat_word": True, "no_repeat_content_word": True}


def _model_dir(tmp_path):
    (tmp_path / "model.keras").write_bytes(b"weights")
    tuned_decoding.write(str(tmp_path), {"split": "validation", "documents": 50, "metric": "rouge1",
                                         "model_sha256": tuned_decoding.model_sha256(str(tmp_path)),
                                         "chosen": CHOSEN, "points": []})
    return str(tmp_path)


def test_the_choice_goes_over_the_config_except_what_was_set(tmp_path):
    model_dir = _model_dir(tmp_path)
    cfg, line = tuned_decoding.applied(model_dir, DecodeConfig(method="greedy", max_length=20))
    assert tuned_decoding.settings(cfg) == CHOSEN and cfg.max_length == 20
    assert line.startswith("decoding settings chosen on 50 validation documents by rouge1 (")
    cfg, line = tuned_decoding.applied(model_dir, DecodeConfig(min_length=1), explicit=["min_length", "max_length"])
    assert (cfg.min_length, cfg.beam_size) == (1, 6) and line.endswith("; --set kept min_length")


def test_it_is_ignored_for_another_model_without_a_file_or_when_switched_off(tmp_path):
    model_dir = _model_dir(tmp_path)
    cfg = DecodeConfig()
    assert tuned_decoding.applied(model_dir, DecodeConfig(use_tuned=False))[0] == DecodeConfig(use_tuned=False)
    (tmp_path / "model.keras").write_bytes(b"retrained")
    same, line = tuned_decoding.applied(model_dir, cfg)
    assert same == cfg and "was chosen for another model.keras: ignored" in line
    (tmp_path / "decoding.json").unlink()
    assert tuned_decoding.applied(model_dir, cfg)[0] == cfg
