"""One-tensor decoder states: split and merge are inverses, sizes per cell, unknown cells refused."""

import numpy as np
import pytest

from model.rnn_state import check_cell, merge_state, rnn_layer, split_state, state_size


def test_state_sizes():
    assert state_size("gru", 12) == 12
    assert state_size("lstm", 12) == 24


def test_lstm_state_splits_into_h_and_c_and_merges_back():
    state = np.arange(2 * 6, dtype="float32").reshape(2, 6)
    h, c = split_state("lstm", state)
    np.testing.assert_array_equal(np.asarray(h), [[0, 1, 2], [6, 7, 8]])
    np.testing.assert_array_equal(np.asarray(c), [[3, 4, 5], [9, 10, 11]])
    np.testing.assert_array_equal(np.asarray(merge_state("lstm", [h, c])), state)


def test_gru_state_is_the_tensor_itself():
    state = np.ones((2, 3), dtype="float32")
    [h] = split_state("gru", state)
    assert h is state
    assert merge_state("gru", [h]) is state


@pytest.mark.parametrize("cell,n_states", [("gru", 1), ("lstm", 2)])
def test_rnn_layer_returns_sequence_and_states(cell, n_states):
    outputs = rnn_layer(cell, 5)(np.zeros((2, 4, 3), dtype="float32"))
    assert tuple(outputs[0].shape) == (2, 4, 5)
    assert [tuple(s.shape) for s in outputs[1:]] == [(2, 5)] * n_states


def test_unknown_cell_is_refused_with_the_setting_to_change():
    with pytest.raises(ValueError, match=r"encoder: cell must be one of \('gru', 'lstm'\) \(got 'rnn'\); set model.cell."):
        check_cell("rnn", "encoder")
