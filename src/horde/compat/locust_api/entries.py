"""What a name of an aliased module (``locust.*``, ``gevent.*``) stands for under horde.

The tables (``locust_api/names.py``, ``aliases.py``) are data: they name horde's objects by
their module path rather than importing them, so the compatibility layer stays low in horde's
layers and a locustfile only imports the parts of horde it uses.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Alias",
    "Gap",
    "Submodule",
    "UnsupportedLocustFeature",
    "Value",
    "missing_class",
    "missing_function",
]


class UnsupportedLocustFeature(NotImplementedError):
    """A Locust feature horde does not provide was used; the message says what to do."""


@dataclass(frozen=True)
class Alias:
    """The same object as ``module:attribute`` in horde (or the standard library)."""

    target: str

    def resolve(self, qualified_name: str) -> Any:
        module, _, attribute = self.target.partition(":")
        found = importlib.import_module(module)
        return getattr(found, attribute) if attribute else found


@dataclass(frozen=True)
class Value:
    """A constant, with Locust's value."""

    value: Any

    def resolve(self, qualified_name: str) -> Any:
        return self.value


@dataclass(frozen=True)
class Submodule:
    """A submodule, imported (through the alias finder) when first read as an attribute."""

    name: str

    def resolve(self, qualified_name: str) -> Any:
        return importlib.import_module(self.name)


@dataclass(frozen=True)
class Gap:
    """A Locust name horde does not provide: a stand-in that imports (so a locustfile that only
    names it, in a type hint or an ``if __name__ == "__main__"`` block, still runs) and raises
    ``UnsupportedLocustFeature`` with ``why`` when it is called, instantiated or subclassed."""

    kind: str  # "class" or "function"
    why: str

    def message(self, qualified_name: str) -> str:
        return f"{qualified_name} is not supported by horde: {self.why}"

    def resolve(self, qualified_name: str) -> Any:
        name = qualified_name.rpartition(".")[2]
        message = self.message(qualified_name)
        if self.kind == "class":
            return missing_class(name, qualified_name, message)
        return missing_function(name, qualified_name, message)


def missing_function(name: str, qualified_name: str, message: str) -> Any:
    def stand_in(*args: Any, **kwargs: Any) -> Any:
        raise UnsupportedLocustFeature(message)

    stand_in.__name__ = name
    stand_in.__qualname__ = name
    stand_in.__module__ = qualified_name.rpartition(".")[0]
    stand_in.__doc__ = message
    return stand_in


class _MissingClass(type):
    """Metaclass of stand-in classes: instantiating one raises its message."""

    _horde_message: str

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        raise UnsupportedLocustFeature(cls._horde_message)

    def __repr__(cls) -> str:
        return f"<unsupported Locust class {cls.__module__}.{cls.__qualname__}>"


def missing_class(name: str, qualified_name: str, message: str) -> Any:
    def refuse_subclass(cls: type, /, **kwargs: Any) -> None:
        raise UnsupportedLocustFeature(message)

    return _MissingClass(
        name,
        (),
        {
            "__module__": qualified_name.rpartition(".")[0],
            "__doc__": message,
            "__init_subclass__": classmethod(refuse_subclass),
            "_horde_message": message,
        },
    )
