"""What the web UI costs the load it shares a process with, while a browser polls it.

    .venv/bin/python bench/web_polling.py [--seconds 20]

Runs `horde run` in web mode against a target in another process, starts 50 users with a
100 ms wait through the API, then measures the horde process's CPU over the same period twice:
once with nobody polling, once polling /stats/requests and /stats/history every 2 s as the
dashboard does. The difference, as a percentage of one core, is the UI's cost.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from doc import results_path, write_block
from serving import start_server

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = """
from horde import HttpUser, constant, task

class Visitor(HttpUser):
    wait_time = constant(0.1)

    @task
    def home(self):
        self.client.get("/")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def get(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    target, target_url = start_server("target_server.py")
    port = free_port()
    ui = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "scenario.py"
        scenario.write_text(SCENARIO)
        horde = subprocess.Popen(
            [str(Path(sys.executable).parent / "horde"), "run", str(scenario), "-H", target_url,
             "--web-port", str(port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        try:
            deadline = time.monotonic() + 20
            while True:
                try:
                    page = get(ui + "/").decode()
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.1)
            token = re.search(r'name="horde-token" content="([^"]+)"', page).group(1)
            body = urllib.parse.urlencode({"user_count": 50, "spawn_rate": 1000}).encode()
            request = urllib.request.Request(ui + "/swarm", data=body,
                                             headers={"X-Horde-Token": token})  # fmt: skip
            urllib.request.urlopen(request, timeout=10).read()
            time.sleep(3)

            def measure(poll: bool) -> float:
                start_cpu, start = cpu_seconds(horde.pid), time.monotonic()
                since = 0.0
                while time.monotonic() - start < args.seconds:
                    if poll:
                        get(ui + "/stats/requests")
                        rows = json.loads(get(ui + f"/stats/history?since={since}"))["rows"]
                        if rows:
                            since = rows[-1]["timestamp"]
                    time.sleep(2.0)
                return (cpu_seconds(horde.pid) - start_cpu) / (time.monotonic() - start)

            quiet = measure(poll=False)
            polled = measure(poll=True)
        finally:
            horde.terminate()
            horde.wait(20)
            target.terminate()
            target.wait(10)
    cost = 100 * (polled - quiet)
    table = (
        "| horde process CPU, 50 users | % of one core |\n|---|---|\n"
        f"| nobody polling | {100 * quiet:.1f} |\n"
        f"| dashboard polling every 2 s | {100 * polled:.1f} |\n"
        f"| cost of the UI | {cost:+.1f} |"
    )
    print(table)
    results_path("web-polling").write_text(
        json.dumps({"quiet": quiet, "polled": polled, "seconds": args.seconds}, indent=2)
    )
    write_block("web-polling", "Cost of the web UI while it polls (bench/web_polling.py)", table,
                " ".join(["bench/web_polling.py", *sys.argv[1:]]))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
