"""horde against Locust and wrk: requests per CPU-second of each generator (issue: benchmarks).

    make bench-compare          # or: .venv/bin/python bench/compare.py [--seconds 10 --rounds 3]

nginx serves a small static file on 127.0.0.1, pinned to CPU 0; each generator runs pinned to
CPU 1 with the same concurrency (50 users/connections, no wait) for the same time, in
interleaved rounds (A, B, C, A, B, C, ...). A generator is billed the CPU time (user + system)
of its whole process tree, start-up included, as measured by the kernel for reaped children.
The figure is requests per CPU-second; the ratio is to Locust's FastHttpUser of the same rounds.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from doc import results_path, write_block

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
SCENARIOS = ROOT / "bench" / "scenarios"
TARGETS = {"horde async": 60_000, "horde blocking": 50_000}
MIN_RATIO = 5.0


def run_measured(argv: list[str]) -> tuple[float, float, str, int]:
    """Run ``argv``; its process tree's CPU-seconds (user + system), wall seconds, stdout, and
    how often it went to sleep and was woken (voluntary context switches)."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = process.stdout.read() if process.stdout else ""
    _, _, usage = os.wait4(process.pid, 0)
    process.returncode = 0
    cpu = usage.ru_utime + usage.ru_stime
    return cpu, time.perf_counter() - started, out, usage.ru_nvcsw


def pinned(cpu: int, argv: list[str]) -> list[str]:
    return ["taskset", "-c", str(cpu), *argv] if shutil.which("taskset") else argv


def ensure_debian_tools() -> list[str]:
    """nginx and wrk from Debian's packages when root; otherwise say what is missing."""
    missing = [tool for tool in ("nginx", "wrk") if not shutil.which(tool)]
    if missing and os.geteuid() == 0:
        packages = ["nginx-light" if t == "nginx" else t for t in missing]
        subprocess.run(["apt-get", "install", "-y", "-q", *packages], check=False)
        missing = [tool for tool in ("nginx", "wrk") if not shutil.which(tool)]
    for tool in missing:
        print(f"note: {tool} is not installed (apt-get install {tool} as root); skipped")
    return missing


class Nginx:
    """nginx serving ``ok\n`` from a temporary directory, checked to answer 200 before use."""

    def __init__(self, workdir: Path, port: int) -> None:
        # nginx's worker runs as an unprivileged user when started by root; a temporary directory
        # is private (0700), and nginx then answers every request with 403. That silently
        # measured error pages once, so the tree is opened up and the answer checked below.
        for folder in (workdir.parent, workdir):
            folder.chmod(0o755)
        (workdir / "html").mkdir()
        (workdir / "html" / "index.html").write_text("ok\n")
        (workdir / "logs").mkdir()
        conf = workdir / "nginx.conf"
        conf.write_text(
            f"""
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/logs/error.log;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{ root {workdir}/html; }}
    }}
}}
"""
        )
        self.url = f"http://127.0.0.1:{port}"
        self.process = subprocess.Popen(
            pinned(0, ["nginx", "-c", str(conf), "-p", str(workdir), "-g", "daemon off;"])
        )
        self._check()

    def _check(self) -> None:
        import urllib.request

        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                    body = response.read()
                break
            except OSError as exc:  # HTTPError (403 and the like) included
                if getattr(exc, "code", None) or time.monotonic() > deadline:
                    self.stop()
                    raise SystemExit(f"nginx does not serve the benchmark file: {exc}") from None
                time.sleep(0.1)
        if body != b"ok\n":
            self.stop()
            raise SystemExit(f"nginx served {body[:80]!r} instead of the benchmark file")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def csv_totals(prefix: Path) -> tuple[int, int]:
    """Requests and failures of the aggregated row of a horde or Locust stats CSV."""
    with open(f"{prefix}_stats.csv") as f:
        rows = list(csv.DictReader(f))
    return int(rows[-1]["Request Count"]), int(rows[-1]["Failure Count"])


