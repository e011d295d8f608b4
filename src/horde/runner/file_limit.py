"""The open-file limit: raised as far as allowed at start, and checked against the users asked for.

Every simulated HTTP user holds a keep-alive connection, one file descriptor. Under the common
soft limit of 1,024, 989 of 2,000 users failed with "Too many open files", reported only as
failures. As Locust does, the soft limit is raised to the hard limit when horde starts (a
process may do so without privileges); when the users asked for still cannot fit, one sentence
says so before the load starts, with what to do.
"""

from __future__ import annotations

import math
import sys

from horde.scenario.shape import USERS
from horde.settings import Settings

__all__ = ["FDS_PER_USER", "RESERVED_FDS", "open_file_limit", "raise_open_file_limit", "warn"]

FDS_PER_USER = 1  # one keep-alive connection per user (per host it talks to)
# The interpreter, the loop, signals, logs, the web UI, ZeroMQ and the odd redirect to another
# host: what a process uses besides its users' connections.
RESERVED_FDS = 100
_FALLBACKS = (1_048_576, 65_536, 10_240)  # when the hard limit is "unlimited"


def open_file_limit() -> tuple[int, int] | None:
    """(soft, hard) limits on open files; None where the platform has none (Windows)."""
    try:
        import resource
    except ImportError:
        return None
    return resource.getrlimit(resource.RLIMIT_NOFILE)


def raise_open_file_limit() -> int | None:
    """Raise the soft limit to the hard one (or as high as allowed); the soft limit now."""
    limits = open_file_limit()
    if limits is None:
        return None
    import resource

    soft, hard = limits
    wanted = [hard] if hard != resource.RLIM_INFINITY else list(_FALLBACKS)
    for target in wanted:
        if soft != resource.RLIM_INFINITY and target <= soft:
            break
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            continue
        soft = target
        break
    return soft


def users_asked_for(options: Settings) -> int:
    """The most users one process of this run may hold at once (0 when unknown up front)."""
    if options.worker:
        return 0  # a worker is told by its master; the master checks for local workers
    stages = options.stages
    if options.arrival_rate is not None or (stages and stages[0] != USERS):
        peak = options.max_concurrency or 0  # else it grows with the rate
    elif stages:
        peak = max((int(s.target) for s in stages[1]), default=0)
    else:
        peak = int(options.users or 0)
    processes = options.processes or 0
    return math.ceil(peak / processes) if processes > 1 else peak


def fit_problem(users: int, soft: int | None) -> str | None:
    """The sentence to say when ``users`` cannot fit under ``soft`` open files, else None."""
    if soft is None or users <= 0:
        return None
    import resource

    if soft == resource.RLIM_INFINITY:
        return None
    needed = users * FDS_PER_USER + RESERVED_FDS
    if needed <= soft:
        return None
    fit = max(0, (soft - RESERVED_FDS) // FDS_PER_USER)
    return (
        f"{users} users need about {needed} open files, but this process may open only {soft} "
        f"(the hard limit): about {fit} users can connect, the others will fail with 'Too "
        f"many open files'; raise the limit (ulimit -n {needed}, or LimitNOFILE= for a "
        "service) or spread the users over --processes/workers"
    )


def warn(options: Settings) -> None:
    """Raise the limit; say in one sentence, before any load, if the users still cannot fit."""
    soft = raise_open_file_limit()
    problem = fit_problem(users_asked_for(options), soft)
    if problem is not None:
        print(f"horde: warning: {problem}", file=sys.stderr, flush=True)
