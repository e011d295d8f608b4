"""`make demo`: the seed article's experiment, end to end, in one command.

Starts the demo Django application (examples/django_app) under gunicorn on a free port of
127.0.0.1 (or --port, which must be free), creates its accounts, runs examples/django_seed.py
against it with horde, writes the results under runs/<timestamp>/, stops the application and
says where the files are.

    python examples/demo.py                       # 50 users, 10/s, 30 s, headless
    python examples/demo.py -u 1000 -r 500 -t 60s # the article's second experiment
    python examples/demo.py --shared-account      # everyone logs in as user1: login failures
    python examples/demo.py --web                 # drive it from the web UI on :8089
    python examples/demo.py --capacity "p95<500ms,fail_ratio<1%"
                                                  # how much can the app take? (horde capacity)

Any other option is passed to `horde run`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE / "django_app"))

from serve import DemoServer, PortTaken, check_port_free, free_port  # noqa: E402 - on the path just above

from horde.cli import main as horde_main  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--port",
        type=int,
        help="port of the demo app (default: a free one; a port already taken is an error)",
    )
    parser.add_argument("--web", action="store_true", help="use the web UI instead of --headless")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--accounts", type=int, default=1000, help="demo accounts to create")
    parser.add_argument(
        "--capacity",
        metavar="SLO",
        help="search the app's capacity within this SLO instead of one run (horde capacity)",
    )
    known, passthrough = parser.parse_known_args(argv)
    port = known.port if known.port is not None else free_port()
    try:
        check_port_free("127.0.0.1", port)
    except PortTaken as exc:
        print(f"demo: error: {exc}", file=sys.stderr)
        return 2

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    run_dir = ROOT / "runs" / stamp
    run_dir.mkdir(parents=True, exist_ok=True)

    def given(*flags: str) -> bool:
        return any(arg == f or arg.startswith(f + "=") for arg in passthrough for f in flags)

    args = [str(HERE / "django_seed.py")]
    if known.capacity:
        # The open model, from 5 iterations/s, with short steps so that the demo takes minutes.
        command = "capacity"
        args += ["--slo", known.capacity]
        if not given("--arrival-rate", "-u", "--users"):
            args += ["--arrival-rate", "5/s"]
        if not given("--step-time"):
            args += ["--step-time", "10s"]
        if not given("--settle-time"):
            args += ["--settle-time", "3s"]
    else:
        command = "run"
    if not known.capacity and not given("-u", "--users"):
        args += ["-u", "50"]
    if not given("-r", "--spawn-rate") and not known.capacity:
        args += ["-r", "10"]
    if not given("-t", "--run-time") and not known.web and not known.capacity:
        args += ["-t", "30s"]
    if not known.web and not known.capacity:
        args.append("--headless")
    if not given("--exit-code-on-error"):
        # Failures of the target are the demo's data (see --shared-account), not a demo failure.
        args += ["--exit-code-on-error", "0"]
    args += ["--accounts", str(known.accounts)]
    args += ["--csv", str(run_dir / "demo"), "--json", str(run_dir / "demo.json")]
    args += ["--html", str(run_dir / "report.html")]
    args += passthrough

    print(f"starting the demo app on 127.0.0.1:{port} (data in {run_dir})", flush=True)
    try:
        with DemoServer(
            port=port,
            data_dir=run_dir / "app-data",
            workers=known.workers,
            users=known.accounts,
        ) as server:
            print(f"demo app ready at {server.url}; running: horde {command} {' '.join(args)}")
            code = horde_main([command, *args, "-H", server.url])
    except PortTaken as exc:  # taken between the check and gunicorn's start
        print(f"demo: error: {exc}", file=sys.stderr)
        return 2
    files = ", ".join(sorted(p.name for p in run_dir.iterdir() if p.is_file()))
    print(f"\nresults in {run_dir.relative_to(ROOT)}/: {files}")
    return code


if __name__ == "__main__":
    raise SystemExit(main())
