"""The ``horde`` command: read the command, the scenario and the settings, then run the mode
``horde.modes.compose`` builds from them. Nothing about running a test is decided here.

``main`` never lets a user's mistake escape as a traceback: scenario and option problems become
one sentence on stderr and exit code 2. Failures of the target are results, reported in the
summary and files; the exit code then follows ``--exit-code-on-error`` (Locust's rule).
"""

from __future__ import annotations

import difflib
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from horde.exceptions import ScenarioError
from horde.version import __version__

USAGE = f"""horde {__version__}: load testing for web applications

usage:
  horde run SCENARIO.py [UserClass ...] [options]   run a load test (see 'horde run --help')
  horde capacity SCENARIO.py --slo 'p95<300ms'      find the most load the target takes
                                                    within its SLO (see 'horde capacity --help')
  horde history                                     list saved runs; --tag, --show, --delete
  horde compare [BASELINE] [CANDIDATE]              did a run regress? (exit code 1 if so)
  horde exec SCRIPT.py [ARGS ...]                   run a Python script as 'python' would, with
                                                    Locust's API served by horde (a locustfile's
                                                    run_single_user(), Locust as a library)
  horde --version

Locust-style invocations without 'run' work too: horde -f locustfile.py -H http://... --headless
"""


COMMANDS = ("run", "capacity", "history", "compare", "exec", "help", "version")
# Usage errors exit with 2, as argparse, getopt-style tools and Locust's own argument errors do:
# a script can tell "you called me wrong" (2) from "the run found failures" (1).
USAGE_ERROR = 2


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args:  # no command: a usage error, so that a script that forgot one does not pass
        print(USAGE, file=sys.stderr)
        return USAGE_ERROR
    if args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    if args[0] in ("-V", "--version", "version"):
        print(f"horde {__version__}")
        return 0
    command = args[0]
    if command == "exec":
        return run_script(args[1:])
    capacity = command == "capacity"
    try:
        if command in ("history", "compare"):
            return _command(command, args[1:])
        if command in ("run", "capacity"):
            args = args[1:]
        else:
            check_command(args)
        return _run(args, capacity)
    except ScenarioError as exc:
        print(f"horde: error: {exc}", file=sys.stderr)
        return USAGE_ERROR


def check_command(args: Sequence[str]) -> None:
    """Without a command, the arguments must read as Locust's (``horde -f file.py ...``,
    ``horde file.py``): a first word that is neither an option nor a scenario is a command
    misspelt, named rather than taken for a user class (``horde rnu file.py``)."""
    first = args[0]
    if first.startswith("-") or first.endswith(".py") or Path(first).exists():
        return
    if any(a.split("=")[0] in ("-f", "--scenario", "--locustfile") for a in args):
        return  # Locust's `locust UserClass -f file.py`: a user class before the options
    close = difflib.get_close_matches(first, COMMANDS, n=1, cutoff=0.6)
    hint = f": did you mean '{close[0]}'?" if close else f" (commands: {', '.join(COMMANDS)})"
    raise ScenarioError(f"unknown command '{first}'{hint}")


def _command(name: str, args: list[str]) -> int:
    """``horde history`` and ``horde compare``: read the history, run no test."""
    if name == "history":
        from horde.commands.history import run_history

        return run_history(args)
    from horde.commands.compare import run_compare

    return run_compare(args)


def _run(args: list[str], capacity: bool = False) -> int:
    from horde.events import events
    from horde.options import find_scenario_argument, parse_run_options
    from horde.scenario.loader import load_scenario

    # Import the scenario first: it may add options through events.init_command_line_parser.
    named = find_scenario_argument(args)
    scenario = load_scenario(named) if named else None
    settings = parse_run_options(
        args, extend_parser=events.init_command_line_parser.fire, capacity=capacity
    )
    if scenario is None or Path(settings.scenario).resolve() != scenario.path.resolve():
        scenario = load_scenario(settings.scenario)
    logging.basicConfig(
        level=settings.loglevel,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from horde.modes.compose import compose

    return compose(settings, scenario, capacity=capacity).run()


def run_script(args: list[str]) -> int:
    """``horde exec SCRIPT.py [ARGS]``: the script runs as ``__main__`` with ``sys.argv`` as
    ``python SCRIPT.py ARGS`` gives it, after horde's compatibility layer is installed: its
    ``from locust import ...`` (and gevent, flask) get horde's, blocking calls in tasks are
    cooperative. For a locustfile's ``if __name__ == "__main__": run_single_user(...)`` block
    and for scripts that use Locust as a library (``Environment``, ``create_local_runner``)."""
    import runpy

    if not args or args[0] in ("-h", "--help"):
        print("usage: horde exec SCRIPT.py [ARGS ...]")
        return 0 if args else 2
    script = Path(args[0])
    if not script.is_file():
        print(f"horde: error: script not found: {args[0]}", file=sys.stderr)
        return 2
    from horde import compat

    compat.install()
    sys.argv = [str(script), *args[1:]]
    sys.path.insert(0, str(script.resolve().parent))
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exc:
        code = exc.code
        if code is None or isinstance(code, int):
            return code or 0
        print(code, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # As for 'python SCRIPT.py': the process ends by the signal (status -2 to its parent),
        # without a traceback of horde's own frames.
        import os
        import signal

        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
        return 130
    return 0


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