def run_generator(name: str, url: str, seconds: int, users: int, workdir: Path) -> dict:
    prefix = workdir / name.replace(" ", "_")
    # Both tools take Locust's flags; only the program and the scenario differ.
    same_run = ["-H", url, "-u", str(users), "-r", "10000", "-t", f"{seconds}s",
                "--headless", "--only-summary", "--csv", str(prefix)]  # fmt: skip
    if name.startswith("horde"):
        scenario = SCENARIOS / ("horde_async.py" if "async" in name else "horde_blocking.py")
        argv = [str(VENV_BIN / "horde"), "run", str(scenario), *same_run]
    elif name.startswith("locust"):
        scenario = SCENARIOS / ("locust_fast.py" if "Fast" in name else "locust_http.py")
        argv = [str(VENV_BIN / "locust"), "-f", str(scenario), *same_run, "--loglevel", "ERROR"]
    else:  # wrk
        argv = ["wrk", "-t1", f"-c{users}", f"-d{seconds}s", url]
    cpu, wall, stdout, _ = run_measured(pinned(1, argv))
    if name == "wrk":
        match = re.search(r"(\d+) requests in", stdout)
        requests = int(match.group(1)) if match else 0
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", stdout)
        failures = int(errors.group(1)) if errors else 0
    else:
        has_csv = Path(f"{prefix}_stats.csv").exists()
        requests, failures = csv_totals(prefix) if has_csv else (0, 0)
    if requests == 0:
        print(f"{name} produced no result:\n{stdout[-2000:]}")
    if failures:
        # A failed request is usually cheaper or dearer than a served one: not comparable.
        raise SystemExit(f"{name}: {failures} of {requests} requests failed; figures not valid")
    return {
        "requests": requests,
        "failures": failures,
        "cpu_seconds": cpu,
        "wall_seconds": wall,
        "per_cpu_second": requests / cpu if cpu else 0.0,
    }


SHORT_RUN_SECONDS = 3


def _split_costs(short: dict, long: dict) -> dict:
    """The long run's figures, its CPU per 1,000 requests, and what the short run tells apart:
    the steady-state cost of a request and the start-up (ramp-up included)."""
    extra = max(1, long["requests"] - short["requests"])
    steady = 1000 * (long["cpu_seconds"] - short["cpu_seconds"]) / extra
    return {
        **long,
        "cpu_per_1000": 1000 * long["cpu_seconds"] / max(1, long["requests"]),
        "steady_cpu_per_1000": steady,
        "steady_wakeups_per_request": (long["wakeups"] - short["wakeups"]) / extra,
        "startup_cpu_seconds": short["cpu_seconds"] - steady * short["requests"] / 1000,
        "short_run": short,
    }


