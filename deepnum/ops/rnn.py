"""Recurrent layers, fused: the whole sequence forward and the whole BPTT backward in NumPy.

Why fused: an LSTM over T steps built from primitives records ~20 graph nodes per step, and
the per-node overhead (not the arithmetic) dominates for the small matrices of a recurrent
step. Here each layer-direction is one loop over time in NumPy, with

* the input projection of all time steps done as one GEMM before the loop (the LSTM does it
  inside its per-step product, see below),
* the gate activations saved during the forward loop (003 §4.4: IFOG),
* one backward loop (BPTT, 004 Ex. 6.23 remarks) that only does what must be sequential
  (the recurrent product ``dgates_t @ W_hh``), the weight gradients being one GEMM each
  over all time steps after the loop;
* the LSTM in column layout (``lstm_forward``): its per-step products take the shape
  ``W [h_t; x_t; 1]`` with contiguous operands, which OpenBLAS runs markedly faster for a
  small batch (a 32 x 256 x 1024 product: 46 us instead of 74 us on two threads), one
  product doing the recurrent product, the input projection and the bias, and no step
  transposes anything. docs/performance.md has the profile against PyTorch.

``RNNStack`` chains the layers and directions of ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` in one
graph node. Its backward is plain NumPy: second derivatives through it are not supported and
raise; the cells (``nn.RNNCell`` etc., built from primitive ops) stay twice differentiable
and serve as the reference in the tests.

Variable-length batches are handled with a (T, N, 1) mask of valid steps: a padded step
leaves the state unchanged and outputs zeros, as PyTorch's packed sequences do.

References:
    000 eq. 24-34 (Elman RNN, bidirectional RNN, LSTM); 003 §4.1 (BPTT), §4.4 (IFOG), §4.5 (GRU).
    Hochreiter & Schmidhuber, "Long Short-Term Memory", 1997.
    Cho et al., "Learning Phrase Representations using RNN Encoder-Decoder", 2014, arXiv:1406.1078.
"""

from __future__ import annotations

import numpy as np

from deepnum._blas_threads import small_product
from deepnum.autograd.function import Function


def _step_threads(n, k, m):
    """The whole sequence kernel on one BLAS thread when its per-step (n, k) x (k, m) product is
    small (``deepnum._blas_threads``). Whole kernel, not just the
    loop: one-thread loop products mixed with two-thread big products would leave the second
    thread spinning against the loop."""
    return small_product(2.0 * n * k * m)


def _sigmoid_(x: np.ndarray) -> np.ndarray:
    """In place, overflow-free: sigma(x) = (1 + tanh(x / 2)) / 2."""
    x *= 0.5
    np.tanh(x, out=x)
    x += 1.0
    x *= 0.5
    return x


def _steps(T: int, reverse: bool):
    return range(T - 1, -1, -1) if reverse else range(T)


def _project_inputs(x, w_ih, b):
    """x_t W_ih^T + b for every t at once: one (T*N, I) x (I, G) GEMM."""
    T, N, I = x.shape
    xw = x.reshape(T * N, I) @ w_ih.T
    if b is not None:
        xw += b
    return xw.reshape(T, N, -1)


def _weight_grads(dgates, x, hprev, dgates_h=None):
    """Gradients of W_ih, W_hh and the biases, each one GEMM over all time steps."""
    T, N, G = dgates.shape
    flat = dgates.reshape(T * N, G)
    flat_h = flat if dgates_h is None else dgates_h.reshape(T * N, G)
    dw_ih = flat.T @ x.reshape(T * N, -1)
    dw_hh = flat_h.T @ hprev.reshape(T * N, -1)
    return dw_ih, dw_hh, flat.sum(0), flat_h.sum(0)


def _state_buffer(T, N, P, dtype, h0, reverse, mask):
    """(T+1, N, P) states with h0 at the start of the direction, and where the output goes."""
    hs = np.empty((T + 1, N, P), dtype)
    hs[T if reverse else 0] = h0
    out = np.empty((T, N, P), dtype) if mask is not None else (hs[:-1] if reverse else hs[1:])
    return hs, out


def _masked_step(hs, out, mask, t, before, after):
    """Padded steps output zeros and leave the state unchanged."""
    np.multiply(hs[after], mask[t], out=out[t])
    np.copyto(hs[after], hs[before], where=mask[t] == 0)


