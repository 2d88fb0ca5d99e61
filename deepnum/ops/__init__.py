"""deepnum's differentiable operations, one module per family.

Each family module exposes its public functions and a ``TENSOR_METHODS`` table (and
optionally ``UFUNCS``, the NumPy ufuncs it implements); this package re-exports the
functions and installs the methods on ``Tensor``.
"""

from __future__ import annotations

from deepnum.ops import (
    arrange,
    conversion,
    creation,
    einsum,
    elementwise,
    gather_scatter,
    index,
    index_put,
    inplace,
    join,
    linalg,
    logexp,
    logic,
    matrix,
    minmax,
    pad,
    pointwise,
    reduce,
    shape,
    sorting,
    special,
    tensor_extras,
)
from deepnum.tensor import Tensor

_FAMILIES = [
    elementwise, pointwise, special, logic, reduce, minmax, sorting, logexp, linalg, einsum,
    matrix, shape, join, arrange, index, gather_scatter, index_put, pad, conversion, creation,
    inplace, tensor_extras,
]


def _public(module):
    return [n for n in dir(module) if not n.startswith("_") and callable(getattr(module, n))
            and getattr(getattr(module, n), "__module__", None) == module.__name__
            and not isinstance(getattr(module, n), type)]


def _install() -> None:
    g = globals()
    for family in _FAMILIES:
        for name in getattr(family, "__all__", None) or _public(family):
            g[name] = getattr(family, name)
        for alias, fn in vars(family).items():  # aliases such as ``subtract = sub``
            home = getattr(fn, "__module__", None) or ""
            public_op = home.startswith("deepnum.ops.") and home != "deepnum.ops._util"
            if public_op and callable(fn) and not alias.startswith("_") and alias not in g and not isinstance(fn, type):
                g[alias] = fn
        for name, method in getattr(family, "TENSOR_METHODS", {}).items():
            setattr(Tensor, name, method)


_install()

_UFUNCS = None


def ufunc_table() -> dict:
    """NumPy ufunc name -> deepnum op, for ``Tensor.__array_ufunc__``."""
    global _UFUNCS
    if _UFUNCS is None:
        _UFUNCS = {}
        for family in _FAMILIES:
            _UFUNCS.update(getattr(family, "UFUNCS", {}))
    return _UFUNCS
