"""Training recurrent models: truncated BPTT, teacher forcing and scheduled sampling.

``truncated_bptt`` follows 003 §4.1 (Sutskever 2013): run the RNN forward; every k1 steps,
backpropagate the loss of those k1 steps through the last k2 steps only, then update. With
k1 = k2 = T it is ordinary BPTT over the whole sequence. Gradient clipping by norm (003 §4.6)
happens between backward and the update.

``decode`` runs a decoder step by step, feeding back at each step either the ground truth
(teacher forcing, 003 §4.1) or the model's own prediction, the choice drawn per example with
probability ``teacher_forcing_ratio``; ``scheduled_sampling_ratio`` gives Bengio et al.'s
decaying schedules for that probability (curriculum learning).

References:
    003 §4.1, §4.6; Sutskever, "Training Recurrent Neural Networks", PhD thesis, 2013;
    Bengio, Vinyals, Jaitly & Shazeer, "Scheduled Sampling for Sequence Prediction with
    Recurrent Neural Networks", NeurIPS 2015, arXiv:1506.03099.
"""

from __future__ import annotations

import itertools
import math

import numpy as np

import deepnum
from deepnum.ops.creation import _rng
from deepnum.tensor import Tensor

__all__ = ["decode", "detach_state", "scheduled_sampling_ratio", "truncated_bptt"]


def detach_state(state):
    """The recurrent state (a tensor, or nested tuples/lists of them) cut from the graph."""
    if state is None:
        return None
    if isinstance(state, Tensor):
        return state.detach()
    return type(state)(detach_state(s) for s in state)


def _cuts(T: int, k1: int, k2: int) -> list[tuple[int, int, int]]:
    """(start, loss_start, end) of every update: the loss of steps [loss_start, end) flows back to start."""
    ends = list(range(k1, T, k1)) + [T]
    return [(max(0, end - k2), prev, end) for prev, end in zip([0] + ends[:-1], ends)]


def truncated_bptt(
    model,
    inputs,
    targets,
    loss_fn,
    optimizer=None,
    k1: int | None = None,
    k2: int | None = None,
    state=None,
    clip_grad_norm: float | None = None,
    batch_first: bool = False,
):
    """Truncated backpropagation through time with k1/k2 (003 §4.1 pseudo-code).

    Every k1 steps t: the loss of steps t-k1+1..t is backpropagated through steps t-k2+1..t
    (the state entering step t-k2+1 is treated as a constant), gradients are clipped to
    ``clip_grad_norm`` if given, and ``optimizer`` steps. The forward pass of the k2 - k1 steps
    that two windows share is recomputed with the updated weights, so no graph outlives an update.

    Args:
        model: ``model(x_chunk, state) -> (output_chunk, new_state)`` over a chunk of time steps
            (an ``nn.LSTM``, or a model wrapping one); ``state=None`` means the model's default.
        inputs, targets: tensors with time on dim 0 (dim 1 with ``batch_first``).
        loss_fn: ``loss_fn(output_chunk, target_chunk) -> scalar`` for k1 steps.
        optimizer: stepped after each window (``zero_grad`` first); None only accumulates
            the gradients (useful for checks).
        k1: steps between updates (default: the whole sequence). k2: steps backpropagated
            through (default k1; must be >= k1).
        state: initial recurrent state. clip_grad_norm: max gradient norm (003 §4.6).

    Returns:
        (losses, state): the list of window losses (floats) and the final state, detached.

    Examples:
        >>> lstm = deepnum.nn.LSTM(2, 3)
        >>> x, y = deepnum.randn(12, 4, 2), deepnum.randn(12, 4, 3)
        >>> losses, (h, c) = truncated_bptt(lstm, x, y, lambda o, t: ((o - t) ** 2).mean(), k1=4, k2=6)
        >>> len(losses)
        3
    """
    dim = 1 if batch_first else 0
    T = inputs.shape[dim]
    k1 = k1 or T
    k2 = k2 or k1
    if k1 < 1 or k2 < k1:
        raise ValueError(f"truncated_bptt: need 1 <= k1 <= k2, got k1={k1}, k2={k2}")
    params = [p for group in getattr(optimizer, "param_groups", []) for p in group["params"]]
    if not params and hasattr(model, "parameters"):
        params = list(model.parameters())

    def chunk(x, a, b):
        return x[:, a:b] if batch_first else x[a:b]

    saved = {0: detach_state(state)}  # detached states where a later window starts
    windows = _cuts(T, k1, k2)
    starts = {s for s, _, _ in windows}
    losses = []
    for start, loss_start, end in windows:
        if optimizer is not None:
            optimizer.zero_grad()
        h = saved[start]
        cuts = sorted({start, loss_start, end} | {s for s in starts if start < s < end})
        outputs = []
        for a, b in itertools.pairwise(cuts):
            out, h = model(chunk(inputs, a, b), h)
            if b in starts:
                saved[b] = detach_state(h)
            if a >= loss_start:
                outputs.append(out)
        saved[end] = detach_state(h)
        output = outputs[0] if len(outputs) == 1 else deepnum.cat(outputs, dim)
        loss = loss_fn(output, chunk(targets, loss_start, end))
        loss.backward()
        if clip_grad_norm is not None:
            deepnum.nn.utils.clip_grad_norm_(params, clip_grad_norm)
        if optimizer is not None:
            optimizer.step()
        losses.append(float(loss.item()))
    return losses, saved[T]


