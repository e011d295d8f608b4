"""How long until horde is working: `horde --help`, and `horde run` to its first request.

    .venv/bin/python bench/startup.py [--rounds 5]

The first-request time is measured from starting the process to the moment the target
(bench/target_server.py, polled every 2 ms) has seen a request. Target: within 0.5 s.
"""

from __future__ import annotations

import argparse
import json
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
HORDE = str(Path(sys.executable).parent / "horde")
SCENARIO = ROOT / "bench" / "scenarios" / "horde_async.py"
TARGET_S = 0.5


def count(url: str) -> int:
    with urllib.request.urlopen(url + "/__count", timeout=5) as response:
        return int(response.read())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    server, url = start_server("target_server.py")
    help_times, first_times = [], []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(args.rounds):
                t0 = time.perf_counter()
                subprocess.run([HORDE, "--help"], check=True, capture_output=True)
                help_times.append(time.perf_counter() - t0)
                before = count(url)
                t0 = time.perf_counter()
                run = subprocess.Popen(
                    [HORDE, "run", str(SCENARIO), "-H", url, "-u", "1", "-r", "1", "-t", "3s",
                     "--headless", "--only-summary"],
                    cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                )  # fmt: skip
                while count(url) == before and time.perf_counter() - t0 < 10:
                    time.sleep(0.002)
                first_times.append(time.perf_counter() - t0)
                run.terminate()
                run.wait(20)
    finally:
        server.terminate()
        server.wait(10)
    first = statistics.median(first_times)
    verdict = "PASS" if first <= TARGET_S else "FAIL"
    table = (
        f"| measure (median of {args.rounds}) | seconds | target |\n|---|---|---|\n"
        f"| `horde --help` | {statistics.median(help_times):.3f} | |\n"
        f"| `horde run --headless` to its first request | {first:.3f} | "
        f"<= {TARGET_S:.1f}: {verdict} |"
    )
    print(table)
    results_path("startup").write_text(
        json.dumps({"help": help_times, "first_request": first_times}, indent=2)
    )
    write_block("startup", "Start-up (bench/startup.py)", table,
                " ".join(["bench/startup.py", *sys.argv[1:]]))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
