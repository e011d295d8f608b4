"""Run a locustfile with horde or with Locust in the same way, and read what each recorded.

Both tools take Locust's flags, so one command line serves both; only the program differs. What
is compared is the stats CSV both write (requests and failures per type and name), the exit
code, and the output (some examples only print).
"""

from __future__ import annotations

import csv
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
EXAMPLES = HERE / "locust_examples"


class Server:
    """A server script of this folder in a subprocess on a free port (told through a pipe)."""

    def __init__(self, script: str, *args: str) -> None:
        read_fd, write_fd = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / script), "--ready-fd", str(write_fd), *args],
            pass_fds=(write_fd,),
        )
        os.close(write_fd)
        with os.fdopen(read_fd) as ready:
            line = ready.readline()
        if not line:
            self.process.wait(timeout=10)
            raise RuntimeError(f"{script} did not start")
        self.url = f"http://127.0.0.1:{int(line)}"

    def served(self) -> dict[str, int]:
        """What the example site served, by ``METHOD path`` (example_site.py only)."""
        import json
        import urllib.request

        with urllib.request.urlopen(f"{self.url}/__served", timeout=5) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@dataclass
class Outcome:
    """What one run of one tool on one example left behind."""

    exit_code: int
    rows: dict[str, tuple[int, int]] = field(default_factory=dict)  # "GET /": (reqs, fails)
    output: str = ""
    seconds: float = 0.0  # its own run time (an offline run: without the set-up around it)
    served: dict[str, int] | None = None  # what the offline site served (offline runs)
    failures: list[dict[str, str]] = field(default_factory=list)  # rows of the failures CSV

    @property
    def requests(self) -> int:
        return sum(r for r, _ in self.rows.values())


def command(tool: str, locustfile: Path, script: bool = False) -> list[str]:
    """How ``tool`` runs ``locustfile``: as a locustfile, or (``script``) as a Python script
    that uses Locust as a library (``python FILE`` for Locust, ``horde exec FILE``)."""
    if tool == "horde":
        return [sys.executable, "-m", "horde", "exec" if script else "run", str(locustfile)]
    if script:
        return [sys.executable, str(locustfile)]
    locust = Path(sys.executable).with_name("locust")
    return [str(locust), "-f", str(locustfile)]


# A row of Locust's console table (print_stats), which a library script prints itself.
_TABLE_ROW = re.compile(r"^(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS)\s+(\S+)\s+(\d+)\s+(\d+)\(")


def printed_rows(output: str) -> dict[str, tuple[int, int]]:
    """The rows of the last stats table in ``output`` (Locust's print_stats format)."""
    rows: dict[str, tuple[int, int]] = {}
    for line in output.splitlines():
        found = _TABLE_ROW.match(line)
        if found:
            rows[f"{found[1]} {found[2]}"] = (int(found[3]), int(found[4]))
    return rows


def run(
    tool: str,
    locustfile: Path,
    args: list[str],
    workdir: Path,
    env: dict[str, str] | None = None,
    timeout: float = 60,
    stop_after: float | None = None,
    offline: tuple[str, ...] = (),
    script: bool = False,
) -> Outcome:
    """Run ``tool`` on ``locustfile`` with Locust-style ``args``; the CSV goes to ``workdir``.

    ``stop_after``: send SIGTERM after that many seconds (Locust ignores ``-t`` when the file
    has a load shape, and runs the shape to its end). ``offline``: the internet host names the
    example uses, answered by the example site in namespaces of its own (offline.py).
    ``script``: a library script (no CSV: its rows are read from the table it prints)."""
    prefix = workdir / f"{tool}-{locustfile.stem}"
    argv = [*command(tool, locustfile, script), *args]
    if not script:
        argv += ["--csv", str(prefix)]
    served_file = workdir / f"{tool}-served.json"
    if offline:
        from tests.compat import offline as offline_runs

        argv = offline_runs.wrap(argv, offline, served_file)
    started = time.monotonic()
    # Output goes to files, not pipes: an example that prints on every task would otherwise
    # wait on a full pipe whenever the reader is slow (a busy machine), which is not the tool's
    # doing.
    out_path, err_path = workdir / f"{tool}.stdout", workdir / f"{tool}.stderr"
    with out_path.open("w") as out, err_path.open("w") as err:
        process = subprocess.Popen(
            argv,
            cwd=workdir,
            stdout=out,
            stderr=err,
            env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
        )
        try:
            if stop_after is not None:
                try:
                    process.wait(timeout=stop_after)
                except subprocess.TimeoutExpired:
                    process.send_signal(signal.SIGTERM)
            process.wait(timeout=timeout)
            killed = ""
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            killed = f"\n(killed after {timeout} s)"
    stdout = out_path.read_text(errors="replace")
    stderr = err_path.read_text(errors="replace") + killed
    completed = subprocess.CompletedProcess(argv, process.returncode, stdout, stderr)
    outcome = Outcome(
        exit_code=completed.returncode,
        output=completed.stdout + completed.stderr,
        seconds=time.monotonic() - started,
    )
    if served_file.exists():
        import json

        outcome.served = json.loads(served_file.read_text())
        own_time = Path(f"{served_file}.seconds")
        if own_time.exists():
            outcome.seconds = float(own_time.read_text())
    if script:
        outcome.rows = printed_rows(outcome.output)
        return outcome
    failures = Path(f"{prefix}_failures.csv")
    if failures.exists():
        with failures.open(newline="") as f:
            outcome.failures = list(csv.DictReader(f))
    stats = Path(f"{prefix}_stats.csv")
    if stats.exists():
        with stats.open(newline="") as f:
            for row in csv.DictReader(f):
                if row["Name"] == "Aggregated" and not row["Type"]:
                    continue
                key = f"{row['Type']} {row['Name']}"
                outcome.rows[key] = (int(row["Request Count"]), int(row["Failure Count"]))
    return outcome
