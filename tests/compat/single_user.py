"""Locust's examples that end with ``run_single_user(...)``: run as a script (``python FILE`` for
Locust, ``horde exec FILE`` for horde), stopped with Ctrl-C after a few seconds (most run their
user until interrupted), and what they print read back: the request lines of Locust's
PrintListener and the example's own lines.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.compat.harness import EXAMPLES, Server

# A line of Locust's PrintListener: type, name (padded), response time, exception.
_REQUEST_LINE = re.compile(r"^([A-Z]+)\t(.+?)\s*\t(-?\d+)\s*\t(.*?)\t")


@dataclass(frozen=True)
class SingleUser:
    path: str
    seconds: float = 4.0  # before Ctrl-C (Locust takes about 2 s to start)
    offline: tuple[str, ...] = ()
    prints: tuple[str, ...] = ()  # the example's own lines to look for
    ends_by_itself: bool = False

    @property
    def id(self) -> str:
        return self.path.removesuffix(".py")


SINGLE_USER = [
    SingleUser("debugging.py"),
    SingleUser("debugging_advanced.py", prints=("running User1", "running User2", "done!"),
               ends_by_itself=True),
    SingleUser("x-forwarded-for.py"),
    SingleUser("markov_taskset.py", prints=("Method 1: Using a single @transition decorator",
                                            "Method 2: Using multiple stacked")),
    SingleUser("response_validations.py"),
    SingleUser("testdata_from_csv.py"),
    # It asserts that there is a web UI in its init listener: there is none for one user.
    SingleUser("bottlenecked_server.py", ends_by_itself=True),
    SingleUser("rest.py", offline=("postman-echo.com", "example.com")),
]  # fmt: skip
BY_ID = {example.id: example for example in SINGLE_USER}


@dataclass
class ScriptRun:
    exit_code: int
    output: str
    requests: set[tuple[str, str, bool]] = field(default_factory=set)  # (type, name, failed)
    lines: list[str] = field(default_factory=list)


def run_script(tool: str, example: SingleUser) -> ScriptRun:
    """Run ``example`` as a script with ``tool`` against the example site (or offline)."""
    path = EXAMPLES / example.path
    command = (
        [sys.executable, "-m", "horde", "exec", str(path)]
        if tool == "horde"
        else [sys.executable, str(path)]
    )
    server = None if example.offline else Server("example_site.py")
    with tempfile.TemporaryDirectory() as tmp:
        if server is not None:
            command += ["-H", server.url]
        else:
            from tests.compat import offline

            command = offline.wrap(command, example.offline, Path(tmp) / "served.json")
        log = Path(tmp) / "output.txt"
        try:
            with log.open("w") as out:
                process = subprocess.Popen(
                    command, stdout=out, stderr=subprocess.STDOUT, cwd=tmp,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"},
                )  # fmt: skip
                if example.ends_by_itself:
                    try:
                        process.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()
                else:
                    time.sleep(example.seconds)
                    process.send_signal(signal.SIGINT)
                    try:
                        process.wait(timeout=15)
                    except subprocess.TimeoutExpired:
                        process.kill()
                        process.wait()
        finally:
            if server is not None:
                server.stop()
        output = log.read_text(errors="replace")
    found = ScriptRun(process.returncode, output)
    for line in output.splitlines():
        request = _REQUEST_LINE.match(line)
        if request:
            found.requests.add((request[1], request[2].strip(), bool(request[4].strip())))
        if any(text in line for text in example.prints):
            found.lines.append(line.strip())
    found.lines = list(dict.fromkeys(found.lines))
    return found
