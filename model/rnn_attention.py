"""Attention over the encoder memory for ALL target positions at once (Luong-style: after the decoder RNN).

Two scorers share one interface:

  layer.precompute_keys(memory)                                -> keys (batch, src, key_dim)
  layer(query, memory, keys=..., source_mask=..., coverage=...) -> (context (batch, tgt, mem_dim),
                                                                     weights (batch, tgt, src))
  layer.attend_with_coverage(query, memory, keys=..., source_mask=...)
                                                      -> (context, weights, coverage (batch, tgt, src))

  query        (batch, tgt, query_dim)  decoder states; tgt may be 1 for a single decoding step
  memory       (batch, src, mem_dim)    encoder outputs
  keys         the memory projected once per article (`precompute_keys`); computed here when omitted,
               but a decoder should pass it so neither training nor stepwise decoding recomputes it
  source_mask  (batch, src) bool, True on real tokens; pad positions get exactly zero weight
  coverage     (batch, tgt, src), the sum of the attention of earlier steps (See et al. 2017); required
               when the layer was made with coverage=True, refused otherwise

`layer(...)` with coverage takes the coverage as given (a decoding step); `attend_with_coverage` computes it
for a whole teacher-forced target, where it is recurrent: only the scores run in a loop over positions.
`BahdanauAttention.call` builds a (batch, tgt, src, units) tensor: the only 4-D tensor of the model (its
coverage path builds one (batch, src, units) slice per step instead). `LuongAttention` ("general": q^T W k)
needs only (batch, tgt, src). Weights are computed in float32.
"""

from __future__ import annotations

import keras
from keras import ops

_MASKED_SCORE = -1e9  # exp(-1e9 - max) is exactly 0 in float32: pad positions get zero weight


def _check_coverage(layer_name: str, coverage_on: bool, coverage) -> None:
    if coverage_on and coverage is None:
        raise ValueError(f"{layer_name} was made with coverage=True: pass coverage (batch, tgt, src), "
                         "zeros for the first step.")
    if not coverage_on and coverage is not None:
        raise ValueError(f"{layer_name} was made with coverage=False but got a coverage tensor: make the "
                         "layer with coverage=True (model.coverage in the config) or pass coverage=None.")


def _like(variable, tensor):
    """The variable in the tensor's dtype. Keras autocasts variables only inside `__call__`; precompute_keys and
    attend_with_coverage are plain methods, where a float32 variable would promote bf16 work to float32."""
    return ops.cast(variable, tensor.dtype)


def _masked_softmax(scores, source_mask):
    """Softmax over the last (source) axis in float32; pad positions get exactly zero weight.

    scores (batch, [tgt,] src), source_mask (batch, src) bool or None.
    """
    scores = ops.cast(scores, "float32")
    if source_mask is not None:
        mask = ops.cast(source_mask, "bool")
        if len(scores.shape) == 3:
            mask = mask[:, None, :]  # (batch, 1, src)
        scores = ops.where(mask, scores, ops.full_like(scores, _MASKED_SCORE))
    return ops.softmax(scores, axis=-1)


def _context(weights, memory):
    """(batch, tgt, src) weights, (batch, src, mem_dim) memory -> (batch, tgt, mem_dim) in the memory's dtype."""
    return ops.einsum("bts,bsm->btm", ops.cast(weights, memory.dtype), memory)


class _Attention(keras.layers.Layer):
    """What both scorers share: the whole-target call and the coverage-recurrent path.

    A scorer implements precompute_keys(memory), _scores(query, keys, coverage) for (batch, tgt, ...) inputs,
    and for the recurrent path _step_inputs(query, keys) (tgt-major, computed once for all positions) and
    _step_scores(step_input, keys, coverage) for one position (batch, ...) -> (batch, src).
    """

    def call(self, query, memory, *, keys=None, source_mask=None, coverage=None):
        _check_coverage(self.name, self.coverage, coverage)
        if keys is None:
            keys = self.precompute_keys(memory)
        weights = _masked_softmax(self._scores(query, keys, coverage), source_mask)  # (batch, tgt, src)
        return _context(weights, memory), weights

    def attend_with_coverage(self, query, memory, *, keys, source_mask):
        """Attention for all target positions where coverage feeds the scores (coverage=True layers).

        cov_t = sum_{t' < t} a_t' is recurrent, so the scores run in a `keras.ops.scan` over target positions;
        everything that does not depend on coverage (query projections, Luong's dot products, the context)
        is computed outside the loop, batched over all positions.
        Returns context (batch, tgt, mem_dim), weights (batch, tgt, src) and coverage (batch, tgt, src).
        """
        if not self.coverage:
            raise ValueError(f"{self.name}: attend_with_coverage needs a layer made with coverage=True.")
        step_inputs = self._step_inputs(query, keys)  # (tgt, batch, ...)

        def attend_one(coverage, step_input):  # coverage (batch, src): the attention of earlier steps
            weights = _masked_softmax(self._step_scores(step_input, keys, coverage), source_mask)  # (batch, src)
            return coverage + weights, weights  # TensorFlow's scan needs both parts to share shape and dtype

        initial = ops.zeros_like(ops.cast(keys[:, :, 0], "float32"))  # (batch, src)
        _, weights = ops.scan(attend_one, initial, step_inputs)  # (tgt, batch, src)
        weights = ops.transpose(weights, (1, 0, 2))  # (batch, tgt, src)
        coverage = ops.cumsum(weights, axis=1) - weights  # (batch, tgt, src), what each step saw
        return _context(weights, memory), weights, coverage


