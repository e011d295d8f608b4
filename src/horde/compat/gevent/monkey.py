"""gevent.monkey under horde: the patching is horde's own and already done, so every
``patch_*`` call succeeds without doing anything, and ``get_original`` returns what horde
replaced (the blocking ``time.sleep``, the original ``socket.socket``...)."""

from __future__ import annotations

import importlib
from typing import Any

from horde.compat import patches

__all__ = [
    "get_original",
    "is_anything_patched",
    "is_module_patched",
    "is_object_patched",
    "patch_all",
    "patch_dns",
    "patch_os",
    "patch_select",
    "patch_signal",
    "patch_socket",
    "patch_ssl",
    "patch_subprocess",
    "patch_sys",
    "patch_thread",
    "patch_time",
]

# What horde makes cooperative, by module (see horde.compat.patches).
COOPERATIVE_MODULES = frozenset(("socket", "ssl", "time", "select", "selectors"))


def patch_all(*args: Any, **kwargs: Any) -> bool:
    return True


def _already_done(*args: Any, **kwargs: Any) -> None:
    return None


patch_socket = patch_ssl = patch_time = patch_select = patch_dns = _already_done
patch_thread = patch_os = patch_subprocess = patch_sys = patch_signal = _already_done


def is_module_patched(mod_name: str) -> bool:
    return patches.applied() and mod_name in COOPERATIVE_MODULES


def is_anything_patched() -> bool:
    return patches.applied()


def is_object_patched(mod_name: str, item_name: str) -> bool:
    module = importlib.import_module(mod_name)
    return patches.original(module, item_name) is not getattr(module, item_name, None)


def get_original(mod_name: str, item_name: str | list[str] | tuple[str, ...]) -> Any:
    """The object(s) ``mod_name.item_name`` held before horde's patches."""
    module = importlib.import_module(mod_name)
    if isinstance(item_name, str):
        return patches.original(module, item_name)
    return [patches.original(module, name) for name in item_name]