# ------------------------------------------------------------------------ Elman RNN
def rnn_forward(x, h0, w_ih, w_hh, b_ih, b_hh, mask, reverse, relu):
    """h_t = act(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) over a whole sequence (000 eq. 24)."""
    T, N, _ = x.shape
    b = None if b_ih is None else b_ih + b_hh
    acts = _project_inputs(x, w_ih, b)
    hs, out = _state_buffer(T, N, w_hh.shape[0], x.dtype, h0, reverse, mask)
    w_hhT = np.ascontiguousarray(w_hh.T)
    for t in _steps(T, reverse):
        before, after = (t + 1, t) if reverse else (t, t + 1)
        a = acts[t]
        a += hs[before] @ w_hhT
        hs[after] = np.maximum(a, 0, out=a) if relu else np.tanh(a, out=a)
        if mask is not None:
            _masked_step(hs, out, mask, t, before, after)
    return out, hs[0] if reverse else hs[T], (x, w_ih, w_hh, acts, hs, mask, reverse, relu)


def rnn_backward(dout, dh, cache, need_dx=True):
    x, w_ih, w_hh, acts, hs, mask, reverse, relu = cache
    T, N, H = acts.shape
    dpre = np.empty_like(acts)
    dh = dh.copy()
    for t in _steps(T, not reverse):
        dh += dout[t]
        if mask is not None:
            dh_keep = dh * (1 - mask[t])
            dh *= mask[t]
        d = dpre[t]
        if relu:
            np.multiply(dh, acts[t] > 0, out=d)  # d relu(a)/da = [a > 0]
        else:
            np.multiply(acts[t], acts[t], out=d)
            np.subtract(1, d, out=d)
            d *= dh  # d tanh(a)/da = 1 - tanh(a)^2
        np.matmul(d, w_hh, out=dh)
        if mask is not None:
            dh += dh_keep
    dw_ih, dw_hh, db, _ = _weight_grads(dpre, x, hs[1:] if reverse else hs[:-1])
    dx = (dpre.reshape(T * N, H) @ w_ih).reshape(T, N, -1) if need_dx else None
    return dx, dh, dw_ih, dw_hh, db, db


# ------------------------------------------------------------------------ LSTM
def _gate_blocks(H: int):
    """(internal rows, PyTorch rows) of each gate block: the kernel orders the gates
    (i, f, o, g), PyTorch (i, f, g, o), so that the three sigmoid gates are contiguous."""
    return ((slice(0, 2 * H), slice(0, 2 * H)), (slice(2 * H, 3 * H), slice(3 * H, 4 * H)),
            (slice(3 * H, 4 * H), slice(2 * H, 3 * H)))


def _to_internal(columns: list, sigmoid_scale=None) -> np.ndarray:
    """The matrices ``columns`` (gates along their rows) side by side, rows in the kernel's
    order and the sigmoid gates' rows times ``sigmoid_scale``: one pass of block copies."""
    H = columns[0].shape[0] // 4
    out = np.empty((4 * H, sum(c.shape[1] for c in columns)), columns[0].dtype)
    for k, (mine, theirs) in enumerate(_gate_blocks(H)):
        start = 0
        for c in columns:
            dst = out[mine, start : start + c.shape[1]]
            start += c.shape[1]
            if sigmoid_scale is not None and k < 2:
                np.multiply(c[theirs], sigmoid_scale, out=dst)
            else:
                dst[...] = c[theirs]
    return out


