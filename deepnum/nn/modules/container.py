"""Containers: ``Sequential``, ``ModuleList``, ``ModuleDict``, ``ParameterList``,
``ParameterDict`` and the skip connection ``Residual`` (002: residual networks "jump over some
layers")."""

from __future__ import annotations

import operator
from collections import OrderedDict
from itertools import islice

from deepnum.nn.modules.module import Module
from deepnum.nn.parameter import Parameter

__all__ = ["Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Residual"]


def _index(idx: int, n: int, who: str) -> int:
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"{who}: index {idx} is out of range for length {n}")
    return idx % n


def _renumber(container: Module, modules) -> None:
    """Store ``modules`` under the names ``0..n-1`` again, as PyTorch does after a delete/insert."""
    container._modules.clear()
    for i, module in enumerate(modules):
        container.add_module(str(i), module)


class Sequential(Module):
    """Modules applied in order: y = f_L(... f_2(f_1(x))) (004 Def. 6.5, the MLP as a chain).

    Takes modules as arguments (named ``0``, ``1``, ...) or one ``OrderedDict`` of named modules.

    Examples:
        >>> import deepnum.nn as nn
        >>> net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
        >>> [name for name, _ in net.named_parameters()]
        ['0.weight', '0.bias', '2.weight', '2.bias']
    """

    def __init__(self, *args) -> None:
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for key, module in args[0].items():
                self.add_module(key, module)
        else:
            for i, module in enumerate(args):
                self.add_module(str(i), module)

    def forward(self, input):
        for module in self._modules.values():
            input = module(input)
        return input

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(OrderedDict(list(self._modules.items())[idx]))
        i = _index(idx, len(self), "Sequential")
        return next(islice(iter(self._modules.values()), i, None))

    def __setitem__(self, idx: int, module: Module) -> None:
        key = list(self._modules)[_index(idx, len(self), "Sequential")]
        self.add_module(key, module)

    def __delitem__(self, idx) -> None:
        keys = list(self._modules)
        targets = keys[idx] if isinstance(idx, slice) else [keys[_index(idx, len(self), "Sequential")]]
        for key in targets:
            del self._modules[key]
        _renumber(self, list(self._modules.values()))

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __add__(self, other: Sequential) -> Sequential:
        if not isinstance(other, Sequential):
            raise ValueError(f"add operator supports only objects of Sequential class, but {type(other)} is given.")
        return Sequential(*self, *other)

    def append(self, module: Module) -> Sequential:
        self.add_module(str(len(self)), module)
        return self

    def insert(self, index: int, module: Module) -> Sequential:
        n = len(self)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} is out of range for length {n}")
        items = list(self._modules.values())
        items.insert(index % (n + 1) if index < 0 else index, module)
        _renumber(self, items)
        return self

    def extend(self, sequential) -> Sequential:
        for module in sequential:
            self.append(module)
        return self


class ModuleList(Module):
    """A list of modules whose parameters are registered (names ``0``, ``1``, ...)."""

    def __init__(self, modules=None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_index(idx, len(self), "ModuleList"))]

    def __setitem__(self, idx: int, module: Module) -> None:
        self.add_module(str(_index(idx, len(self), "ModuleList")), module)

    def __delitem__(self, idx) -> None:
        items = list(self._modules.values())
        if isinstance(idx, slice):
            del items[idx]
        else:
            del items[_index(idx, len(self), "ModuleList")]
        _renumber(self, items)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules) -> ModuleList:
        return self.extend(modules)

    def __add__(self, other) -> ModuleList:
        return ModuleList(list(self) + list(other))

    def append(self, module: Module) -> ModuleList:
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        items = list(self._modules.values())
        items.insert(index, module)
        _renumber(self, items)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleList is a container and has no forward; iterate over it")

    def __repr__(self) -> str:
        """Runs of identical modules are shown once, as PyTorch does: ``(0-11): 12 x Block(...)``."""
        reprs = [repr(m) for m in self]
        if not reprs:
            return self._get_name() + "()"
        runs = []  # [start, end, text]
        for i, text in enumerate(reprs):
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = []
        for start, end, text in runs:
            head = f"({start})" if start == end else f"({start}-{end}): {end - start + 1} x"
            line = f"{head}: {text}" if start == end else f"{head} {text}"
            lines.append(line.replace("\n", "\n  "))
        return self._get_name() + "(\n  " + "\n  ".join(lines) + "\n)"


