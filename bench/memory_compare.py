"""Memory per idle user, horde against Locust's FastHttpUser (issue: benchmarks).

    make bench-compare          # or: .venv/bin/python bench/memory_compare.py [--rounds 3]

Why a separate benchmark from bench/simple.py: that one measures horde's users from inside its
own process; to compare with Locust, every generator has to be measured the same way from
outside, as a user of the tool would see it. So each generator (horde with async tasks, horde
with blocking-style tasks, Locust FastHttpUser) runs as its own fresh process, headless, against
bench/target_server.py on 127.0.0.1, with idle users: one GET / per task and 5 s between tasks,
so each user holds one open keep-alive connection. Users are spawned at 2,000/s, as a load test
ramps. Once the server has seen every user's first request, the run settles for 2 s and the
resident memory (VmRSS) of the generator's whole process tree is read; it is then stopped
(SIGINT, then SIGKILL after a bounded wait). The same generator with 1 user is the baseline:
KB per user = (RSS at N users - RSS at 1 user) / (N - 1). The number of sockets the generator
holds is recorded as a check that each user really keeps its connection.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from doc import results_path, write_block
from serving import start_server

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "bench" / "scenarios"
USER_COUNTS = (1000, 5000, 10000)
BASELINE_USERS = 1
SPAWN_RATE = 2000
SETTLE_SECONDS = 2.0
STOP_TIMEOUT = 30.0
TARGETS_KB = {"horde async": 8.0, "horde blocking": 16.0}
LOCUST = "locust FastHttpUser"
# Seen in the first runs, and checked against geventhttpclient 2.6.1 with gevent 26.9.
LOCUST_NOTE = (
    "Locust's FastHttpUser (geventhttpclient) checks that a pooled connection is alive with "
    "select(), which refuses file descriptors of 1024 and above; such a connection is taken for "
    "dead, so beyond about 1,000 users most of its users reconnect on every request. They still "
    "hold one socket each, as counted here, so the figures compare like with like."
)


def generator_argv(name: str, host: str, users: int) -> list[str]:
    """Command line of one generator, headless, running far longer than it is measured."""
    common = ["-H", host, "-u", str(users), "-r", str(SPAWN_RATE), "-t", "600s", "--headless",
              "--only-summary"]  # fmt: skip
    if name == LOCUST:
        return [sys.executable, "-m", "locust", "-f", str(SCENARIOS / "locust_idle_fast.py"),
                *common, "--loglevel", "ERROR"]  # fmt: skip
    user_class = "IdleAsyncUser" if name == "horde async" else "IdleBlockingUser"
    return [sys.executable, "-m", "horde", "run", str(SCENARIOS / "horde_idle.py"), user_class,
            *common]  # fmt: skip


def server_count(host: str) -> int:
    with urllib.request.urlopen(f"{host}/__count", timeout=5) as response:
        return int(response.read())


def process_tree(pid: int) -> list[int]:
    """``pid`` and all its descendants, found through the parent field of /proc/*/stat."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [pid]
    while todo:
        current = todo.pop()
        tree.append(current)
        todo.extend(children.get(current, []))
    return tree


def status_kb(pid: int, field: str) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def socket_count(pid: int) -> int:
    count = 0
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return 0
    for fd in fds:
        try:
            count += os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:")
        except OSError:
            continue
    return count


def stop(process: subprocess.Popen[bytes]) -> str:
    """SIGINT, then SIGKILL to its whole process group after STOP_TIMEOUT; how it ended."""
    if process.poll() is not None:
        return f"exited early ({process.returncode})"
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=STOP_TIMEOUT)
        return "SIGINT"
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        return "SIGKILL"


def measure(name: str, host: str, users: int, logdir: Path) -> dict:
    """One generator with ``users`` idle users in a fresh process: its tree's RSS once settled."""
    log = logdir / f"{name.replace(' ', '_')}-{users}.log"
    before = server_count(host)
    started = time.monotonic()
    with open(log, "wb") as out:
        process = subprocess.Popen(
            generator_argv(name, host, users),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so a stuck tree can be killed
        )
    try:
        # Every user is there once the server has seen N requests and the generator holds N
        # sockets at once: the server's count alone is not enough, since an early user makes its
        # second request 5 s on, before a generator slower than the ramp has started the last.
        deadline = started + 60 + 2 * users / SPAWN_RATE
        seen = sockets = 0
        while time.monotonic() < deadline and process.poll() is None:
            seen = server_count(host) - before
            if seen >= users:
                sockets = sum(socket_count(pid) for pid in process_tree(process.pid))
                if sockets >= users:
                    break
            time.sleep(0.2)
        spawned_after = time.monotonic() - started
        time.sleep(SETTLE_SECONDS)
        tree = process_tree(process.pid)
        result = {
            "users": users,
            "rss_kb": sum(status_kb(pid, "VmRSS") for pid in tree),
            "peak_rss_kb": sum(status_kb(pid, "VmHWM") for pid in tree),
            "processes": len(tree),
            "sockets": sum(socket_count(pid) for pid in tree),
            "requests_seen": seen,
            "complete": seen >= users and sockets >= users,
            "seconds_to_all_connected": round(spawned_after, 2),
        }
    finally:
        result_stop = stop(process)
    result["stopped_by"] = result_stop
    if not result["complete"] or result_stop.startswith("exited"):
        tail = log.read_text(errors="replace")[-1500:]
        print(
            f"{name} with {users} users: {seen} requests seen, {sockets} sockets last counted, "
            f"{result_stop}:\n{tail}"
        )
    return result


def raise_fd_limit(needed: int) -> int:
    """Raise this process's open-file limit (children inherit it); the soft limit reached."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(needed, soft)
    for limits in ((want, max(want, hard)), (min(want, hard), hard)):
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, limits)
            break
        except (ValueError, OSError):
            continue
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (median)")
    parser.add_argument("--users", type=int, nargs="+", default=list(USER_COUNTS))
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()

    fd_limit = raise_fd_limit(max(args.users) * 2 + 1024)
    if fd_limit < max(args.users) + 512:
        print(f"note: open-file limit is {fd_limit}; runs over {fd_limit - 512} users may fail")
    generators = ["horde async", "horde blocking", LOCUST]
    if importlib.util.find_spec("locust") is None:
        print(
            "note: locust is not importable, so Locust FastHttpUser is not measured "
            "(`make bench-compare` installs it: uv sync --frozen --group bench)"
        )
        generators.remove(LOCUST)

    runs: dict[str, dict[str, list[dict]]] = {g: {} for g in generators}
    server, host = start_server("target_server.py")
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for round_no in range(args.rounds):
                for name in generators:
                    for users in (BASELINE_USERS, *args.users):
                        r = measure(name, host, users, Path(tmp))
                        runs[name].setdefault(str(users), []).append(r)
                        print(
                            f"round {round_no + 1} {name:20s} {users:>6} users: "
                            f"{r['rss_kb'] / 1024:8.1f} MB RSS, {r['sockets']} sockets, "
                            f"all connected after {r['seconds_to_all_connected']} s",
                            flush=True,
                        )
                        time.sleep(1)  # let the server close the last run's connections
    finally:
        server.terminate()
        server.wait(timeout=10)

    def kb_per_user(name: str, users: int) -> float:
        base = statistics.median(r["rss_kb"] for r in runs[name][str(BASELINE_USERS)])
        loaded = statistics.median(r["rss_kb"] for r in runs[name][str(users)])
        return (loaded - base) / (users - BASELINE_USERS)

    figures = {g: {str(n): kb_per_user(g, n) for n in args.users} for g in generators}
    incomplete = {
        f"{g} {n}"
        for g in generators
        for n in args.users
        if not all(r["complete"] for r in runs[g][str(n)])
    }
    largest = str(max(args.users))
    locust = figures.get(LOCUST)
    columns = " | ".join(f"KB/user at {n:,}" for n in args.users)
    lines = [
        f"| generator | {columns} | vs Locust FastHttpUser (at {int(largest):,}) |",
        "|---|" + "---:|" * (len(args.users) + 1),
    ]
    for g, per_n in figures.items():
        cells = " | ".join(
            f"{v:.1f}" + (" (incomplete)" if f"{g} {n}" in incomplete else "")
            for n, v in per_n.items()
        )
        ratio = f"{per_n[largest] / locust[largest]:.2f}x" if locust else "-"
        lines.append(f"| {g} | {cells} | {ratio} |")
    verdicts = []
    for g, target in TARGETS_KB.items():
        worst = max(figures[g].values())
        ok = worst < target and not any(i.startswith(g) for i in incomplete)
        versus = f", Locust {max(locust.values()):.1f}" if locust else ""
        verdicts.append(
            f"{g} {worst:.1f} KB/user at worst (target < {target:g}{versus}): "
            f"{'PASS' if ok else 'FAIL'}"
        )
    table = "\n".join(lines) + "\n\n" + "; ".join(verdicts) + "."
    print(table)
    if args.no_write:
        return 0
    command = " ".join(["bench/memory_compare.py", *sys.argv[1:]])
    out = results_path("memory-compare")
    out.write_text(
        json.dumps(
            {
                "runs": runs,
                "kb_per_user": figures,
                "baseline_users": BASELINE_USERS,
                "spawn_rate": SPAWN_RATE,
                "settle_seconds": SETTLE_SECONDS,
                "fd_limit": fd_limit,
                "machine": {
                    "python": platform.python_version(),
                    "cpus": os.cpu_count(),
                    "platform": platform.platform(),
                },
                "command": command,
            },
            indent=2,
        )
    )
    write_block(
        "memory-compare",
        "Memory per idle user against Locust (bench/memory_compare.py)",
        f"Each generator in its own fresh process against bench/target_server.py; idle users "
        f"(one GET / every 5 s, each holding one keep-alive connection), spawned at "
        f"{SPAWN_RATE:,}/s; resident memory of the generator's process tree {SETTLE_SECONDS:g} s "
        f"after every user's first request, minus the same generator with "
        f"{BASELINE_USERS} user; {args.rounds} round(s), median.\n\n{table}"
        + (f"\n\n{LOCUST_NOTE}" if LOCUST in generators else ""),
        command,
    )
    print(f"wrote {out.relative_to(ROOT)} and docs/performance.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
