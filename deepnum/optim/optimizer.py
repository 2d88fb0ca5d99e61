"""``Optimizer``: parameter groups, per-parameter state and checkpoints, as ``torch.optim``.

An optimiser holds ``param_groups`` (a list of dicts: ``'params'`` plus hyperparameters such as
``'lr'``) and ``state`` (a dict keyed by parameter). Subclasses implement ``step``, updating
``p.array`` in place with NumPy: the update is not recorded by autograd, exactly as PyTorch's
optimisers run under ``no_grad``.
"""

from __future__ import annotations

import functools
import math
import numbers
from collections import OrderedDict, defaultdict

import numpy as np

from deepnum.autograd.grad_mode import enable_grad
from deepnum.tensor import Tensor

__all__ = ["Optimizer", "required"]


class _RequiredParameter:
    """Marks a hyperparameter that has no default and must be given."""

    def __repr__(self) -> str:
        return "<required parameter>"


required = _RequiredParameter()


def _check_lr(lr, name: str = "learning rate") -> None:
    if isinstance(lr, Tensor):
        lr = lr.item()
    if not (isinstance(lr, numbers.Real) and lr >= 0.0 and not math.isnan(lr)):
        raise ValueError(f"Invalid {name}: {lr}")


def _check_nonneg(value, name: str) -> None:
    if not 0.0 <= value:
        raise ValueError(f"Invalid {name} value: {value}")


def _check_differentiable(name: str, differentiable: bool) -> None:
    """``foreach``, ``fused`` and ``capturable`` select PyTorch kernels and are accepted and
    ignored (deepnum has one NumPy path); a differentiable update is not available."""
    if differentiable:
        raise NotImplementedError(
            f"{name}: differentiable=True is not supported; deepnum's optimisers update "
            "parameters in place outside autograd"
        )


def _step_tensor() -> Tensor:
    """A fresh step counter: a 0-d float32 tensor, as PyTorch stores ``state['step']``."""
    return Tensor._make(np.zeros((), dtype=np.float32), False, None, 0)


def _state_tensor(array: np.ndarray) -> Tensor:
    return Tensor._make(array, False, None, 0)


def _copy_state_value(value, param: Tensor | None, key=None):
    """A deep copy of a state value; floating arrays take the parameter's dtype.

    Scalar state (``step``, NAdam's ``mu_product``, ASGD's ``eta``) keeps its own dtype, so a
    restored run continues bit for bit.
    """
    if isinstance(value, (Tensor, np.ndarray)):
        array = value.array if isinstance(value, Tensor) else value
        floating = array.dtype.kind == "f" and param is not None and param.dtype.kind == "f"
        if floating and key != "step" and array.ndim > 0:
            array = array.astype(param.dtype, copy=True)
        else:
            array = np.array(array, copy=True)
        return _state_tensor(array) if isinstance(value, Tensor) else array
    if isinstance(value, dict):
        return {k: _copy_state_value(v, param, k) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_copy_state_value(v, param) for v in value)
    return value


