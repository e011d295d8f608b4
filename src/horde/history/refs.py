"""Names for runs, as users type them: ``12`` (or ``#12``), a tag, ``last``, ``last~N``.

``last`` is the most recent run and ``last~1`` the one before it; within a scope (a scenario
and a host: ``horde run --baseline last`` means the last earlier run of the same test), only
runs of that scope count. A tag wins over a number only when written as the tag is: a tag
named ``12`` would shadow run #12, so numbers are always run ids.
"""

from __future__ import annotations

import re

from horde.history.store import HistoryError, HistoryStore, describe_location

__all__ = ["resolve_ref", "valid_tag"]

_LAST = re.compile(r"^last(?:~(\d+))?$")
_ID = re.compile(r"^#?(\d+)$")


def valid_tag(name: str) -> str:
    """A tag name, or ``ValueError``: not a number or ``last`` (those mean runs already)."""
    name = name.strip()
    if not name:
        raise ValueError("a tag needs a name")
    if _ID.match(name) or _LAST.match(name):
        raise ValueError(f"{name!r} cannot be a tag: numbers and last~N already name runs")
    if len(name) > 100 or any(c.isspace() for c in name):
        raise ValueError(f"{name!r} cannot be a tag: use up to 100 characters without spaces")
    return name


def resolve_ref(
    store: HistoryStore, ref: str, scenario: str | None = None, host: str | None = None
) -> int:
    """The id of the run ``ref`` names; ``HistoryError`` (one sentence) when there is none."""
    text = ref.strip()
    where = describe_location(store.location)
    found = _ID.match(text)
    if found:
        run_id = int(found.group(1))
        if not store.exists(run_id):
            raise HistoryError(f"no run #{run_id} in the history at {where}")
        return run_id
    last = _LAST.match(text)
    if last:
        n = int(last.group(1) or 0)
        latest = store.nth_latest(n, scenario, host)
        if latest is None:
            scope = f" of {scenario} on {host}" if scenario else ""
            raise HistoryError(
                f"no run {text}{scope} in the history at {where} (see 'horde history')"
            )
        return latest
    tagged = store.tagged(text)
    if tagged is None:
        raise HistoryError(
            f"no run or tag {text!r} in the history at {where} (see 'horde history')"
        )
    return tagged
