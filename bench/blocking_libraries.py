"""A blocking-library scenario (requests) in horde and in Locust: requests per CPU-second.

    make bench-compare          # or: .venv/bin/python bench/blocking_libraries.py [--rounds 3]

The same locustfile (bench/scenarios/requests_users.py) runs unchanged under both tools: 50
users each calling GET / with a requests.Session, no wait, reporting each call through the
request event. It measures what it costs to run blocking code cooperatively: gevent's patched
standard library under Locust, horde.compat's on horde's event loop. The target is
bench/target_server.py pinned to CPU 0; each generator runs pinned to CPU 1 for the same time,
in interleaved rounds, billed the CPU time of its whole process tree (start-up included).
Requests are checked against the server's count.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path

from compare import csv_totals, pinned, run_measured
from doc import results_path, write_block
from serving import start_server

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SCENARIO = ROOT / "bench" / "scenarios" / "requests_users.py"
# horde runs blocking libraries at least this fraction of Locust's requests per CPU-second.
MIN_RATIO = 0.9


def served(url: str) -> int:
    with urllib.request.urlopen(f"{url}/__count", timeout=5) as response:
        return int(response.read())


def measure(tool: str, url: str, args: argparse.Namespace, workdir: Path, round_no: int) -> dict:
    prefix = workdir / f"{tool}-{round_no}"
    same_run = ["-H", url, "-u", str(args.users), "-r", "10000", "-t", f"{args.seconds}s",
                "--headless", "--only-summary", "--csv", str(prefix)]  # fmt: skip
    if tool == "horde":
        argv = [str(VENV_BIN / "horde"), "run", str(SCENARIO), *same_run]
    else:
        argv = [str(VENV_BIN / "locust"), "-f", str(SCENARIO), *same_run, "--loglevel", "ERROR"]
    before = served(url)
    cpu, wall, _, _ = run_measured(pinned(1, argv))
    requests, failures = csv_totals(prefix)
    seen = served(url) - before  # /__count itself is not counted
    if failures or requests == 0:
        raise SystemExit(f"{tool}: {failures} of {requests} requests failed; figures not valid")
    return {
        "requests": requests,
        "served": seen,
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "per_cpu_second": requests / cpu,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=50)
    args = parser.parse_args()
    tools = ["horde", "locust"]
    if not (VENV_BIN / "locust").exists():
        print("note: locust is not installed (make bench installs the bench group); skipped")
        tools = ["horde"]
    runs: dict[str, list[dict]] = {tool: [] for tool in tools}
    server, url = start_server("target_server.py", cpu=0)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for round_no in range(args.rounds):
                for tool in tools:
                    row = measure(tool, url, args, Path(tmp), round_no)
                    runs[tool].append(row)
                    print(f"round {round_no + 1} {tool:6s} {row['per_cpu_second']:>8,.0f} "
                          f"req/CPU-s ({row['requests']} requests, server saw {row['served']}, "
                          f"{row['cpu_seconds']:.2f} CPU-s)", flush=True)  # fmt: skip
    finally:
        server.terminate()
        server.wait(timeout=10)
    medians = {t: statistics.median(r["per_cpu_second"] for r in rs) for t, rs in runs.items()}
    lines = ["| generator | requests per CPU-second (median) | vs Locust | target |",
             "|---|---|---|---|"]  # fmt: skip
    base = medians.get("locust")
    for tool, value in medians.items():
        ratio = value / base if base else None
        target = ""
        if tool == "horde" and ratio is not None:
            target = f">= {MIN_RATIO:g}x Locust: {'PASS' if ratio >= MIN_RATIO else 'FAIL'}"
        shown = f"{ratio:.2f}x" if ratio is not None else "-"
        name = f"{tool} (bench/scenarios/requests_users.py)"
        lines.append(f"| {name} | {value:,.0f} | {shown} | {target} |")
    table = "\n".join(lines)
    print(table)
    command = " ".join(["bench/blocking_libraries.py", *sys.argv[1:]])
    out = results_path("blocking-libraries")
    out.write_text(json.dumps({"runs": runs, "medians": medians, "command": command}, indent=2))
    write_block(
        "blocking-libraries",
        "A blocking library in every user: requests (bench/blocking_libraries.py)",
        f"One locustfile run as written by both tools: {args.users} users, each calling GET / "
        f"through its own requests.Session with no wait and reporting through the request "
        f"event; gevent makes requests cooperative under Locust, horde.compat under horde. "
        f"bench/target_server.py on CPU 0, each generator on CPU 1, {args.seconds} s per run, "
        f"{args.rounds} interleaved rounds, CPU of the whole process tree. Most of a request's "
        f"cost here is the requests library's own, the same in both tools.\n\n{table}",
        command,
    )
    print(f"wrote {out.relative_to(ROOT)} and docs/performance.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