class _NamedContainer(Module):
    """The dict interface of ``ModuleDict`` and ``ParameterDict`` over one of their registries
    (``_modules`` or ``_parameters``); only storing an entry differs between the two."""

    def _entries(self) -> dict:
        raise NotImplementedError

    def __getitem__(self, key: str):
        return self._entries()[key]

    def __delitem__(self, key: str) -> None:
        del self._entries()[key]

    def __len__(self) -> int:
        return len(self._entries())

    def __iter__(self):
        return iter(self._entries())

    def __contains__(self, key: str) -> bool:
        return key in self._entries()

    def keys(self):
        return self._entries().keys()

    def values(self):
        return self._entries().values()

    def items(self):
        return self._entries().items()

    def pop(self, key: str):
        return self._entries().pop(key)

    def clear(self) -> None:
        self._entries().clear()

    def update(self, entries) -> None:
        pairs = entries.items() if hasattr(entries, "items") else entries
        for key, value in pairs:
            self[key] = value


class ModuleDict(_NamedContainer):
    """An ordered dict of modules whose parameters are registered under their keys."""

    def __init__(self, modules=None) -> None:
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _entries(self) -> dict:
        return self._modules

    def __setitem__(self, key: str, module: Module) -> None:
        self.add_module(key, module)

    def forward(self, *args, **kwargs):
        raise NotImplementedError("ModuleDict is a container and has no forward; index it by key")


class ParameterList(Module):
    """A list of parameters, registered under the names ``0``, ``1``, ..."""

    def __init__(self, values=None) -> None:
        super().__init__()
        for v in values or []:
            self.append(v)

    def __getitem__(self, idx: int) -> Parameter:
        return self._parameters[str(_index(idx, len(self), "ParameterList"))]

    def __setitem__(self, idx: int, param) -> None:
        self.register_parameter(str(_index(idx, len(self), "ParameterList")), _as_parameter(param))

    def __len__(self) -> int:
        return len(self._parameters)

    def __iter__(self):
        return iter(self._parameters.values())

    def append(self, value) -> ParameterList:
        self.register_parameter(str(len(self)), _as_parameter(value))
        return self

    def extend(self, values) -> ParameterList:
        for v in values:
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"({k}): Parameter containing: [{p.dtype} of size {'x'.join(map(str, p.shape))}]"
                         for k, p in self._parameters.items())


class ParameterDict(_NamedContainer):
    """An ordered dict of parameters registered under their keys."""

    def __init__(self, parameters=None) -> None:
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def _entries(self) -> dict:
        return self._parameters

    def __setitem__(self, key: str, value) -> None:
        self.register_parameter(key, _as_parameter(value))


def _as_parameter(value) -> Parameter:
    return value if isinstance(value, Parameter) else Parameter(value)


class Residual(Module):
    """Skip connection y = s(x) + f(x) around ``module`` f (002, residual networks; He et al. 2016).

    With the default identity shortcut s(x) = x the identity path carries the gradient past f
    unchanged (dy/dx = I + df/dx), which is why deep residual stacks do not suffer vanishing
    gradients (004 on skip connections). When f changes the shape, pass a ``shortcut``
    module (e.g. a 1×1 convolution or a ``Linear``) that maps x to f(x)'s shape: the
    "projection shortcut" of ResNets.

    Args:
        module: the residual branch f.
        shortcut: the skip branch s; None (default) for the identity.

    References:
        002 ("Residual neural network": skip connections); He, Zhang, Ren & Sun, "Deep
        Residual Learning for Image Recognition", CVPR 2016, arXiv:1512.03385.

    Examples:
        >>> import deepnum, deepnum.nn as nn
        >>> block = nn.Residual(nn.Sequential(nn.Linear(4, 4), nn.ReLU()))
        >>> block(deepnum.zeros(2, 4)).shape
        deepnum.Size([2, 4])
    """

    def __init__(self, module: Module, shortcut: Module | None = None) -> None:
        super().__init__()
        self.module = module
        if shortcut is not None:
            self.shortcut = shortcut
        else:  # a plain attribute: no "(shortcut): None" line in the repr
            self.__dict__["shortcut"] = None

    def forward(self, input):
        out = self.module(input)
        skip = input if self.shortcut is None else self.shortcut(input)
        if tuple(out.shape) != tuple(skip.shape):
            raise RuntimeError(
                f"Residual: the wrapped {type(self.module).__name__} maps shape "
                f"{tuple(input.shape)} to {tuple(out.shape)} but the shortcut gives "
                f"{tuple(skip.shape)}; pass a shortcut module that matches f(x)'s shape"
            )
        return skip + out