def _transposed_to_internal(w: np.ndarray, block: int = 64) -> np.ndarray:
    """``_to_internal([w]).T``, C-contiguous, in one pass of cache-sized blocks
    (about 1.5x faster than ``np.ascontiguousarray(w.T)`` for a 1024 x 256 weight, cold)."""
    out = np.empty(w.shape[::-1], w.dtype)
    for mine, theirs in _gate_blocks(w.shape[0] // 4):
        for i in range(0, mine.stop - mine.start, block):
            rows = min(block, mine.stop - mine.start - i)
            out[:, mine.start + i : mine.start + i + rows] = w[theirs.start + i :][:rows].T
    return out


def _swap_leading_axes(a: np.ndarray) -> np.ndarray:
    """``a.transpose(1, 0, 2)`` made C-contiguous, for a C-contiguous 3-D ``a``: its last-axis
    rows stay whole, so each row moves as one opaque item (a structured ``void`` view). NumPy
    then copies T * G items instead of running T * G inner loops of N elements: 0.4 ms
    instead of 0.7 ms for the (50, 1024, 32) gate gradients of the LSTM benchmark."""
    A, B, C = a.shape
    if C == 0:
        return np.empty((B, A, C), a.dtype)
    row = np.dtype((np.void, C * a.itemsize))
    out = np.empty((B, A, C), a.dtype)
    out.view(row).reshape(B, A)[...] = a.view(row).reshape(A, B).T
    return out


def _to_pytorch(a: np.ndarray) -> np.ndarray:
    """Rows of ``a`` from the kernel's gate order back to PyTorch's."""
    out = np.empty_like(a)
    for mine, theirs in _gate_blocks(a.shape[0] // 4):
        out[theirs] = a[mine]
    return out


def _step_operands(x, h0, w_hh, w_ih, bias, reverse):
    """The operands of the per-step product ``W [h_t; x_t; 1]`` (column layout).

    ``W`` = [W_hh | W_ih | b_ih + b_hh] in the kernel's gate order, sigmoid rows halved; ``Z``
    of shape (T+1, P+I+1, N) holds at step t's slot the state ``h^T`` (rows :P, written by
    the step before), ``x_t^T`` and a row of ones (the bias; absent without bias). One
    product per step then does the recurrent product, the input projection and the bias,
    and writes the pre-activations in place: 2.95 ms instead of 3.3 ms over the benchmark's
    50 steps for one batched input-projection GEMM plus the recurrent products and their sums.
    """
    T, N, I = x.shape
    P = w_hh.shape[1]
    blocks = [w_hh, w_ih] if bias is None else [w_hh, w_ih, bias[:, None]]
    w = _to_internal(blocks, 0.5)
    z = np.empty((T + 1, w.shape[1], N), x.dtype)
    inputs = z[1:] if reverse else z[:-1]  # x_t sits in the slot of the state before step t
    inputs[:, P : P + I] = x.transpose(0, 2, 1)  # (the slot after the last step takes none)
    if bias is not None:
        inputs[:, P + I] = 1
    z[T if reverse else 0, :P] = h0.T
    return w, z


def lstm_forward(x, h0, c0, w_ih, w_hh, b_ih, b_hh, w_hr, mask, reverse):
    """IFOG LSTM over a sequence (000 eq. 30-34, 003 §4.4), optional projection h = W_hr h.

    Gate order i, f, g, o in the weights as PyTorch: c_t = f*c_{t-1} + i*g, h_t = o*tanh(c_t).
    For speed the kernel works internally

    * in the order (i, f, o, g) with the sigmoid rows of the weights halved, so that one tanh
      over the whole gate block gives all four activations: sigma(z) = (1 + tanh(z / 2)) / 2;
    * in column layout: the gates of step t are a contiguous (4H, N) block, states are (H, N).
      The per-step product is then ``W [h_t; x_t; 1]`` (``_step_operands``) with both
      operands contiguous, the shape OpenBLAS runs fastest for a small batch, and every
      element-wise step works on contiguous blocks. The states are turned back to PyTorch's
      (T, N, H) once, at the end.

    States live in (T+1, ., N) arrays written in place (``out=``): a step allocates nothing.
    """
    T, N, _ = x.shape
    H, P = w_hh.shape[0] // 4, w_hh.shape[1]
    dtype = x.dtype
    w, z = _step_operands(x, h0, w_hh, w_ih, None if b_ih is None else b_ih + b_hh, reverse)
    hsT = z[:, :P]  # (T+1, P, N) states, h0 at the start of the direction
    first, last = (T, 0) if reverse else (0, T)
    csT = np.empty((T + 1, H, N), dtype)
    csT[first] = c0.T
    acts = np.empty((T, 4 * H, N), dtype)
    tcsT = np.empty((T, H, N), dtype)
    hhsT = np.empty((T, H, N), dtype) if w_hr is not None else None
    padded = None if mask is None else (mask[:, :, 0] == 0)[:, None, :]  # (T, 1, N)
    ig = np.empty((H, N), dtype)
    for t in _steps(T, reverse):
        before, after = (t + 1, t) if reverse else (t, t + 1)
        a = np.matmul(w, z[before], out=acts[t])
        np.tanh(a, out=a)
        s = a[: 3 * H]
        s *= 0.5
        s += 0.5
        i, f, o, g = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
        c = np.multiply(f, csT[before], out=csT[after])
        c += np.multiply(i, g, out=ig)
        tc = np.tanh(c, out=tcsT[t])
        if w_hr is None:
            np.multiply(o, tc, out=hsT[after])
        else:
            np.matmul(w_hr, np.multiply(o, tc, out=hhsT[t]), out=hsT[after])
        if padded is not None:  # a padded step leaves the state unchanged
            np.copyto(hsT[after], hsT[before], where=padded[t])
            np.copyto(csT[after], csT[before], where=padded[t])
    hs = np.ascontiguousarray(hsT.transpose(0, 2, 1))  # (T+1, N, P)
    out = hs[:-1] if reverse else hs[1:]
    if mask is not None:
        out = out * mask  # padded steps output zeros
    h_n, c_n = hs[last], np.ascontiguousarray(csT[last].T)
    return out, h_n, c_n, (x, w_ih, w_hh, w_hr, acts, hs, csT, tcsT, hhsT, mask, reverse)


def lstm_backward(dout, dh, dc, cache, need_dx=True, need_state=True):
    """BPTT through ``lstm_forward``, in its column layout (gates (4H, N) per step).

    With s = sigma and g = tanh, the pre-activation gradients of step t are (003 §4.4)
    dc_t += dh_t o (1 - tanh(c_t)^2), then d i = dc g i(1-i), d f = dc c_{t-1} f(1-f),
    d o = dh tanh(c_t) o(1-o), d g = dc i (1-g^2); dc_{t-1} = dc f and dh_{t-1} = W_hh^T d.
    The weight gradients are one GEMM each over all steps after the loop.
    """
    x, w_ih, w_hh, w_hr, acts, hs, csT, tcsT, hhsT, mask, reverse = cache
    T, G, N = acts.shape
    H = G // 4
    dtype = acts.dtype
    dgates = np.empty((T, G, N), dtype)  # dL/dz for the pre-activations, internal order (i, f, o, g)
    dhT, dcT = np.ascontiguousarray(dh.T), np.ascontiguousarray(dc.T)
    dhsT = np.empty((T, dh.shape[1], N), dtype) if w_hr is not None else None
    valid = None if mask is None else mask[:, :, 0][:, None, :].astype(dtype)  # (T, 1, N)
    w_hhT = _transposed_to_internal(w_hh)
    w_hrT = None if w_hr is None else np.ascontiguousarray(w_hr.T)
    tmp = np.empty((H, N), dtype)
    slope = np.empty((3 * H, N), dtype)
    first_step = T - 1 if reverse else 0
    for t in _steps(T, not reverse):
        before = t + 1 if reverse else t
        dhT += dout[t].T
        if valid is not None:  # a padded step passes dh, dc straight through to the previous state
            m = valid[t]
            dh_keep, dc_keep = dhT * (1 - m), dcT * (1 - m)
            dhT *= m
            dcT *= m
        dhn = dhT
        if w_hr is not None:
            dhsT[t] = dhT
            dhn = w_hrT @ dhT
        a, tc, d = acts[t], tcsT[t], dgates[t]
        i, f, o, g = a[:H], a[H : 2 * H], a[2 * H : 3 * H], a[3 * H :]
        np.multiply(tc, tc, out=tmp)
        np.subtract(1, tmp, out=tmp)
        tmp *= o
        tmp *= dhn
        dcT += tmp  # dc += dh o (1 - tanh(c)^2)
        np.multiply(dcT, g, out=d[:H])
        np.multiply(dcT, csT[before], out=d[H : 2 * H])
        np.multiply(dhn, tc, out=d[2 * H : 3 * H])
        np.multiply(dcT, i, out=d[3 * H :])
        s = a[: 3 * H]
        np.subtract(1, s, out=slope)
        slope *= s
        d[: 3 * H] *= slope  # sigma' = sigma (1 - sigma)
        np.multiply(g, g, out=tmp)
        np.subtract(1, tmp, out=tmp)
        d[3 * H :] *= tmp  # tanh' = 1 - tanh^2
        if t == first_step and not need_state:
            break  # nobody wants the initial state's gradient
        dcT *= f  # dc_{t-1} = dc f
        np.matmul(w_hhT, d, out=dhT)  # dh_{t-1} = W_hh^T d
        if valid is not None:
            dhT += dh_keep
            dcT += dc_keep
    flat = _swap_leading_axes(dgates).reshape(G, T * N)
    hprev = hs[1:] if reverse else hs[:-1]
    dw_ih_p = flat @ x.reshape(T * N, -1)
    dw_hh_p = flat @ hprev.reshape(T * N, -1)
    db_p = flat @ np.ones(T * N, dtype)
    dx = (flat.T @ _to_internal([w_ih])).reshape(T, N, -1) if need_dx else None
    dw_ih, dw_hh, db = _to_pytorch(dw_ih_p), _to_pytorch(dw_hh_p), _to_pytorch(db_p)
    dw_hr = None
    if w_hr is not None:
        dw_hr = np.einsum("tpn,thn->ph", dhsT, hhsT, optimize=True)
    if not need_state:
        return dx, None, None, dw_ih, dw_hh, db, db, dw_hr
    return dx, dhT.T.copy(), dcT.T.copy(), dw_ih, dw_hh, db, db, dw_hr


# ------------------------------------------------------------------------ GRU
def gru_forward(x, h0, w_ih, w_hh, b_ih, b_hh, mask, reverse):
    """GRU over a sequence, gate order r, z, n as PyTorch (003 §4.5):

    r = sigma(W_ir x + b_ir + W_hr h + b_hr), z = sigma(W_iz x + b_iz + W_hz h + b_hz),
    n = tanh(W_in x + b_in + r * (W_hn h + b_hn)), h' = (1 - z) * n + z * h.
    """
    T, N, _ = x.shape
    H = w_hh.shape[1]
    gi = _project_inputs(x, w_ih, b_ih)
    hs, out = _state_buffer(T, N, H, x.dtype, h0, reverse, mask)
    ghn = np.empty((T, N, H), x.dtype)
    w_hhT = np.ascontiguousarray(w_hh.T)
    for t in _steps(T, reverse):
        before, after = (t + 1, t) if reverse else (t, t + 1)
        h = hs[before]
        gh = h @ w_hhT
        if b_hh is not None:
            gh += b_hh
        a = gi[t]
        a[:, : 2 * H] += gh[:, : 2 * H]
        _sigmoid_(a[:, : 2 * H])
        r, z, n = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :]
        ghn[t] = gh[:, 2 * H :]
        n += np.multiply(r, ghn[t], out=gh[:, 2 * H :])
        np.tanh(n, out=n)
        hn = np.subtract(h, n, out=hs[after])
        hn *= z
        hn += n
        if mask is not None:
            _masked_step(hs, out, mask, t, before, after)
    return out, hs[0] if reverse else hs[T], (x, w_ih, w_hh, gi, hs, ghn, mask, reverse)


def gru_backward(dout, dh, cache, need_dx=True):
    x, w_ih, w_hh, acts, hs, ghn, mask, reverse = cache
    T, N, G = acts.shape
    H = G // 3
    dgi = np.empty_like(acts)
    dgh = np.empty_like(acts)
    dh = dh.copy()
    tmp = np.empty((N, H), acts.dtype)
    for t in _steps(T, not reverse):
        before = t + 1 if reverse else t
        dh += dout[t]
        if mask is not None:
            dh_keep = dh * (1 - mask[t])
            dh *= mask[t]
        a, di, dg = acts[t], dgi[t], dgh[t]
        r, z, n = a[:, :H], a[:, H : 2 * H], a[:, 2 * H :]
        dr, dz, dn = di[:, :H], di[:, H : 2 * H], di[:, 2 * H :]
        # dn = dh (1 - z)(1 - n^2);  dz = dh (h - n) z (1 - z);  dr = dn (W_hn h + b_hn) r (1 - r)
        np.subtract(1, z, out=dn)
        dn *= dh
        dn *= np.subtract(1, np.multiply(n, n, out=tmp), out=tmp)
        np.subtract(hs[before], n, out=dz)
        dz *= dh
        dz *= z
        dz *= np.subtract(1, z, out=tmp)
        np.multiply(dn, ghn[t], out=dr)
        dr *= r
        dr *= np.subtract(1, r, out=tmp)
        dg[:, : 2 * H] = di[:, : 2 * H]
        np.multiply(dn, r, out=dg[:, 2 * H :])
        dh *= z
        dh += dg @ w_hh
        if mask is not None:
            dh += dh_keep
    dw_ih, dw_hh, db_ih, db_hh = _weight_grads(dgi, x, hs[1:] if reverse else hs[:-1], dgh)
    dx = (dgi.reshape(T * N, G) @ w_ih).reshape(T, N, -1) if need_dx else None
    return dx, dh, dw_ih, dw_hh, db_ih, db_hh


# ------------------------------------------------------------------------ the stack
class RNNStack(Function):
    """All layers and directions of an RNN/LSTM/GRU as one graph node (see module docstring).

    ``forward(ctx, config, x, h0, c0, *weights)`` with ``x`` time-major (T, N, I), ``h0`` of
    shape (num_layers * D, N, H_out) and ``weights`` in PyTorch's ``_flat_weights`` order
    (per layer and direction: w_ih, w_hh, [b_ih, b_hh], [w_hr]). ``config`` holds the mode,
    layer count, directions, bias/projection flags, the inter-layer dropout masks and the
    valid-step mask. Returns (output, h_n) or, for the LSTM, (output, h_n, c_n).
    """

    @staticmethod
    def forward(ctx, config, x, h0, c0, *weights):
        ctx.step_shape = (x.shape[1], weights[1].shape[1], weights[1].shape[0])
        with _step_threads(*ctx.step_shape):
            return RNNStack._forward(ctx, config, x, h0, c0, *weights)

    @staticmethod
    def _forward(ctx, config, x, h0, c0, *weights):
        mode, num_layers, D, has_bias, has_proj, drop_masks, mask = config
        per = 2 + 2 * has_bias + has_proj
        hn, cn, caches = [], [], []
        inp = x
        for layer in range(num_layers):
            if layer > 0 and drop_masks is not None:
                inp = inp * drop_masks[layer - 1]
            outs = []
            for d in range(D):
                k = layer * D + d
                w = weights[k * per : (k + 1) * per]
                w_ih, w_hh = w[0], w[1]
                b_ih, b_hh = (w[2], w[3]) if has_bias else (None, None)
                w_hr = w[-1] if has_proj else None
                if mode == "LSTM":
                    out, h, c, cache = lstm_forward(
                        inp, h0[k], c0[k], w_ih, w_hh, b_ih, b_hh, w_hr, mask, d == 1
                    )
                    cn.append(c)
                elif mode == "GRU":
                    out, h, cache = gru_forward(inp, h0[k], w_ih, w_hh, b_ih, b_hh, mask, d == 1)
                else:
                    out, h, cache = rnn_forward(
                        inp, h0[k], w_ih, w_hh, b_ih, b_hh, mask, d == 1, mode == "RNN_RELU"
                    )
                outs.append(out)
                hn.append(h)
                caches.append(cache)
            inp = outs[0] if D == 1 else np.concatenate(outs, axis=-1)
        ctx.config = config
        ctx.save_for_backward(caches)
        if mode == "LSTM":
            return inp, np.stack(hn), np.stack(cn)
        return inp, np.stack(hn)

    @staticmethod
    def backward(ctx, dout, dhn, dcn=None):
        if ctx.graph_mode:
            raise RuntimeError(
                "RNN/LSTM/GRU: the fused sequence kernel does not support double backward "
                "(create_graph=True); build the recurrence from RNNCell/LSTMCell/GRUCell instead"
            )
        with _step_threads(*ctx.step_shape):
            return RNNStack._backward(ctx, dout, dhn, dcn)

    @staticmethod
    def _backward(ctx, dout, dhn, dcn):
        mode, num_layers, D, has_bias, has_proj, drop_masks, _ = ctx.config
        (caches,) = ctx.saved_tensors
        per = 2 + 2 * has_bias + has_proj
        dweights = [None] * (len(caches) * per)
        dh0 = np.empty_like(dhn)
        dc0 = np.empty_like(dcn) if mode == "LSTM" else None
        # the LSTM skips its last recurrent product when no one wants (h0, c0)'s gradient
        lstm_state = ctx.needs_input_grad[2] or ctx.needs_input_grad[3]
        if mode == "LSTM" and not lstm_state:
            dh0 = dc0 = None
        for layer in range(num_layers - 1, -1, -1):
            H = dout.shape[-1] // D
            need_dx = layer > 0 or ctx.needs_input_grad[1]  # one GEMM saved for a constant input
            dinp = 0
            for d in range(D):
                k = layer * D + d
                dout_d = dout[..., d * H : (d + 1) * H]
                if mode == "LSTM":
                    dx, dh, dc, dw_ih, dw_hh, db_ih, db_hh, dw_hr = lstm_backward(
                        dout_d, dhn[k], dcn[k], caches[k], need_dx, lstm_state
                    )
                    if lstm_state:
                        dh0[k], dc0[k] = dh, dc
                elif mode == "GRU":
                    dx, dh0[k], dw_ih, dw_hh, db_ih, db_hh = gru_backward(
                        dout_d, dhn[k], caches[k], need_dx
                    )
                else:
                    dx, dh0[k], dw_ih, dw_hh, db_ih, db_hh = rnn_backward(
                        dout_d, dhn[k], caches[k], need_dx
                    )
                grads = (
                    [dw_ih, dw_hh]
                    + ([db_ih, db_hh] if has_bias else [])
                    + ([dw_hr] if has_proj else [])
                )
                dweights[k * per : (k + 1) * per] = grads
                dinp = dinp + dx if need_dx else None
            if layer > 0 and drop_masks is not None:
                dinp = dinp * drop_masks[layer - 1]
            dout = dinp
        return (None, dout, dh0, dc0, *dweights)


def rnn_stack(
    mode,
    x,
    h0,
    c0,
    weights,
    num_layers,
    bidirectional,
    has_bias,
    has_proj,
    drop_masks=None,
    mask=None,
):
    """Run the fused stack; returns (output, h_n[, c_n]) tensors. See ``RNNStack``."""
    config = (mode, num_layers, 2 if bidirectional else 1, has_bias, has_proj, drop_masks, mask)
    return RNNStack.apply(config, x, h0, c0, *weights)


# ------------------------------------------------------------------------ cells from primitives
def _affine(x, w, b):
    y = x @ w.T
    return y if b is None else y + b


def rnn_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None, nonlinearity="tanh"):
    """h' = act(W_ih x + b_ih + W_hh h + b_hh)  (000 eq. 24), from primitive ops."""
    a = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
    return a.tanh() if nonlinearity == "tanh" else a.relu()


