"""How much a pointer-generator model copies: the mean of its generation probability p_gen over real target
positions (1 = it only generates from the vocabulary, 0 = it only copies from the source).

A copy gate stuck near 1 means the pointer is not used; benchmarks/transformer_recipe.py reports it per
variant. It reads p_gen where the decoder computes it (`PointerGenerator.generation_probability`), during one
eager teacher-forced pass per batch, so it works for every architecture without a second code path.
"""

from __future__ import annotations

from typing import Iterable, Mapping

import numpy as np
from keras import ops

from contract.records import PAD_ID


def mean_generation_probability(model, batches: Iterable[Mapping]) -> float:
    """Mean p_gen of `model` (an EncoderDecoder with a pointer) over the non-pad `summary_in` positions of
    `batches` ({"article_ids", "summary_in"} each); raises ValueError for a model without a pointer."""
    pointer = getattr(model.decoder, "pointer", None)
    if pointer is None:
        raise ValueError("mean_generation_probability: the model has no pointer (model.pointer_generator: false)")
    seen: list = []
    original = pointer.generation_probability

    def recording(**kwargs):
        p_gen = original(**kwargs)  # (batch, tgt, 1)
        seen.append(p_gen)
        return p_gen

    total, count = 0.0, 0
    pointer.generation_probability = recording
    try:
        for batch in batches:
            seen.clear()
            model({"article_ids": batch["article_ids"], "summary_in": batch["summary_in"]}, training=False)
            p_gen = np.asarray(ops.convert_to_numpy(seen[-1]))[..., 0]  # (batch, tgt)
            real = np.asarray(batch["summary_in"]) != PAD_ID
            total += float(p_gen[real].sum())
            count += int(real.sum())
    finally:
        del pointer.generation_probability  # the class's method again
    return total / max(count, 1)