def realistic(args: argparse.Namespace) -> int:
    """The seed's Django scenario in horde and in Locust: generator CPU per 1,000 requests.

    Besides the figure the target is set on (whole runs of ``--seconds``), each round also runs
    every generator for SHORT_RUN_SECONDS: the difference between the two runs is the
    steady-state cost of a request, without start-up and ramp-up, and what the short run costs
    beyond its requests is the start-up. bench/wakeup_cost.py gives the floor under both: what a
    bare timer wake-up costs on this machine at this pace.
    """
    sys.path.insert(0, str(ROOT / "examples" / "django_app"))
    from serve import DemoServer
    from serve import free_port as app_port

    generators = {
        "horde (examples/django_seed.py)": [
            str(VENV_BIN / "horde"), "run", str(ROOT / "examples" / "django_seed.py"),
            "--min-wait", "0.05", "--max-wait", "0.2", "--exit-code-on-error", "0"],
        "locust FastHttpUser (bench/scenarios/locust_django_seed.py)": [
            str(VENV_BIN / "locust"), "-f", str(SCENARIOS / "locust_django_seed.py"),
            "--loglevel", "ERROR"],
    }  # fmt: skip
    runs: dict[str, list[dict]] = {g: [] for g in generators}
    with tempfile.TemporaryDirectory() as tmp:
        request_log = Path(tmp) / "requests.log"
        app = DemoServer(
            port=app_port(), data_dir=Path(tmp) / "app", workers=2, users=1000,
            request_log=request_log,
        )  # fmt: skip

        def served() -> int:
            return request_log.read_bytes().count(b"\n") if request_log.exists() else 0

        def measure(name: str, seconds: int) -> dict:
            prefix = Path(tmp) / f"run{sum(map(len, runs.values()))}-{seconds}s"
            argv = [*generators[name], "-H", app.url, "-u", str(args.users), "-r", "50",
                    "-t", f"{seconds}s", "--headless", "--only-summary",
                    "--csv", str(prefix)]  # fmt: skip
            before = served()
            cpu, wall, _, wakeups = run_measured(pinned(1, argv))
            reported, failures = csv_totals(prefix)
            # The demo app refuses a second login of one account within 2 s; runs use the same
            # accounts, so they are kept apart by more than that.
            time.sleep(2.5)
            # Requests are what the server answered: Locust counts a followed redirect as part
            # of the request that caused it, horde as a request of its own, and both send it.
            return {"requests": served() - before, "reported": reported, "failures": failures,
                    "cpu_seconds": cpu, "wall_seconds": wall, "wakeups": wakeups}  # fmt: skip

        with app:
            for round_no in range(args.rounds):
                for name in generators:
                    row = _split_costs(
                        measure(name, SHORT_RUN_SECONDS), measure(name, args.seconds)
                    )
                    runs[name].append(row)
                    print(f"round {round_no + 1} {name[:30]:30s} {row['cpu_per_1000']:.3f} "
                          f"CPU-s per 1,000 requests ({row['requests']} served, "
                          f"{row['failures']} failed); steady state "
                          f"{row['steady_cpu_per_1000']:.3f}, start-up "
                          f"{row['startup_cpu_seconds']:.2f} CPU-s", flush=True)  # fmt: skip
    floor = json.loads(
        subprocess.run(
            pinned(1, [sys.executable, str(ROOT / "bench" / "wakeup_cost.py")]),
            capture_output=True, text=True, check=True,
        ).stdout
    )  # fmt: skip

    def median(name: str, key: str) -> float:
        return statistics.median(r[key] for r in runs[name])

    medians = {g: median(g, "cpu_per_1000") for g in generators}
    steady = {g: median(g, "steady_cpu_per_1000") for g in generators}
    startup = {g: median(g, "startup_cpu_seconds") for g in generators}
    horde_cost, locust_cost = medians.values()
    ratio = horde_cost / locust_cost
    wakeups = {g: median(g, "steady_wakeups_per_request") for g in generators}
    # What is left of the steady-state cost once the machine's price of waking up is taken off.
    own = {g: max(0.0, steady[g] - wakeups[g] * floor["sparse_us"] / 1000) for g in generators}
    horde_steady, locust_steady = steady.values()
    horde_own, locust_own = own.values()
    verdict = "PASS" if ratio <= 0.25 else "FAIL"
    table = "\n".join(
        [f"| generator | CPU-s per 1,000 requests, {args.seconds} s runs (median) "
         "| steady state | wake-ups per request | steady state less the wake-up floor "
         "| start-up, CPU-s |",
         "|---|---|---|---|---|---|"]
        + [f"| {g} | {medians[g]:.3f} | {steady[g]:.3f} | {wakeups[g]:.2f} | {own[g]:.3f} "
           f"| {startup[g]:.2f} |" for g in generators]
        + [f"| horde / Locust | {ratio:.2f} (target <= 0.25: {verdict}) "
           f"| {horde_steady / locust_steady:.2f} | | {horde_own / max(1e-9, locust_own):.2f} | |"]
    )  # fmt: skip
    print(table)
    print(f"a bare timer wake-up here: {floor['sparse_us']} us at this pace, "
          f"{floor['dense_us']} us when dense")  # fmt: skip
    command = " ".join(["bench/compare.py", *sys.argv[1:]])
    results_path("compare-realistic").write_text(
        json.dumps(
            {
                "runs": runs,
                "medians": medians,
                "steady": steady,
                "startup": startup,
                "wakeups_per_request": wakeups,
                "steady_less_floor": own,
                "wakeup_floor_us": floor,
                "command": command,
            },
            indent=2,
        )
    )
    write_block(
        "compare-realistic",
        "A realistic scenario: the seed's Django app (bench/compare.py --realistic)",
        f"The demo app under gunicorn (2 workers) on this machine; each generator pinned to CPU 1, "
        f"{args.users} users, waits 0.05-0.2 s, {args.seconds} s per run, {args.rounds} "
        f"interleaved rounds. The app shares the cores, so only the generators' CPU per request "
        f"is compared. Requests are those the app served (its request log): Locust counts a "
        f"followed redirect inside the request that caused it, horde as a request of its own. "
        f"*Steady state* is the difference between each run and a "
        f"{SHORT_RUN_SECONDS} s run of the same round (start-up and ramp-up cancel out); "
        f"*start-up* is what the short run cost beyond its requests. All CPU figures are "
        f"CPU-seconds per 1,000 requests but the last.\n\n{table}\n\n"
        f"The floor under every generator: a bare uvloop timer wake-up with no HTTP at all "
        f"(bench/wakeup_cost.py) costs {floor['sparse_us']} µs of CPU at this scenario's pace "
        f"and {floor['dense_us']} µs when the process never sleeps. *Wake-ups per request* are "
        f"the generator's voluntary context switches in the steady state; *less the wake-up "
        f"floor* takes that many bare wake-ups off the steady-state cost, an estimate of each "
        f"tool's own work per request.",
        command,
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument(
        "--realistic",
        action="store_true",
        help="the seed's Django scenario instead of GET / against nginx",
    )
    args = parser.parse_args()
    if args.realistic:
        return realistic(args)

    missing = ensure_debian_tools()
    if "nginx" in missing:
        print("nginx is required for this benchmark")
        return 1
    generators = ["horde async", "horde blocking", "locust FastHttpUser", "locust HttpUser"]
    if not shutil.which(str(VENV_BIN / "locust")):
        print("note: locust is not installed (make bench installs the bench group); skipped")
        generators = [g for g in generators if not g.startswith("locust")]
    if "wrk" not in missing:
        generators.append("wrk")

    runs: dict[str, list[dict]] = {g: [] for g in generators}
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        (workdir / "nginx").mkdir()
        server = Nginx(workdir / "nginx", free_port())
        try:
            for round_no in range(args.rounds):
                for name in generators:
                    r = run_generator(name, server.url, args.seconds, args.users, workdir)
                    runs[name].append(r)
                    print(
                        f"round {round_no + 1} {name:20s} {r['per_cpu_second']:>10,.0f} "
                        f"req/CPU-s ({r['requests']} requests, {r['cpu_seconds']:.2f} CPU-s)",
                        flush=True,
                    )
        finally:
            server.stop()

    medians = {g: statistics.median(r["per_cpu_second"] for r in rs) for g, rs in runs.items()}
    base = medians.get("locust FastHttpUser")
    lines = [
        "| generator | requests per CPU-second (median) | vs Locust FastHttpUser | target |",
        "|---|---|---|---|",
    ]
    for g, value in medians.items():
        ratio = f"{value / base:.1f}x" if base else "-"
        target = ""
        if g in TARGETS:
            ok = value >= TARGETS[g] and (base is None or value / base >= MIN_RATIO)
            target = f">= {TARGETS[g]:,} and >= {MIN_RATIO:g}x: {'PASS' if ok else 'FAIL'}"
        lines.append(f"| {g} | {value:,.0f} | {ratio} | {target} |")
    table = "\n".join(lines)
    print(table)
    command = " ".join(["bench/compare.py", *sys.argv[1:]])
    out = results_path("compare")
    out.write_text(json.dumps({"runs": runs, "medians": medians, "command": command}, indent=2))
    write_block(
        "compare",
        "Throughput per CPU against Locust and wrk (bench/compare.py)",
        f"nginx on CPU 0, each generator on CPU 1, {args.users} users, no wait, "
        f"{args.seconds} s per run, {args.rounds} interleaved rounds.\n\n{table}",
        command,
    )
    print(f"wrote {out.relative_to(ROOT)} and docs/performance.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
