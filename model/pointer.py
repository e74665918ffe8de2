"""The pointer-generator mix of generating from the vocabulary and copying from the source (See et al. 2017).

  p_gen = sigmoid(w_h . context_t + w_s . state_t + w_x . input_embedding_t + b)      (batch, tgt, 1)
  P(w)  = p_gen * softmax(vocab_logits)(w) + (1 - p_gen) * sum_{i: source_i = w} a_t,i

No extended vocabulary: sumflow's SentencePiece vocabulary has byte fallback, so every source token already
has an id in the fixed vocabulary and copying is a scatter-add of the attention onto those ids. (See et al.
append per-article OOV slots to the vocabulary; with byte fallback there are no OOVs to give slots to.)

The copies are added with one scatter-add into the (batch, tgt, vocab) generation term: no (batch, src, vocab)
one-hot, no (batch, tgt, src, vocab) tensor, no zero-filled copy distribution to add afterwards (measured 10%
faster than that, and faster than a log-space mix). Everything here is float32 and the mix stays in
probability space; `epsilon` is added only before the final log.
"""

from __future__ import annotations

import keras
from keras import ops

from model.losses import target_log_softmax


def scatter_add_copies(base, attention, source_ids):
    """base + the attention scatter-added onto the source token ids.

    base (batch, tgt, vocab), attention (batch, tgt, src), source_ids (batch, src) int -> (batch, tgt, vocab)
    where out[b, t, w] = base[b, t, w] + sum over i with source_ids[b, i] == w of attention[b, t, i].
    One scatter-add into a copy of `base`: no one-hot, no zero-filled copy distribution to add afterwards.
    """
    batch, target_len, vocab_size = ops.shape(base)
    source_len = ops.shape(attention)[2]
    rows = ops.reshape(ops.arange(batch * target_len, dtype="int32"), (batch, target_len, 1))
    rows = ops.broadcast_to(rows, (batch, target_len, source_len))  # (batch, tgt, src): the row of (b, t)
    cols = ops.broadcast_to(ops.cast(source_ids, "int32")[:, None, :], (batch, target_len, source_len))
    indices = ops.reshape(ops.stack([rows, cols], axis=-1), (-1, 2))  # (batch * tgt * src, 2)
    flat = ops.scatter_update(ops.reshape(base, (batch * target_len, vocab_size)), indices,
                              ops.reshape(ops.cast(attention, base.dtype), (-1,)), reduction="add")
    return ops.reshape(flat, (batch, target_len, vocab_size))  # (batch, tgt, vocab)


def copy_distribution(attention, source_ids, vocab_size: int):
    """The copy distribution alone: attention (batch, tgt, src) scattered onto ids -> (batch, tgt, vocab_size).

    Pad positions (id 0) carry zero attention, so they add nothing to id 0.
    """
    batch, target_len = ops.shape(attention)[0], ops.shape(attention)[1]
    return scatter_add_copies(ops.zeros((batch, target_len, vocab_size), attention.dtype), attention, source_ids)


def output_log_probs(logits, *, pointer, targets=None, attention, context, state, embedded, source_ids):
    """A decoder's final log-probabilities from its vocabulary logits (batch, tgt, vocab), float32: the
    pointer-generator mix when `pointer` is a `PointerGenerator`, log_softmax of the logits when it is None;
    given `targets` (batch, tgt), only log P(targets) (batch, tgt). The other arguments are the pointer's."""
    if pointer is None:
        if targets is not None:
            return target_log_softmax(logits, targets)  # (batch, tgt)
        return ops.log_softmax(ops.cast(logits, "float32"), axis=-1)
    inputs = dict(attention=attention, context=context, state=state, embedded=embedded, source_ids=source_ids)
    if targets is not None:
        return pointer.target_log_probs(logits, targets, **inputs)
    return pointer(logits, **inputs)


