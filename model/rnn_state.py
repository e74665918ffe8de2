"""The recurrent cell choice and the one-tensor layout of decoder states.

Decoder states travel as ONE tensor (batch, state_size) so that decoding loops and beam search can tile,
gather and carry them without caring about the cell:
  gru   state = h                      state_size = units
  lstm  state = concat([h, c], -1)     state_size = 2 * units
"""

from __future__ import annotations

import keras
from keras import ops

CELLS = ("gru", "lstm")


def check_cell(cell: str, where: str) -> None:
    if cell not in CELLS:
        raise ValueError(f"{where}: cell must be one of {CELLS} (got {cell!r}); set model.cell.")


def rnn_layer(cell: str, units: int, **kwargs) -> keras.layers.Layer:
    """A GRU or LSTM layer that returns the whole sequence and its final state(s)."""
    layer_class = {"gru": keras.layers.GRU, "lstm": keras.layers.LSTM}[cell]
    return layer_class(units, return_sequences=True, return_state=True, **kwargs)


def state_size(cell: str, units: int) -> int:
    return 2 * units if cell == "lstm" else units


def split_state(cell: str, state) -> list:
    """(batch, state_size) -> the list of cell states Keras expects ([h] or [h, c])."""
    if cell == "lstm":
        h, c = ops.split(state, 2, axis=-1)
        return [h, c]
    return [state]


def merge_state(cell: str, states) -> object:
    """The list of cell states ([h] or [h, c]) -> (batch, state_size)."""
    return ops.concatenate(list(states), axis=-1) if cell == "lstm" else states[0]