def lstm_cell(x, h, c, w_ih, w_hh, b_ih=None, b_hh=None, w_hr=None):
    """One LSTM step (000 eq. 30-34, gate order i, f, g, o), from primitive ops."""
    H = w_hh.shape[0] // 4
    gates = _affine(x, w_ih, b_ih) + _affine(h, w_hh, b_hh)
    i, f = gates[:, :H].sigmoid(), gates[:, H : 2 * H].sigmoid()
    g, o = gates[:, 2 * H : 3 * H].tanh(), gates[:, 3 * H :].sigmoid()
    c = f * c + i * g
    h = o * c.tanh()
    if w_hr is not None:
        h = h @ w_hr.T
    return h, c


def gru_cell(x, h, w_ih, w_hh, b_ih=None, b_hh=None):
    """One GRU step (gate order r, z, n; n = tanh(W_in x + b_in + r * (W_hn h + b_hn))."""
    H = w_hh.shape[1]
    gi, gh = _affine(x, w_ih, b_ih), _affine(h, w_hh, b_hh)
    r = (gi[:, :H] + gh[:, :H]).sigmoid()
    z = (gi[:, H : 2 * H] + gh[:, H : 2 * H]).sigmoid()
    n = (gi[:, 2 * H :] + r * gh[:, 2 * H :]).tanh()
    return (1 - z) * n + z * h