@keras.saving.register_keras_serializable(package="sumflow")
class PointerGenerator(keras.layers.Layer):
    """Mixes the vocabulary distribution with the copy distribution; returns final log-probabilities.

    Args:
        epsilon: added to the final probabilities before the log (keeps log finite for ids that are neither
            likely under the vocabulary softmax nor present in the source).

    call(vocab_logits (batch, tgt, vocab), *, attention (batch, tgt, src), context (batch, tgt, mem_dim),
         state (batch, tgt, units), embedded (batch, tgt, emb), source_ids (batch, src))
      -> log(P + epsilon) (batch, tgt, vocab), float32.
    `generation_probability(...)` gives p_gen (batch, tgt, 1) alone.
    """

    def __init__(self, *, epsilon: float = 1e-10, **kwargs):
        # no autocast: under mixed_bfloat16 Keras would round the float32 attention to bfloat16 on the way in,
        # and the copy distribution would no longer sum to one (off by ~1e-3)
        kwargs.setdefault("autocast", False)
        super().__init__(**kwargs)
        if not 0.0 < epsilon < 1e-3:
            raise ValueError(f"PointerGenerator: epsilon must be in (0, 1e-3) (got {epsilon}).")
        self.epsilon = epsilon

    def build(self, context_shape, state_shape, embedded_shape):
        self.context_weight = self.add_weight(shape=(context_shape[-1],), initializer="glorot_uniform",
                                              name="context_weight")
        self.state_weight = self.add_weight(shape=(state_shape[-1],), initializer="glorot_uniform",
                                            name="state_weight")
        self.input_weight = self.add_weight(shape=(embedded_shape[-1],), initializer="glorot_uniform",
                                            name="input_weight")
        self.bias = self.add_weight(shape=(), initializer="zeros", name="bias")

    def generation_probability(self, *, context, state, embedded):
        """p_gen (batch, tgt, 1) float32."""
        gate = (ops.einsum("btm,m->bt", ops.cast(context, "float32"), ops.cast(self.context_weight, "float32"))
                + ops.einsum("btu,u->bt", ops.cast(state, "float32"), ops.cast(self.state_weight, "float32"))
                + ops.einsum("bte,e->bt", ops.cast(embedded, "float32"), ops.cast(self.input_weight, "float32"))
                + ops.cast(self.bias, "float32"))  # (batch, tgt)
        return ops.sigmoid(gate)[:, :, None]

    def call(self, vocab_logits, *, attention, context, state, embedded, source_ids):
        p_gen = self.generation_probability(context=context, state=state, embedded=embedded)  # (b, tgt, 1)
        generated = p_gen * ops.softmax(ops.cast(vocab_logits, "float32"), axis=-1)  # (batch, tgt, vocab)
        copied = (1.0 - p_gen) * ops.cast(attention, "float32")  # (batch, tgt, src)
        probs = scatter_add_copies(generated, copied, source_ids)  # (batch, tgt, vocab)
        return ops.log(probs + self.epsilon)

    def target_log_probs(self, vocab_logits, targets, *, attention, context, state, embedded, source_ids):
        """log(P(y_t) + epsilon) of the given targets only: (batch, tgt), float32; equal to gathering `call`'s
        output at `targets`, without building the (batch, tgt, vocab) mix.

        P(y) = p_gen * exp(logit_y - logsumexp(logits)) + (1 - p_gen) * sum_{i: source_i = y} a_t,i
        The only vocabulary-sized work left is the logsumexp (and its softmax gradient): training's loss needs
        no other column of the distribution.
        """
        p_gen = self.generation_probability(context=context, state=state, embedded=embedded)[:, :, 0]  # (b, t)
        generated = ops.exp(target_log_softmax(vocab_logits, targets))  # (batch, tgt)
        targets = ops.cast(targets, "int32")
        matches = ops.equal(ops.cast(source_ids, "int32")[:, None, :], targets[:, :, None])  # (batch, tgt, src)
        copied = ops.sum(ops.where(matches, ops.cast(attention, "float32"), 0.0), axis=-1)  # (batch, tgt)
        return ops.log(p_gen * generated + (1.0 - p_gen) * copied + self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update({"epsilon": self.epsilon})
        return config