class Optimizer:
    """Base class of all optimisers (``torch.optim.Optimizer``).

    Args:
        params: an iterable of tensors, or of dicts each holding ``'params'`` and group-specific
            hyperparameters that override ``defaults``.
        defaults: default hyperparameters, used by every group that does not set them.

    Examples:
        >>> import deepnum
        >>> w = deepnum.nn.Parameter(deepnum.ones(2))
        >>> opt = deepnum.optim.SGD([w], lr=0.5)
        >>> (w * w).sum().backward()
        >>> opt.step(); w
        Parameter containing:
        tensor([0., 0.], requires_grad=True)
    """

    def __init__(self, params, defaults: dict) -> None:
        self.defaults = defaults
        self._optimizer_step_pre_hooks: OrderedDict = OrderedDict()
        self._optimizer_step_post_hooks: OrderedDict = OrderedDict()
        self._patch_step_function()
        if isinstance(params, Tensor):
            raise TypeError(
                "params argument given to the optimizer should be an iterable of Tensors or "
                f"dicts, but got {type(params).__name__}"
            )
        self.state: defaultdict = defaultdict(dict)
        self.param_groups: list[dict] = []
        param_groups = list(params)
        if len(param_groups) == 0:
            raise ValueError("optimizer got an empty parameter list")
        if not isinstance(param_groups[0], dict):
            param_groups = [{"params": param_groups}]
        for group in param_groups:
            self.add_param_group(group)

    # ----------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict) -> None:
        """Add a group of parameters (with its own hyperparameters) to ``param_groups``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"param_group must be a dict, but got {type(param_group).__name__}")
        params = param_group["params"]
        if isinstance(params, Tensor):
            params = [params]
        elif isinstance(params, set):
            raise TypeError(
                "optimizer parameters need to be organized in ordered collections, but the "
                "ordering of tensors in sets will change between runs. Please use a list instead."
            )
        else:
            params = list(params)
        names = [p[0] for p in params if isinstance(p, tuple)]
        if names:
            if len(names) != len(params):
                raise ValueError(
                    "all optimizer params should be with/without names. Some param names are "
                    "missing"
                )
            param_group["param_names"] = names
            params = [p[1] for p in params]
        param_group["params"] = params
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(
                    f"optimizer can only optimize Tensors, but one of the params is "
                    f"{type(p).__name__}"
                )
            if not p.is_leaf:
                raise ValueError("can't optimize a non-leaf Tensor")
        for name, default in self.defaults.items():
            if default is required and name not in param_group:
                raise ValueError(
                    "parameter group didn't specify a value of required optimization "
                    f"parameter {name}"
                )
            param_group.setdefault(name, default)
        if len(params) != len(set(params)):
            raise ValueError("optimizer contains a parameter group with duplicate parameters")
        seen = set()
        for group in self.param_groups:
            seen.update(group["params"])
        if not seen.isdisjoint(params):
            raise ValueError("some parameters appear in more than one parameter group")
        self.param_groups.append(param_group)

    # ------------------------------------------------------------------ steps
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradient of every parameter: to ``None``, or to zeros in place."""
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                elif p.grad.grad_fn is not None:
                    p.grad = Tensor._make(np.zeros_like(p.grad.array), False, None, 0)
                else:
                    p.grad.requires_grad = False
                    p.grad.array.fill(0)

    def step(self, closure=None):
        """One optimisation step; ``closure`` re-evaluates the model and returns the loss."""
        raise NotImplementedError

    # ------------------------------------------------------------------ hooks
    def _patch_step_function(self) -> None:
        """Wrap the most derived ``step`` once so that step hooks run around it (as PyTorch)."""
        cls = type(self)
        step = cls.step
        if getattr(step, "_hooked", False):
            return

        @functools.wraps(step)
        def hooked_step(opt, *args, **kwargs):
            for hook in list(opt.__dict__.get("_optimizer_step_pre_hooks", {}).values()):
                result = hook(opt, args, kwargs)
                if result is not None:
                    if not (isinstance(result, tuple) and len(result) == 2):
                        raise RuntimeError(
                            f"{hook} must return None or a tuple of (new_args, new_kwargs), "
                            f"but got {result}."
                        )
                    args, kwargs = result
            out = step(opt, *args, **kwargs)
            for hook in list(opt.__dict__.get("_optimizer_step_post_hooks", {}).values()):
                hook(opt, args, kwargs)
            return out

        hooked_step._hooked = True
        cls.step = hooked_step

    def register_step_pre_hook(self, hook) -> _RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` before each ``step``; it may return new args."""
        return _RemovableHandle.add(self._optimizer_step_pre_hooks, hook)

    def register_step_post_hook(self, hook) -> _RemovableHandle:
        """Call ``hook(optimizer, args, kwargs)`` after each ``step``."""
        return _RemovableHandle.add(self._optimizer_step_post_hooks, hook)

    @staticmethod
    def _evaluate(closure):
        """Call ``closure`` with gradients enabled (the step itself records nothing)."""
        if closure is None:
            return None
        with enable_grad():
            return closure()

    def _advance(self, p, **buffers) -> tuple[dict, float]:
        """The state of ``p`` one step further, and that step's number k (from 1).

        On the first step the state gets PyTorch's ``step`` counter and one entry per keyword:
        ``exp_avg=np.zeros_like`` stores ``np.zeros_like(p.array)`` (a maker may also return a
        ready tensor, e.g. a float32 scalar).
        """
        state = self.state[p]
        if not state:
            state["step"] = _step_tensor()
            for name, make in buffers.items():
                value = make(p.array)
                state[name] = value if isinstance(value, Tensor) else _state_tensor(value)
        state["step"].array += 1
        return state, float(state["step"].array)

    # ------------------------------------------------------------ checkpoints
    def state_dict(self) -> dict:
        """The optimiser's state in PyTorch's layout, with parameters replaced by indices.

        ``'state'`` maps each parameter's position (counting through the groups in order) to a
        copy of its state; ``'param_groups'`` holds each group's hyperparameters and its
        ``'params'`` as a list of those positions. The state is copied, so the returned dict is
        a snapshot that later steps do not change.
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in group["params"]]
            groups.append(packed)
        state = {
            (index[id(k)] if isinstance(k, Tensor) else k): _copy_state_value(v, None)
            for k, v in self.state.items()
        }
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Restore a ``state_dict()``: hyperparameters per group and copies of every state array.

        The groups must match this optimiser's in number and size; state arrays are copied and
        cast to their parameter's floating dtype (the step counter keeps its own).
        """
        groups = self.param_groups
        saved_groups = state_dict["param_groups"]
        if len(groups) != len(saved_groups):
            raise ValueError(
                f"loaded state dict has a different number of parameter groups "
                f"({len(saved_groups)}) than the optimizer ({len(groups)})"
            )
        for i, (g, s) in enumerate(zip(groups, saved_groups)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(
                    "loaded state dict contains a parameter group that doesn't match the size "
                    f"of optimizer's group: group {i} has {len(s['params'])} parameters in the "
                    f"state dict and {len(g['params'])} in the optimizer"
                )
        id_map = {}
        for g, s in zip(groups, saved_groups):
            id_map.update(zip(s["params"], g["params"]))
        state = defaultdict(dict)
        for k, v in state_dict["state"].items():
            key = int(k) if isinstance(k, str) and k.isdigit() else k
            if key in id_map:
                state[id_map[key]] = _copy_state_value(v, id_map[key])
            else:
                state[key] = _copy_state_value(v, None)
        new_groups = []
        for g, s in zip(groups, saved_groups):
            new_group = {k: v for k, v in s.items() if k != "params"}
            if isinstance(new_group.get("betas"), list):
                new_group["betas"] = tuple(new_group["betas"])
            new_group["params"] = g["params"]
            new_groups.append(new_group)
        self.state = state
        self.param_groups = new_groups

    # ------------------------------------------------------------------- repr
    def __repr__(self) -> str:
        lines = [type(self).__name__ + " ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for key in sorted(group):
                if key != "params":
                    lines.append(f"    {key}: {group[key]}")
        lines.append(")")
        return "\n".join(lines)

    def __getstate__(self) -> dict:
        return {"defaults": self.defaults, "state": self.state, "param_groups": self.param_groups}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.__dict__.setdefault("_optimizer_step_pre_hooks", OrderedDict())
        self.__dict__.setdefault("_optimizer_step_post_hooks", OrderedDict())
        self._patch_step_function()


class _RemovableHandle:
    """Returned by the hook registrations; ``remove()`` unregisters the hook."""

    _next_id = 0

    def __init__(self, store: OrderedDict, key: int) -> None:
        self.store, self.id = store, key

    @classmethod
    def add(cls, store: OrderedDict, hook) -> _RemovableHandle:
        cls._next_id += 1
        store[cls._next_id] = hook
        return cls(store, cls._next_id)

    def remove(self) -> None:
        self.store.pop(self.id, None)


def _scalar(value):
    """A hyperparameter as a Python number (PyTorch also accepts 1-element tensors)."""
    return value.item() if isinstance(value, Tensor) else value


def _grad_array(p: Tensor, maximize: bool) -> np.ndarray:
    """The gradient as a NumPy array, negated (into a new array) when maximising."""
    g = p.grad.array
    return np.negative(g) if maximize else g
