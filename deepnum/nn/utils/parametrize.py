"""Parametrizations (``torch.nn.utils.parametrize``): a tensor computed from others on access.

After ``register_parametrization(module, "weight", P)`` the module no longer stores
``weight``. It stores the unconstrained tensor ``module.parametrizations.weight.original``
and computes ``module.weight = P(original)`` every time the attribute is read, so the
backward pass differentiates through ``P`` and optimisers update ``original``. Registering
more parametrizations on the same tensor composes them:
``weight = P_n(... P_2(P_1(original)))``.

A parametrization may define ``right_inverse`` with ``P(right_inverse(X)) = X``. It is used
when the first parametrization is registered (``original = right_inverse(weight)``, so the
weight keeps its value) and when assigning ``module.weight = X``. A ``right_inverse`` that
returns a sequence of tensors stores them as ``original0, original1, ...``, which become the
arguments of ``P``.

The module's class is replaced by a generated subclass (``ParametrizedLinear`` for a
``Linear``) that carries one property per parametrized tensor; the ``parametrizations``
submodule is a ``ModuleDict`` of ``ParametrizationList``, so ``state_dict`` keys are PyTorch's
(``parametrizations.weight.original``).
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from contextlib import contextmanager

import numpy as np

from deepnum.autograd.grad_mode import no_grad
from deepnum.nn.modules.container import ModuleDict, ModuleList
from deepnum.nn.modules.module import Module
from deepnum.nn.parameter import Buffer, Parameter
from deepnum.tensor import Tensor

__all__ = [
    "cached",
    "ParametrizationList",
    "register_parametrization",
    "is_parametrized",
    "remove_parametrizations",
    "type_before_parametrizations",
    "transfer_parametrizations_and_params",
]

_cache_depth = 0
_cache: dict = {}


@contextmanager
def cached():
    """Compute each parametrized tensor at most once inside the block.

    The first read of ``module.weight`` inside the block evaluates the parametrization and
    keeps the result; later reads return that same tensor. Leaving the outermost block
    discards the cache. Useful when a parametrized weight is used several times in one
    forward pass, such as the recurrent kernel of an RNN unrolled over time steps.
    """
    global _cache_depth
    _cache_depth += 1
    try:
        yield
    finally:
        _cache_depth -= 1
        if not _cache_depth:
            _cache.clear()


def _register_parameter_or_buffer(module: Module, name: str, tensor: Tensor) -> None:
    if isinstance(tensor, Parameter):
        module.register_parameter(name, tensor)
    else:
        module.register_buffer(name, tensor)


def _set_data(dest: Tensor, src: Tensor) -> None:
    """Give ``dest`` the values and shape of ``src`` in place (PyTorch's ``set_``).

    The tensor object stays the same, so an optimiser that holds it keeps updating it.
    ``dest`` gets its own copy of the values: optimisers update parameters in place.
    """
    if src.array is not dest.array:
        dest.array = np.array(src.array, copy=True)


def _sequence_of_tensors_error(i: int, value) -> ValueError:
    return ValueError(
        "'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
        f"Got element {i} of the sequence with type {type(value).__name__}."
    )


class ParametrizationList(ModuleList):
    """The parametrizations of one tensor and the original tensor(s) they are applied to.

    This is ``module.parametrizations[tensor_name]`` after :func:`register_parametrization`;
    it is created by that function, not by users. Calling it evaluates the chain
    ``P_n(... P_1(original))``. If the first parametrization has no ``right_inverse`` or its
    ``right_inverse`` returns one tensor, that tensor is stored as ``original``; if it returns
    a sequence, they are stored as ``original0``, ``original1``, ...

    Args:
        modules: the parametrizations, applied in order (at least one).
        original: the parameter or buffer being parametrized. When ``right_inverse`` returns
            one tensor, this same tensor object is kept (with the new values) as ``original``,
            so optimisers that hold it keep working.
        unsafe: allow the parametrization to change the shape and dtype of the tensor; no
            consistency check is made.
    """

    def __init__(self, modules, original: Tensor, unsafe: bool = False) -> None:
        if len(modules) == 0:
            raise ValueError("ParametrizationList requires one or more modules.")
        super().__init__(modules)
        self.unsafe = unsafe
        original_shape, original_dtype = original.shape, original.dtype

        new = self._initial_right_inverse(original)
        if not isinstance(new, (Tensor, Sequence)):
            raise ValueError(
                "'right_inverse' must return a Tensor or a Sequence of tensors (list, tuple...). "
                f"Got {type(new).__name__}"
            )
        self.is_tensor = isinstance(new, Tensor)
        self.ntensors = 1 if self.is_tensor else len(new)

        if self.is_tensor:
            if new.dtype != original.dtype:
                raise ValueError(
                    "When `right_inverse` outputs one tensor, it may not change the dtype.\n"
                    f"original.dtype: {original.dtype}\n"
                    f"right_inverse(original).dtype: {new.dtype}"
                )
            _set_data(original, new)
            _register_parameter_or_buffer(self, "original", original)
        else:
            for i, tensor in enumerate(new):
                if not isinstance(tensor, Tensor):
                    raise _sequence_of_tensors_error(i, tensor)
                if isinstance(original, Parameter):
                    tensor = Parameter(tensor, original.requires_grad)
                tensor.requires_grad_(original.requires_grad)
                _register_parameter_or_buffer(self, f"original{i}", tensor)

        if not unsafe:
            self._check_same_shape_and_dtype(original_shape, original_dtype)

    def _initial_right_inverse(self, original: Tensor):
        """``right_inverse`` of the chain, last parametrization first; a parametrization
        without one (or whose ``right_inverse`` raises NotImplementedError) counts as the
        identity."""
        value = original
        with no_grad():
            for parametrization in reversed(list(self)):
                if hasattr(parametrization, "right_inverse"):
                    try:
                        value = parametrization.right_inverse(value)
                    except NotImplementedError:
                        pass
        return value

    def _check_same_shape_and_dtype(self, shape, dtype) -> None:
        """``P(right_inverse(X))`` must have the shape and dtype of ``X``."""
        value = self()
        if not isinstance(value, Tensor):
            raise ValueError(
                f"A parametrization must return a tensor. Got {type(value).__name__}."
            )
        if value.dtype != dtype:
            raise ValueError(
                "Registering a parametrization may not change the dtype of the tensor, unless "
                "`unsafe` flag is enabled.\n"
                f"unparametrized dtype: {dtype}\n"
                f"parametrized dtype: {value.dtype}"
            )
        if value.shape != shape:
            raise ValueError(
                "Registering a parametrization may not change the shape of the tensor, unless "
                "`unsafe` flag is enabled.\n"
                f"unparametrized shape: {shape}\n"
                f"parametrized shape: {value.shape}"
            )

    def right_inverse(self, value: Tensor) -> None:
        """Store ``right_inverse(value)`` of the whole chain in the original tensor(s).

        Every parametrization must implement ``right_inverse``; they are applied last first.
        The original tensors keep their identity and receive the new values.
        """
        with no_grad():
            for parametrization in reversed(list(self)):
                if not hasattr(parametrization, "right_inverse"):
                    raise RuntimeError(
                        f"parametrization {type(parametrization).__name__} does not implement "
                        "right_inverse."
                    )
                value = parametrization.right_inverse(value)
            if self.is_tensor:
                self._store_one(value)
            else:
                self._store_sequence(value)

    def _store_one(self, value) -> None:
        if not isinstance(value, Tensor):
            raise ValueError(f"`right_inverse` should return a tensor. Got {type(value).__name__}")
        if value.dtype != self.original.dtype:
            raise ValueError(
                f"The tensor returned by `right_inverse` has dtype {value.dtype} "
                f"while `original` has dtype {self.original.dtype}"
            )
        _set_data(self.original, value)

    def _store_sequence(self, values) -> None:
        if not isinstance(values, Sequence):
            raise ValueError(
                f"'right_inverse' must return a sequence of tensors. Got {type(values).__name__}."
            )
        if len(values) != self.ntensors:
            raise ValueError(
                "'right_inverse' must return a sequence of tensors of length "
                f"{self.ntensors}. Got a sequence of length {len(values)}."
            )
        for i, tensor in enumerate(values):
            if not isinstance(tensor, Tensor):
                raise _sequence_of_tensors_error(i, tensor)
            original = getattr(self, f"original{i}")
            if original.dtype != tensor.dtype:
                raise ValueError(
                    f"Tensor {i} returned by `right_inverse` has dtype {tensor.dtype} "
                    f"while `original{i}` has dtype {original.dtype}"
                )
            _set_data(original, tensor)

    def _originals(self) -> tuple:
        """The unconstrained tensor(s) that the first parametrization is applied to."""
        if self.is_tensor:
            return (self.original,)
        return tuple(getattr(self, f"original{i}") for i in range(self.ntensors))

    def forward(self) -> Tensor:
        first, *rest = self
        value = first(*self._originals())
        for parametrization in rest:
            value = parametrization(value)
        return value


# ------------------------------------------------------------------- the generated class
def _refuse_serialization(self):
    raise RuntimeError(
        "Serialization of parametrized modules is only supported through state_dict(). "
        "Save module.state_dict() and load it into a module parametrized the same way."
    )


def _parametrized_class(cls: type) -> type:
    """A subclass ``Parametrized<Name>`` of ``cls`` made for one module: the properties of
    its parametrized tensors are added to this class, so it is never shared.

    Assigning a ``Parameter`` or ``Buffer`` to a parametrized name raises (as PyTorch); assign
    a plain tensor instead, which goes through ``right_inverse``. ``deepnum.save`` refuses the
    module (its class cannot be imported back), as ``torch.save`` does: save its ``state_dict``.
    """

    def __setattr__(self, name, value):
        if isinstance(value, (Parameter, Buffer)) and is_parametrized(self, name):
            raise KeyError(f"attribute '{name}' already exists")
        cls.__setattr__(self, name, value)

    name = f"Parametrized{cls.__name__}"
    namespace = {
        "__setattr__": __setattr__,
        "__getstate__": _refuse_serialization,
        "__qualname__": f"register_parametrization.<locals>.{name}",
    }
    if not hasattr(cls, "__deepcopy__"):
        namespace["__deepcopy__"] = _deepcopy_parametrized
    return type(name, (cls,), namespace)


def _deepcopy_parametrized(self, memo):
    """A deep copy with its own generated class (so removing a parametrization from the copy
    leaves the original alone)."""
    replica = object.__new__(_parametrized_class(type_before_parametrizations(self)))
    memo[id(self)] = replica
    object.__setattr__(replica, "__dict__", copy.deepcopy(self.__dict__, memo))
    for tensor_name in replica.parametrizations:
        _inject_property(replica, tensor_name)
    return replica


def _inject_property(module: Module, tensor_name: str) -> None:
    """Make ``module.<tensor_name>`` evaluate its ParametrizationList on read and call its
    ``right_inverse`` on assignment."""

    def get_parametrized(self) -> Tensor:
        parametrization = self.parametrizations[tensor_name]
        if not _cache_depth:
            return parametrization()
        key = (id(self), tensor_name)
        if key not in _cache:
            _cache[key] = parametrization()
        return _cache[key]

    def set_original(self, value: Tensor) -> None:
        self.parametrizations[tensor_name].right_inverse(value)

    doc = f"The parametrized tensor '{tensor_name}'."
    setattr(type(module), tensor_name, property(get_parametrized, set_original, doc=doc))


# ------------------------------------------------------------------------ public API
def _check_stacked_parametrization(module: Module, tensor_name: str, parametrization) -> None:
    """A parametrization added to an already parametrized tensor, and its right_inverse,
    must map tensors of the current shape and dtype to the same shape and dtype."""
    current = getattr(module, tensor_name)
    value = parametrization(current)
    if not isinstance(value, Tensor):
        raise ValueError(f"A parametrization must return a tensor. Got {type(value).__name__}.")
    if value.dtype != current.dtype:
        raise ValueError(
            "Registering a parametrization may not change the dtype of the tensor, unless the "
            "`unsafe` flag is enabled.\n"
            f"module.{tensor_name}.dtype: {current.dtype}\n"
            f"parametrization(module.{tensor_name}).dtype: {value.dtype}"
        )
    if value.shape != current.shape:
        raise ValueError(
            "Registering a parametrization may not change the shape of the tensor, unless the "
            "`unsafe` flag is enabled.\n"
            f"module.{tensor_name}.shape: {current.shape}\n"
            f"parametrization(module.{tensor_name}).shape: {value.shape}"
        )
    if not hasattr(parametrization, "right_inverse"):
        return
    try:
        inverse = parametrization.right_inverse(value)
    except NotImplementedError:
        return
    if not isinstance(inverse, Tensor):
        raise ValueError(
            f"parametrization.right_inverse must return a tensor. Got: {type(inverse).__name__}"
        )
    if inverse.dtype != current.dtype:
        raise ValueError(
            "The tensor returned by parametrization.right_inverse must have the same dtype "
            f"as module.{tensor_name}, unless the `unsafe` flag is enabled.\n"
            f"module.{tensor_name}.dtype: {current.dtype}\n"
            f"returned dtype: {inverse.dtype}"
        )
    if inverse.shape != current.shape:
        raise ValueError(
            "The tensor returned by parametrization.right_inverse must have the same shape "
            f"as module.{tensor_name}, unless the `unsafe` flag is enabled.\n"
            f"module.{tensor_name}.shape: {current.shape}\n"
            f"returned shape: {inverse.shape}"
        )


def register_parametrization(module: Module, tensor_name: str, parametrization: Module, *,
                             unsafe: bool = False) -> Module:
    """Make ``module.<tensor_name>`` the output of ``parametrization`` on an unconstrained tensor.

    The first parametrization of a tensor moves the parameter or buffer to
    ``module.parametrizations.<tensor_name>.original`` (after ``right_inverse``, if the
    parametrization defines it) and turns ``module.<tensor_name>`` into a property computing
    ``parametrization(original)``; further parametrizations are applied after the earlier
    ones. The parametrization is set to the module's training mode. See the module docstring
    for ``right_inverse`` and ``original0, original1, ...``.

    Args:
        module: the module that owns the tensor.
        tensor_name: name of a parameter, buffer or already parametrized tensor of ``module``.
        parametrization: a ``Module`` whose ``forward`` maps the original tensor(s) to the
            parametrized one; it may define ``right_inverse``.
        unsafe: allow the parametrization to change the shape or dtype of the tensor, and skip
            the consistency checks (which otherwise call ``forward`` and ``right_inverse``
            once). Default: ``False``.

    Returns:
        ``module``, now of class ``Parametrized<ClassName>``.

    Raises:
        ValueError: if ``module`` has no parameter, buffer or parametrized tensor named
            ``tensor_name``, or (without ``unsafe``) if the parametrization changes its shape
            or dtype.

    Examples:
        >>> import deepnum, deepnum.nn as nn
        >>> class Symmetric(nn.Module):
        ...     def forward(self, X):
        ...         return X.triu() + X.triu(1).T
        ...     def right_inverse(self, A):
        ...         return A.triu()
        >>> m = register_parametrization(nn.Linear(3, 3), "weight", Symmetric())
        >>> type(m).__name__
        'ParametrizedLinear'
        >>> bool((m.weight == m.weight.T).all())
        True
        >>> list(m.state_dict())
        ['bias', 'parametrizations.weight.original']
        >>> A = deepnum.tensor([[1., 2., 3.], [2., 4., 5.], [3., 5., 6.]])
        >>> m.weight = A  # stored as original = right_inverse(A)
        >>> bool((m.weight == A).all())
        True
    """
    parametrization.train(module.training)
    if is_parametrized(module, tensor_name):
        if not unsafe:
            _check_stacked_parametrization(module, tensor_name, parametrization)
        parametrizations = module.parametrizations[tensor_name]
        parametrizations.append(parametrization)
        parametrizations.unsafe |= unsafe
    elif tensor_name in module._parameters or tensor_name in module._buffers:
        original = getattr(module, tensor_name)
        parametrizations = ParametrizationList([parametrization], original, unsafe=unsafe)
        delattr(module, tensor_name)
        if not is_parametrized(module):
            module.__class__ = _parametrized_class(type(module))
            module.parametrizations = ModuleDict()
        _inject_property(module, tensor_name)
        module.parametrizations[tensor_name] = parametrizations
    else:
        raise ValueError(
            f"Module '{module}' does not have a parameter, a buffer, or a "
            f"parametrized element with name '{tensor_name}'"
        )
    return module


def is_parametrized(module: Module, tensor_name: str | None = None) -> bool:
    """Whether ``module.<tensor_name>`` is parametrized (any tensor of ``module`` if None)."""
    parametrizations = getattr(module, "parametrizations", None)
    if not isinstance(parametrizations, ModuleDict):
        return False
    if tensor_name is None:
        return len(parametrizations) > 0
    return tensor_name in parametrizations


def remove_parametrizations(module: Module, tensor_name: str,
                            leave_parametrized: bool = True) -> Module:
    """Undo the parametrizations of ``module.<tensor_name>``; it becomes a plain tensor again.

    With ``leave_parametrized=True`` the tensor keeps its current parametrized value: when
    there is a single ``original``, that same object receives the value (so optimisers holding
    it keep working), which requires the parametrization not to change the dtype. With
    ``leave_parametrized=False`` the tensor becomes ``original`` itself, which needs a single
    original tensor. When no parametrized tensor remains, the module gets its class back.

    Raises:
        ValueError: if ``module.<tensor_name>`` is not parametrized, or if
            ``leave_parametrized=False`` and it is parametrized by several tensors.
    """
    if not is_parametrized(module, tensor_name):
        raise ValueError(f"Module {module} does not have a parametrization on {tensor_name}")
    parametrizations = module.parametrizations[tensor_name]
    if parametrizations.is_tensor:
        original = parametrizations.original
        if leave_parametrized:
            with no_grad():
                value = getattr(module, tensor_name)
            if value.dtype != original.dtype:
                raise RuntimeError(
                    f"remove_parametrizations: module.{tensor_name} has dtype {value.dtype} but "
                    f"its original tensor has dtype {original.dtype}; with "
                    "leave_parametrized=True the parametrization may not change the dtype "
                    "(use leave_parametrized=False)"
                )
            _set_data(original, value)
    elif leave_parametrized:
        value = getattr(module, tensor_name)  # with grad: it tells whether to make a Parameter
        original = Parameter(value.detach()) if value.requires_grad else value.detach()
    else:
        raise ValueError(
            "Cannot leave unparametrized (`leave_parametrized=False`) a tensor "
            "that is parametrized in terms of a sequence of tensors."
        )

    delattr(type(module), tensor_name)
    del module.parametrizations[tensor_name]
    _register_parameter_or_buffer(module, tensor_name, original)
    if not is_parametrized(module):
        delattr(module, "parametrizations")
        module.__class__ = type(module).__bases__[0]
    return module


def type_before_parametrizations(module: Module) -> type:
    """The class ``module`` had before it was parametrized (its class if it is not)."""
    if is_parametrized(module):
        return type(module).__bases__[0]
    return type(module)


def transfer_parametrizations_and_params(from_module: Module, to_module: Module,
                                         tensor_name: str | None = None) -> Module:
    """Register ``from_module``'s parametrizations (all, or those of ``tensor_name``) on
    ``to_module`` too, sharing the parametrization modules and the original tensors.

    A tensor that ``to_module`` lacks is first created as a ``Parameter`` holding
    ``from_module``'s current value. Does nothing if ``from_module`` is not parametrized.
    """
    if not is_parametrized(from_module):
        return to_module
    names = list(from_module.parametrizations) if tensor_name is None else [tensor_name]
    for name in names:
        source = from_module.parametrizations[name]
        if not hasattr(to_module, name):
            setattr(to_module, name, Parameter(getattr(from_module, name).detach()))
        for parametrization in source:
            register_parametrization(to_module, name, parametrization)
        target = to_module.parametrizations[name]
        for i, original in enumerate(source._originals()):
            setattr(target, "original" if source.is_tensor else f"original{i}", original)
    return to_module
