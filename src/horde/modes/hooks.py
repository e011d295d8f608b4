"""Events every mode fires the same way: ``init`` once the environment, the runner and (when
there is one) the web UI are made, and ``quit`` with the exit code, last of all."""

from __future__ import annotations

from typing import Any

from horde.runner.environment import Environment
from horde.runner.hooks import fire_and_wait

__all__ = ["fire_init", "fire_quit"]


async def fire_init(environment: Environment, runner: Any) -> None:
    """Locust's ``init``: ``environment``, ``runner``, ``web_ui`` (None when headless), fired
    in a greenlet (a listener may fetch data or sleep: ``horde.runner.hooks``)."""
    await fire_and_wait(
        environment.events.init,
        environment=environment,
        runner=runner,
        web_ui=environment.web_ui,
    )


def fire_quit(environment: Environment, exit_code: int) -> int:
    """Locust's ``quit``: the exit code, after everything else; returns it."""
    environment.events.quit.fire(exit_code=exit_code)
    return exit_code
