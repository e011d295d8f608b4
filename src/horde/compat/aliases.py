"""``import locust`` and ``import gevent`` under horde: modules made from tables of names.

A meta-path finder, first on ``sys.meta_path`` while horde runs a scenario, answers every import
of ``locust``, ``locust.*``, ``gevent`` and ``gevent.*`` before the real packages can be found,
so a locustfile gets horde's objects even where Locust and gevent are installed too (the real
Locust is never imported: importing it would monkey-patch the process with gevent). Each module
it makes resolves a name the first time it is read, from ``locust_api/names.py`` for Locust and
from horde's gevent shim for gevent. A submodule Locust has but horde does not provide (say
``locust.contrib.mqtt``) fails to import with a sentence saying so.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from collections.abc import Sequence
from typing import Any

__all__ = ["AliasFinder", "AliasModule", "install_finder", "remove_finder"]

G = "horde.compat.gevent"
# gevent module -> the module its names come from.
GEVENT_MODULES: dict[str, str] = {
    "gevent": G,
    "gevent.greenlet": f"{G}.greenlets",
    "gevent.hub": f"{G}.greenlets",
    "gevent.timeout": f"{G}.timeouts",
    "gevent.lock": f"{G}.lock",
    "gevent.event": f"{G}.event",
    "gevent.pool": f"{G}.pool",
    "gevent.queue": f"{G}.queue",
    "gevent.monkey": f"{G}.monkey",
    "gevent.exceptions": f"{G}.exceptions",
    # The standard library's modules, which horde makes cooperative.
    "gevent.socket": "socket",
    "gevent.ssl": "ssl",
    "gevent.select": "select",
    "gevent.selectors": "selectors",
}
GEVENT_NOT_PROVIDED = (
    "horde runs gevent-style code on its own event loop and provides gevent's greenlets, "
    "sleep, Timeout, gevent.lock, .event, .pool, .queue, .monkey, .socket, .ssl and .select; "
    "use a thread or an asyncio task for the rest (see docs/migrating-from-locust.md)"
)
# Flask and Flask-Login, as far as locustfiles use them to extend Locust's web UI: horde's web
# UI is aiohttp, and these facades serve the same calls (horde.web.flask_compat).
FACADES: dict[str, str] = {
    "flask": "horde.web.flask_compat",
    "flask_login": "horde.web.flask_login_compat",
}
FACADE_MISSING = (
    "{name} is not provided by horde's Flask facade: horde's web UI is aiohttp, and it serves "
    "the Flask calls locustfiles use to extend Locust's UI (routes, blueprints, request, "
    "jsonify, make_response, redirect, url_for, session, templates); see "
    "docs/migrating-from-locust.md"
)
LOCUST_NOT_PROVIDED = (
    "horde provides Locust's API for locustfiles ({modules}), not the rest of the package; "
    "see docs/migrating-from-locust.md"
)


class AliasModule(types.ModuleType):
    """A module whose names are resolved from a table the first time they are read."""

    _horde_table: dict[str, Any]
    _horde_forward: str | None
    _horde_missing: str | None

    def __getattr__(self, name: str) -> Any:
        table = self.__dict__.get("_horde_table", {})
        entry = table.get(name)
        qualified = f"{self.__name__}.{name}"
        if entry is None:
            forward = self.__dict__.get("_horde_forward")
            if forward is not None and not name.startswith("__"):
                return getattr(importlib.import_module(forward), name)
            missing = self.__dict__.get("_horde_missing")
            if missing is not None and not name.startswith("__"):
                raise AttributeError(missing.format(name=qualified))
            raise AttributeError(f"module {self.__name__!r} has no attribute {name!r}")
        value = entry.resolve(qualified)
        setattr(self, name, value)
        return value

    def __dir__(self) -> list[str]:
        return sorted(set(super().__dir__()) | set(self.__dict__.get("_horde_table", {})))


class _AliasLoader(importlib.abc.Loader):
    """The loader of an alias module (importlib's protocol: create_module, exec_module)."""

    def __init__(
        self,
        table: dict[str, Any],
        forward: str | None,
        all_names: Sequence[str],
        missing: str | None = None,
    ):
        self.table = table
        self.forward = forward
        self.all_names = all_names
        self.missing = missing

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = AliasModule(spec.name)
        module._horde_table = self.table
        module._horde_forward = self.forward
        module._horde_missing = self.missing
        module.__all__ = list(self.all_names)  # type: ignore[attr-defined]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        pass


class AliasFinder:
    """Serves ``locust``/``gevent`` and their submodules from horde's tables (a meta-path
    finder; the tables are imported when a scenario first imports one of these names)."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: types.ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        top = fullname.partition(".")[0]
        if top == "locust":
            return self._locust_spec(fullname)
        if top == "gevent":
            return self._gevent_spec(fullname)
        if top in FACADES:
            return self._facade_spec(fullname, top)
        return None

    @staticmethod
    def _spec(fullname: str, loader: _AliasLoader, package: bool) -> importlib.machinery.ModuleSpec:
        spec = importlib.machinery.ModuleSpec(fullname, loader, is_package=package)
        spec.origin = "horde"
        return spec

    def _locust_spec(self, fullname: str) -> importlib.machinery.ModuleSpec:
        from horde.compat.locust_api.entries import Submodule
        from horde.compat.locust_api.names import ALL as LOCUST_ALL
        from horde.compat.locust_api.names import MODULES as LOCUST_MODULES

        table = LOCUST_MODULES.get(fullname)
        if table is None:
            modules = ", ".join(sorted(LOCUST_MODULES))
            raise ModuleNotFoundError(
                f"{fullname} is not provided by horde: "
                + LOCUST_NOT_PROVIDED.format(modules=modules),
                name=fullname,
            )
        package = any(isinstance(entry, Submodule) for entry in table.values())
        all_names = LOCUST_ALL.get(fullname) or sorted(table)
        return self._spec(fullname, _AliasLoader(table, None, all_names), package)

    def _facade_spec(self, fullname: str, top: str) -> importlib.machinery.ModuleSpec:
        from horde.compat.locust_api.entries import Alias

        if fullname != top:
            raise ModuleNotFoundError(FACADE_MISSING.format(name=fullname), name=fullname)
        source = FACADES[top]
        names = importlib.import_module(source).__all__
        table: dict[str, Any] = {name: Alias(f"{source}:{name}") for name in names}
        loader = _AliasLoader(table, None, names, FACADE_MISSING)
        return self._spec(fullname, loader, False)

    def _gevent_spec(self, fullname: str) -> importlib.machinery.ModuleSpec:
        from horde.compat.locust_api.entries import Alias, Submodule

        source = GEVENT_MODULES.get(fullname)
        if source is None:
            raise ModuleNotFoundError(
                f"{fullname} is not provided by horde: {GEVENT_NOT_PROVIDED}", name=fullname
            )
        if source.startswith(G):
            names = importlib.import_module(source).__all__
            table: dict[str, Any] = {name: Alias(f"{source}:{name}") for name in names}
            forward = None
        else:
            names = [n for n in dir(importlib.import_module(source)) if not n.startswith("_")]
            table, forward = {}, source
        if fullname == "gevent":
            for sub in GEVENT_MODULES:
                if sub != "gevent":
                    table[sub.partition(".")[2]] = Submodule(sub)
        return self._spec(fullname, _AliasLoader(table, forward, names), fullname == "gevent")


_finder = AliasFinder()
_ALIASED = ("locust", "gevent", *FACADES)
# Real locust/gevent modules imported before the finder was installed, set aside meanwhile.
_set_aside: dict[str, types.ModuleType] = {}


def _aliased(name: str) -> bool:
    return name.partition(".")[0] in _ALIASED


def install_finder() -> None:
    """Put the finder first on ``sys.meta_path`` (once). Real ``locust``/``gevent`` modules
    already imported are set aside, so that the scenario's imports reach the finder."""
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    for name, module in list(sys.modules.items()):
        if _aliased(name) and not isinstance(module, AliasModule):
            _set_aside[name] = sys.modules.pop(name)


def remove_finder() -> None:
    """Take the finder out, forget the modules it made and put back what was set aside."""
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)
    for name, module in list(sys.modules.items()):
        if isinstance(module, AliasModule):
            del sys.modules[name]
    sys.modules.update(_set_aside)
    _set_aside.clear()
