"""Making tensors: from data, filled, ranges and random draws (``manual_seed`` repeats runs)."""

from __future__ import annotations

import numpy as np

from deepnum import _dtype
from deepnum.tensor import Tensor


def _new(array: np.ndarray, requires_grad: bool = False) -> Tensor:
    t = Tensor._make(array, False, None, 0)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _unwrap_nested(data):
    """Nested lists/tuples/deques of numbers or 0-d tensors as plain Python/NumPy values."""
    if isinstance(data, Tensor):
        return data.array
    if isinstance(data, (list, tuple)) or type(data).__name__ == "deque":
        return [_unwrap_nested(d) for d in data]
    return data


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor copying ``data`` (numbers, nested lists, NumPy arrays or tensors).

    Python floats become the default dtype (float32), Python ints int64, NumPy arrays keep
    their dtype.
    """
    data = _unwrap_nested(data)
    dtype = _dtype.to_dtype(dtype) if dtype is not None else _infer_nested(data)
    return _new(np.array(data, dtype=dtype), requires_grad)


def _leaf_dtype(leaf) -> np.dtype:
    """PyTorch's dtype for one element: NumPy scalars and 0-d tensors keep theirs."""
    if isinstance(leaf, (np.generic, np.ndarray)):
        return leaf.dtype
    return _dtype.infer_dtype(leaf)


def _infer_nested(data) -> np.dtype:
    """dtype of ``tensor(data)``: promote the elements' dtypes by category, as PyTorch does."""
    if isinstance(data, np.ndarray) and data.ndim:
        return data.dtype
    if not isinstance(data, list):
        return _leaf_dtype(data)
    seen = {}
    stack = [data]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, np.ndarray) and item.ndim:
            seen[item.dtype] = 1
        else:
            seen[_leaf_dtype(item)] = 1
    if not seen:
        return _dtype.get_default_dtype()
    result = None
    for dt in seen:
        result = dt if result is None else _dtype.promote(result, 1, dt, 1)
    return result


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like ``tensor`` but shares memory with a NumPy array or tensor when it can."""
    if isinstance(data, Tensor) and (dtype is None or data.dtype == _dtype.to_dtype(dtype)):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or data.dtype == _dtype.to_dtype(dtype)):
        return _new(data)
    return tensor(data, dtype)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with ``array``."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray (got {type(array).__name__})")
    return _new(array)


def _size(size):
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    return tuple(int(s) for s in size)


def _float_dtype(dtype):
    return _dtype.to_dtype(dtype) if dtype is not None else _dtype.get_default_dtype()


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _new(np.zeros(_size(size), _float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _new(np.ones(_size(size), _float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _new(np.empty(_size(size), _float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None:
        dtype = _dtype.infer_dtype(fill_value)
    return _new(np.full(_size((size,)), fill_value, _dtype.to_dtype(dtype)), requires_grad)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _new(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values from ``start`` to ``end`` (exclusive); int64 unless any argument is a float."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        is_float = any(isinstance(v, float) for v in (start, end, step))
        dtype = _dtype.get_default_dtype() if is_float else _dtype.int64
    return _new(np.arange(start, end, step, dtype=_dtype.to_dtype(dtype)), requires_grad)


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _new(np.linspace(start, end, steps, dtype=_float_dtype(dtype)), requires_grad)


def _like(fn):
    def like(input, dtype=None, device=None, requires_grad=False, **kwargs):
        dtype = dtype if dtype is not None else input.dtype
        return fn(*input.shape, dtype=dtype, requires_grad=requires_grad, **kwargs)

    like.__name__ = fn.__name__ + "_like"
    return like


zeros_like = _like(zeros)
ones_like = _like(ones)
empty_like = _like(empty)


def full_like(input, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    return full(input.shape, fill_value, dtype=dtype or input.dtype, requires_grad=requires_grad)


# ------------------------------------------------------------------------- randomness
class Generator:
    """A source of random numbers (``torch.Generator``); ``manual_seed`` resets it."""

    def __init__(self, device=None) -> None:
        self._seed = 0
        self.rng = np.random.default_rng(0)

    def manual_seed(self, seed: int) -> Generator:
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def seed(self) -> int:
        s = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        """The full generator state as a uint8 tensor (to save in checkpoints)."""
        import json

        raw = json.dumps(self.rng.bit_generator.state).encode()
        return _new(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, state) -> None:
        import json

        array = state.array if isinstance(state, Tensor) else np.asarray(state)
        self.rng.bit_generator.state = json.loads(array.astype(np.uint8).tobytes().decode())


default_generator = Generator().manual_seed(0)


def manual_seed(seed: int) -> Generator:
    """Seed the global generator: same seed and code on the same machine give the same run."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