@keras.saving.register_keras_serializable(package="sumflow")
class BahdanauAttention(_Attention):
    """Additive attention: score(q_t, k_i) = v^T tanh(W_q q_t + W_k k_i + b + w_c c_t,i).

    Args:
        units: size of the additive space (model.attention_units).
        coverage: add the coverage term w_c * c_t,i inside the tanh (See et al. 2017).
    """

    def __init__(self, *, units: int, coverage: bool, **kwargs):
        super().__init__(**kwargs)
        if units <= 0:
            raise ValueError(f"BahdanauAttention: units must be > 0 (got {units}); set model.attention_units.")
        self.units = units
        self.coverage = coverage

    def build(self, query_shape, memory_shape):
        query_dim, memory_dim = query_shape[-1], memory_shape[-1]
        self.query_kernel = self.add_weight(shape=(query_dim, self.units), initializer="glorot_uniform",
                                            name="query_kernel")
        self.key_kernel = self.add_weight(shape=(memory_dim, self.units), initializer="glorot_uniform",
                                          name="key_kernel")
        self.key_bias = self.add_weight(shape=(self.units,), initializer="zeros", name="key_bias")
        self.score_vector = self.add_weight(shape=(self.units,), initializer="glorot_uniform",
                                            name="score_vector")
        if self.coverage:
            self.coverage_vector = self.add_weight(shape=(self.units,), initializer="glorot_uniform",
                                                   name="coverage_vector")

    def precompute_keys(self, memory):
        """W_k memory + b, once per article: (batch, src, mem_dim) -> (batch, src, units)."""
        return ops.einsum("bsm,mu->bsu", memory, _like(self.key_kernel, memory)) + _like(self.key_bias, memory)

    def _scores(self, query, keys, coverage):
        projected = ops.einsum("btq,qu->btu", query, _like(self.query_kernel, query))  # (batch, tgt, units)
        features = projected[:, :, None, :] + keys[:, None, :, :]  # (batch, tgt, src, units)
        if coverage is not None:
            coverage = ops.cast(coverage, features.dtype)[:, :, :, None]  # (batch, tgt, src, 1)
            features = features + coverage * _like(self.coverage_vector, features)
        scores = ops.einsum("btsu,u->bts", ops.tanh(features), _like(self.score_vector, features))
        return scores  # (batch, tgt, src)

    def _step_inputs(self, query, keys):
        projected = ops.einsum("btq,qu->btu", query, _like(self.query_kernel, query))  # (batch, tgt, units)
        return ops.transpose(projected, (1, 0, 2))  # (tgt, batch, units)

    def _step_scores(self, projected, keys, coverage):
        coverage = ops.cast(coverage, keys.dtype)[:, :, None]  # (batch, src, 1)
        features = projected[:, None, :] + keys + coverage * _like(self.coverage_vector, keys)  # (b, src, units)
        return ops.einsum("bsu,u->bs", ops.tanh(features), _like(self.score_vector, features))  # (batch, src)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "coverage": self.coverage})
        return config


@keras.saving.register_keras_serializable(package="sumflow")
class LuongAttention(_Attention):
    """Multiplicative ("general") attention: score(q_t, k_i) = q_t^T W k_i + w_c c_t,i.

    The memory is projected to the query size once (`precompute_keys`), so scoring is one batched matmul.
    model.attention_units is not used by this scorer.

    Args:
        coverage: add the coverage term w_c * c_t,i (a learned scalar w_c) to the scores.
    """

    def __init__(self, *, coverage: bool, **kwargs):
        super().__init__(**kwargs)
        self.coverage = coverage

    def build(self, query_shape, memory_shape):
        query_dim, memory_dim = query_shape[-1], memory_shape[-1]
        self.kernel = self.add_weight(shape=(memory_dim, query_dim), initializer="glorot_uniform", name="kernel")
        if self.coverage:
            self.coverage_weight = self.add_weight(shape=(), initializer="zeros", name="coverage_weight")

    def precompute_keys(self, memory):
        """W memory, once per article: (batch, src, mem_dim) -> (batch, src, query_dim)."""
        return ops.einsum("bsm,mq->bsq", memory, _like(self.kernel, memory))

    def _scores(self, query, keys, coverage):
        scores = ops.einsum("btq,bsq->bts", query, keys)  # (batch, tgt, src)
        if coverage is not None:
            scores = scores + _like(self.coverage_weight, scores) * ops.cast(coverage, scores.dtype)
        return scores

    def _step_inputs(self, query, keys):
        return ops.transpose(ops.einsum("btq,bsq->bts", query, keys), (1, 0, 2))  # (tgt, batch, src)

    def _step_scores(self, dot_scores, keys, coverage):
        coverage = ops.cast(coverage, dot_scores.dtype)  # (batch, src)
        return dot_scores + _like(self.coverage_weight, dot_scores) * coverage

    def get_config(self):
        config = super().get_config()
        config.update({"coverage": self.coverage})
        return config
