"""The ``horde`` command.

``main`` never lets a user's mistake escape as a traceback: scenario and option problems become
one sentence on stderr and exit code 2. Failures of the target are results, reported in the
summary and files; the exit code then follows ``--exit-code-on-error`` (Locust's rule).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from horde import __version__
from horde.exceptions import ScenarioError

USAGE = f"""horde {__version__}: load testing for web applications

usage:
  horde run SCENARIO.py [UserClass ...] [options]   run a load test (see 'horde run --help')
  horde --version

Locust-style invocations without 'run' work too: horde -f locustfile.py -H http://... --headless
"""


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(USAGE)
        return 0
    if args[0] in ("-V", "--version", "version"):
        print(f"horde {__version__}")
        return 0
    if args[0] == "run":
        args = args[1:]
    try:
        return _run(args)
    except ScenarioError as exc:
        print(f"horde: error: {exc}", file=sys.stderr)
        return 2


def _run(args: list[str]) -> int:
    from horde.options import parse_run_options

    options = parse_run_options(args)
    logging.basicConfig(
        level=getattr(logging, options.loglevel),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from horde.runner.session import prepare_environment, run_session

    environment = prepare_environment(options)
    return run_session(environment, options)


def entry_point() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry_point()
