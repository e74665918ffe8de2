import re

from contract import model_dir as layout


def test_the_names_of_a_model_directory():
    assert (layout.MODEL_FILE, layout.BEST_WEIGHTS, layout.BACKUP_DIR, layout.HISTORY, layout.LOGS_DIR,
            layout.VOCAB, layout.TRAIN_INFO, layout.CONFIG, layout.COMPLETE) == (
        "model.keras", "best.weights.h5", "backup", "history.csv", "logs", "vocab.model", "train.json",
        "config.yaml", "_COMPLETE")


def test_files_lists_everything_training_writes_with_folders_marked():
    assert layout.FILES == ("model.keras", "best.weights.h5", "backup/", "history.csv", "logs/", "vocab.model",
                            "train.json", "config.yaml", "decoding.json", "_COMPLETE")
    assert [name for name in layout.FILES if name.endswith("/")] == ["backup/", "logs/"]
    assert len(set(layout.FILES)) == len(layout.FILES)


def test_a_finished_run_holds_files_training_writes_and_the_completion_marker_last():
    assert layout.FINISHED == ("model.keras", "vocab.model", "train.json", "_COMPLETE")
    assert set(layout.FINISHED) <= set(layout.FILES)
    assert layout.FILES[-1] == layout.COMPLETE  # written last, so its presence means the rest is there


def test_the_module_docstring_lists_exactly_the_files():
    listed = re.findall(r"^  (\S+)\s{2,}", layout.__doc__, flags=re.MULTILINE)
    assert listed == ["model.keras", "best.weights.h5", "backup/", "history.csv", "logs/", "vocab.model",
                      "train.json", "config.yaml", "decoding.json", "_COMPLETE"]
    assert tuple(listed) == layout.FILES
