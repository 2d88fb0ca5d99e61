"""Object trees to JSON plus a list of arrays, and back: the data model of ``deepnum.save``.

Nothing here ever runs code from a file. An object becomes a JSON tree whose leaves are
plain JSON values (``None``, bools, ints, floats, strings) or tagged nodes such as
``{"$": "tensor", "array": 3, "requires_grad": true}``, where ``3`` indexes the list of
NumPy arrays stored next to the tree. Container types are kept (``list``, ``tuple``,
``dict``, ``OrderedDict``, ``set``) and so are dict key types (an optimizer's ``state`` is
keyed by ints). An object seen twice (tied weights, a shared sub-module) is stored once and
comes back as one object.

Whole modules (and other plain objects) are stored as a class path and their attributes.
Loading rebuilds only classes and functions whose module is deepnum's own (``deepnum.*``)
or that the caller allowed with ``safe_globals([...])`` / ``add_safe_globals([...])``;
objects are made with ``object.__new__`` and their ``__dict__`` restored, so no
``__init__`` or other user code runs. Forward hooks are not saved.
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import pickle
import re
import types
from collections import OrderedDict, defaultdict

import numpy as np

from deepnum.tensor import Tensor

__all__ = [
    "UnpicklingError", "safe_globals", "add_safe_globals", "get_safe_globals",
    "clear_safe_globals", "encode", "decode",
]

_SAFE_GLOBALS: list = []
_DICT_TAGS = {dict: "dict", OrderedDict: "odict", defaultdict: "defaultdict"}
_HOOK_ATTRIBUTE = re.compile(r"^_.*hooks$")


class UnpicklingError(pickle.UnpicklingError):
    """A file names a class or function that may not be rebuilt.

    A subclass of ``pickle.UnpicklingError`` only so that code written for PyTorch's
    ``weights_only`` refusal catches it too; nothing is ever unpickled.
    """


def add_safe_globals(safe_globals) -> None:
    """Allow ``load`` to rebuild these classes (and refer to these functions)."""
    for obj in safe_globals:
        if obj not in _SAFE_GLOBALS:
            _SAFE_GLOBALS.append(obj)


def get_safe_globals() -> list:
    """The classes and functions allowed by ``add_safe_globals`` / ``safe_globals``."""
    return list(_SAFE_GLOBALS)


def clear_safe_globals() -> None:
    _SAFE_GLOBALS.clear()


@contextlib.contextmanager
def safe_globals(safe_globals):
    """Context manager: allow these classes and functions inside the ``with`` block only.

    Examples:
        >>> import deepnum
        >>> with deepnum.serialization.safe_globals([deepnum.nn.Linear]):
        ...     pass
    """
    added = [obj for obj in safe_globals if obj not in _SAFE_GLOBALS]
    _SAFE_GLOBALS.extend(added)
    try:
        yield
    finally:
        for obj in added:
            _SAFE_GLOBALS.remove(obj)


def _path(obj) -> str:
    return f"{obj.__module__}.{obj.__qualname__}"


def _is_deepnum(module_name: str) -> bool:
    return module_name == "deepnum" or module_name.startswith("deepnum.")


# plain data types, e.g. a defaultdict's factory: naming them runs no code
_BUILTIN_GLOBALS = [dict, list, set, frozenset, tuple, int, float, complex, str, bytes, bool,
                    OrderedDict]


def _resolve(path: str, module_name: str, qualname: str, what: str):
    """The class or function named by a file, if allowed; never imports a foreign module."""
    for obj in _BUILTIN_GLOBALS + _SAFE_GLOBALS:
        if (getattr(obj, "__module__", None) == module_name
                and getattr(obj, "__qualname__", None) == qualname):
            return obj
    if _is_deepnum(module_name) and "<" not in qualname:
        try:
            obj = importlib.import_module(module_name)
            for part in qualname.split("."):
                obj = getattr(obj, part)
        except (ImportError, AttributeError):
            obj = None
        # the name must be the object's own: no reaching foreign objects through imports
        if (obj is not None and getattr(obj, "__module__", None) == module_name
                and getattr(obj, "__qualname__", None) == qualname):
            return obj
        raise UnpicklingError(
            f"deepnum.load: the file refers to {what} '{path}', which does not exist in this "
            "version of deepnum"
        )
    raise UnpicklingError(
        f"deepnum.load: the file contains an object of {what} '{path}', which is not one of "
        f"deepnum's own and is not allowed. If you trust this file, import the {what} and "
        f"allow it: `with deepnum.serialization.safe_globals([{qualname.split('.')[-1]}]): "
        f"deepnum.load(...)` (or deepnum.serialization.add_safe_globals([...])). Saving the "
        "model's state_dict() instead avoids the question."
    )


# --------------------------------------------------------------------------- encoding
class _Encoder:
    def __init__(self) -> None:
        self.arrays: list[np.ndarray] = []
        self.memo: dict[int, int] = {}
        self.alive: list = []  # keeps encoded objects alive so that their ids stay unique
        self.next_ref = 0

    def _remember(self, obj) -> int:
        ref = self.next_ref
        self.next_ref += 1
        self.memo[id(obj)] = ref
        self.alive.append(obj)
        return ref

    def array(self, a: np.ndarray) -> int:
        if a.dtype.hasobject:
            raise TypeError(
                "deepnum.save: NumPy arrays of Python objects (dtype=object) cannot be saved"
            )
        self.arrays.append(a)
        return len(self.arrays) - 1

    def encode(self, obj, where: str):
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if type(obj) is int or type(obj) is float:
            return obj
        if id(obj) in self.memo:
            return {"$": "ref", "id": self.memo[id(obj)]}
        if isinstance(obj, Tensor):
            return self.tensor(obj)
        if isinstance(obj, np.ndarray):
            return {"$": "ndarray", "id": self._remember(obj), "array": self.array(obj)}
        if isinstance(obj, np.generic):
            return {"$": "npscalar", "array": self.array(np.asarray(obj))}
        if isinstance(obj, np.dtype):
            return {"$": "dtype", "name": obj.str if obj.fields is None else str(obj)}
        if isinstance(obj, complex):
            return {"$": "complex", "real": obj.real, "imag": obj.imag}
        if isinstance(obj, (bytes, bytearray)):
            return {"$": type(obj).__name__, "b64": base64.b64encode(bytes(obj)).decode("ascii")}
        if type(obj) in (list, tuple, set, frozenset):
            items = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else obj
            return {"$": type(obj).__name__,
                    "items": [self.encode(v, f"{where}[{i}]") for i, v in enumerate(items)]}
        if type(obj) in (dict, OrderedDict, defaultdict):
            node = {"$": _DICT_TAGS[type(obj)],
                    "items": [[self.key(k, where), self.encode(v, f"{where}[{k!r}]")]
                              for k, v in obj.items()]}
            if type(obj) is defaultdict:
                node["factory"] = self.encode(obj.default_factory, f"{where}.default_factory")
            return node
        if isinstance(obj, (type, types.FunctionType, types.BuiltinFunctionType)):
            return self.global_ref(obj, where)
        return self.instance(obj, where)

    def key(self, k, where):
        if k is None or isinstance(k, (bool, str, int, float, np.generic, Tensor)):
            return self.encode(k, where)  # tensors hash by identity: kept shared, they still match
        if isinstance(k, tuple):
            return {"$": "tuple", "items": [self.key(v, where) for v in k]}
        raise TypeError(
            f"deepnum.save: dict key {k!r} of type {type(k).__name__} at {where} cannot be saved"
        )

    def tensor(self, t: Tensor):
        node = {"$": "tensor", "id": self._remember(t), "array": self.array(t.array),
                "requires_grad": bool(t.requires_grad)}
        if type(t) is not Tensor:
            cls = type(t)
            node.update(
                {"class": _path(cls), "module": cls.__module__, "qualname": cls.__qualname__}
            )
        return node

    def global_ref(self, obj, where):
        qualname = getattr(obj, "__qualname__", "")
        if "<" in qualname or not getattr(obj, "__module__", None):
            raise TypeError(
                f"deepnum.save: cannot save {obj!r} at {where}: lambdas and local functions or "
                "classes have no importable name"
            )
        return {"$": "global", "path": _path(obj), "module": obj.__module__, "qualname": qualname}

    def instance(self, obj, where):
        cls = type(obj)
        state = getattr(obj, "__dict__", None)
        slots = [s for c in cls.__mro__ for s in getattr(c, "__slots__", ())
                 if s not in ("__dict__", "__weakref__")]
        if state is None and not slots or "<" in cls.__qualname__:
            raise TypeError(
                f"deepnum.save: cannot save object of type '{_path(cls)}' at {where}: "
                "supported are tensors, NumPy arrays, Python scalars, str, bytes, None, lists, "
                "tuples, sets, dicts and objects (such as modules) whose attributes are all of these"
            )
        node = {"$": "object", "id": self._remember(obj), "class": _path(cls),
                "module": cls.__module__, "qualname": cls.__qualname__}
        attrs = []
        for name, value in (state or {}).items():
            if _HOOK_ATTRIBUTE.match(name) and isinstance(value, dict):
                value = type(value)()  # hooks are code: not saved
            attrs.append([name, self.encode(value, f"{where}.{name}")])
        node["dict"] = attrs
        node["slots"] = [[s, self.encode(getattr(obj, s), f"{where}.{s}")]
                         for s in slots if hasattr(obj, s)]
        return node


def encode(obj) -> tuple:
    """``(json_tree, arrays)`` for ``obj``; raises TypeError naming anything unsupported."""
    enc = _Encoder()
    return enc.encode(obj, "obj"), enc.arrays


# --------------------------------------------------------------------------- decoding
class _Decoder:
    def __init__(self, arrays) -> None:
        self.arrays = arrays
        self.memo: dict[int, object] = {}

    def decode(self, node):
        if not isinstance(node, dict):
            return node
        tag = node["$"]
        method = getattr(self, "_" + tag, None)
        if method is None:
            raise ValueError(f"deepnum.load: unknown node type {tag!r} in file")
        return method(node)

    def _ref(self, node):
        return self.memo[node["id"]]

    def _tensor(self, node):
        cls = Tensor
        if "class" in node:
            cls = _resolve(node["class"], node["module"], node["qualname"], "class")
            if not (isinstance(cls, type) and issubclass(cls, Tensor)):
                raise UnpicklingError(f"deepnum.load: '{node['class']}' is not a Tensor class")
        t = cls._make(self.arrays[node["array"]], bool(node["requires_grad"]), None, 0)
        self.memo[node["id"]] = t
        return t

    def _ndarray(self, node):
        a = self.arrays[node["array"]]
        self.memo[node["id"]] = a
        return a

    def _npscalar(self, node):
        return self.arrays[node["array"]][()]

    def _dtype(self, node):
        return np.dtype(node["name"])

    def _complex(self, node):
        return complex(node["real"], node["imag"])

    def _bytes(self, node):
        return base64.b64decode(node["b64"])

    def _bytearray(self, node):
        return bytearray(base64.b64decode(node["b64"]))

    def _list(self, node):
        return [self.decode(v) for v in node["items"]]

    def _tuple(self, node):
        return tuple(self.decode(v) for v in node["items"])

    def _set(self, node):
        return {self.decode(v) for v in node["items"]}

    def _frozenset(self, node):
        return frozenset(self.decode(v) for v in node["items"])

    def _dict(self, node):
        return {self.decode(k): self.decode(v) for k, v in node["items"]}

    def _odict(self, node):
        return OrderedDict((self.decode(k), self.decode(v)) for k, v in node["items"])

    def _defaultdict(self, node):
        factory = self.decode(node["factory"])
        if factory is not None and not callable(factory):
            raise UnpicklingError("deepnum.load: a defaultdict's factory is not callable")
        return defaultdict(factory, ((self.decode(k), self.decode(v)) for k, v in node["items"]))

    def _global(self, node):
        return _resolve(node["path"], node["module"], node["qualname"], "function or class")

    def _object(self, node):
        cls = _resolve(node["class"], node["module"], node["qualname"], "class")
        if not isinstance(cls, type):
            raise UnpicklingError(f"deepnum.load: '{node['class']}' is not a class")
        obj = object.__new__(cls)
        self.memo[node["id"]] = obj  # before the attributes: they may refer back to it
        # decoded in the order they were encoded, so that references resolve
        state = [(name, self.decode(value)) for name, value in node["dict"]]
        for name, value in node["slots"]:
            object.__setattr__(obj, name, self.decode(value))
        if state:
            obj.__dict__.update(state)
        return obj


def decode(tree, arrays: list):
    """Rebuild the object described by ``tree`` (from ``encode``) over ``arrays``."""
    return _Decoder(arrays).decode(tree)