def scheduled_sampling_ratio(
    step: int,
    schedule: str = "inverse_sigmoid",
    k: float = 100.0,
    c: float = 0.01,
    minimum: float = 0.0,
) -> float:
    """Teacher-forcing probability eps_i at training step i (Bengio et al. 2015, Sec. 2.4):

    'linear': max(minimum, 1 - c i); 'exponential': k^i (k < 1); 'inverse_sigmoid': k / (k + exp(i / k)).
    """
    if schedule == "linear":
        return max(minimum, 1.0 - c * step)
    if schedule == "exponential":
        if not 0 < k < 1:
            raise ValueError(
                f"scheduled_sampling_ratio: exponential schedule needs 0 < k < 1, got {k}"
            )
        return max(minimum, k**step)
    if schedule == "inverse_sigmoid":
        if k < 1:
            raise ValueError(
                f"scheduled_sampling_ratio: inverse_sigmoid schedule needs k >= 1, got {k}"
            )
        return max(minimum, k / (k + math.exp(min(step / k, 700.0))))
    raise ValueError(
        f"scheduled_sampling_ratio: unknown schedule {schedule!r} "
        "(expected 'linear', 'exponential' or 'inverse_sigmoid')"
    )


def decode(
    step_fn,
    first_input,
    steps: int,
    state=None,
    targets=None,
    teacher_forcing_ratio: float = 1.0,
    sample: bool = False,
    temperature: float = 1.0,
    generator=None,
):
    """Run a decoder for ``steps`` steps, feeding back ground truth or its own predictions.

    At step t the decoder sees the previous token; with probability ``teacher_forcing_ratio``
    (per example) that is the true ``targets[t-1]`` (teacher forcing, 003 §4.1), otherwise the
    model's prediction: argmax of the logits, or a sample at ``temperature`` if ``sample``.
    Ratio 1 is pure teacher forcing, 0 free running (as at test time); in between is scheduled
    sampling (see ``scheduled_sampling_ratio``).

    Args:
        step_fn: ``step_fn(tokens (N,), state) -> (logits (N, V), state)``.
        first_input: (N,) int64 start tokens. targets: (steps, N) int64, needed if ratio > 0.

    Returns:
        (logits (steps, N, V), predicted tokens (steps, N) int64, final state).
    """
    if teacher_forcing_ratio > 0 and targets is None:
        raise ValueError("decode: teacher_forcing_ratio > 0 needs targets")
    rng = _rng(generator)
    tokens, all_logits, predicted = first_input, [], []
    for t in range(steps):
        logits, state = step_fn(tokens, state)
        all_logits.append(logits)
        scores = logits.detach().numpy()
        if sample:
            z = scores / temperature
            p = np.exp(z - z.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            guess = (p.cumsum(1) > rng.random((len(p), 1))).argmax(1)
        else:
            guess = scores.argmax(1)
        predicted.append(guess)
        if t + 1 < steps:
            if teacher_forcing_ratio >= 1:
                nxt = targets[t].numpy()
            elif teacher_forcing_ratio <= 0:
                nxt = guess
            else:
                nxt = np.where(
                    rng.random(len(guess)) < teacher_forcing_ratio, targets[t].numpy(), guess
                )
            tokens = deepnum.tensor(np.asarray(nxt, np.int64))
    return deepnum.stack(all_logits), deepnum.tensor(np.stack(predicted).astype(np.int64)), state