def _rng(generator):
    return (generator or default_generator).rng


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform on [0, 1)."""
    return _new(_rng(generator).random(_size(size), dtype=np.float64).astype(_float_dtype(dtype)), requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal."""
    return _new(_rng(generator).standard_normal(_size(size)).astype(_float_dtype(dtype)), requires_grad)


def randint(low, high=None, size=None, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Integers uniform in [low, high); ``randint(high, size)`` starts at 0, as PyTorch's."""
    if size is None and isinstance(high, (tuple, list)):  # randint(high, size)
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    dtype = _dtype.to_dtype(dtype) if dtype is not None else _dtype.int64
    return _new(_rng(generator).integers(low, high, size=_size((size,)) if size is not None else ()).astype(dtype))


def randperm(n: int, generator=None, dtype=None, device=None) -> Tensor:
    return _new(_rng(generator).permutation(n).astype(_dtype.to_dtype(dtype) if dtype else _dtype.int64))


def normal(mean, std, size=None, generator=None) -> Tensor:
    """Normal draws with the given mean(s) and standard deviation(s)."""
    m = mean.array if isinstance(mean, Tensor) else mean
    s = std.array if isinstance(std, Tensor) else std
    shape = _size((size,)) if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    dtype = (mean.dtype if isinstance(mean, Tensor) else std.dtype if isinstance(std, Tensor) else _dtype.get_default_dtype())
    return _new((m + s * _rng(generator).standard_normal(shape)).astype(dtype))


def rand_like(input, dtype=None, generator=None) -> Tensor:
    return rand(*input.shape, dtype=dtype or input.dtype, generator=generator)


def randn_like(input, dtype=None, generator=None) -> Tensor:
    return randn(*input.shape, dtype=dtype or input.dtype, generator=generator)


def randint_like(input, low, high=None, dtype=None) -> Tensor:
    return randint(low, high, input.shape, dtype=dtype or input.dtype)


def bernoulli(input, p=None, generator=None) -> Tensor:
    probs = input.array if p is None else np.full(input.shape, p)
    return _new((_rng(generator).random(input.shape) < probs).astype(input.dtype))


def multinomial(input, num_samples: int, replacement: bool = False, generator=None) -> Tensor:
    """Indices drawn from the rows of ``input`` (non-negative weights)."""
    probs = np.atleast_2d(input.array.astype(np.float64))
    rng = _rng(generator)
    rows = []
    for row in probs:
        p = row / row.sum()
        rows.append(rng.choice(len(p), size=num_samples, replace=replacement, p=p))
    out = np.array(rows, dtype=np.int64)
    return _new(out if input.ndim == 2 else out[0])


# ------------------------------------------------------------ in-place random fills
def _fill_random(self: Tensor, draw) -> Tensor:
    from deepnum.ops.inplace import apply_inplace

    return apply_inplace(self, "random fill", lambda s: Tensor._make(np.asarray(draw(s.shape)).astype(s.dtype), False, None, 0))


def normal_(self, mean=0.0, std=1.0, *, generator=None) -> Tensor:
    return _fill_random(self, lambda shape: mean + std * _rng(generator).standard_normal(shape))


def uniform_(self, a=0.0, b=1.0, *, generator=None) -> Tensor:
    return _fill_random(self, lambda shape: _rng(generator).uniform(a, b, shape))


def bernoulli_(self, p=0.5, *, generator=None) -> Tensor:
    return _fill_random(self, lambda shape: _rng(generator).random(shape) < p)


def exponential_(self, lambd=1.0, *, generator=None) -> Tensor:
    return _fill_random(self, lambda shape: _rng(generator).exponential(1 / lambd, shape))


def random_(self, low=0, high=None, *, generator=None) -> Tensor:
    if high is None:
        low, high = 0, low
    return _fill_random(self, lambda shape: _rng(generator).integers(low, high, shape))


TENSOR_METHODS = {"bernoulli": bernoulli, "normal_": normal_, "uniform_": uniform_,
                  "bernoulli_": bernoulli_,
                  "exponential_": exponential_, "random_": random_}


def _cpu_only(fn):
    """``fn`` refusing ``device=`` values other than the CPU with the message of ``deepnum.device``."""
    import functools

    @functools.wraps(fn)
    def checked(*args, **kwargs):
        if kwargs.get("device") is not None:
            from deepnum.device import device

            device(kwargs["device"])
        return fn(*args, **kwargs)

    return checked


for _name in ("tensor", "as_tensor", "zeros", "ones", "empty", "full", "eye", "arange", "linspace",
              "zeros_like", "ones_like", "empty_like", "full_like", "rand", "randn", "randint", "randperm"):
    globals()[_name] = _cpu_only(globals()[_name])
