"""Start the demo application under gunicorn on 127.0.0.1, and stop it again.

Used by `make demo` (examples/demo.py) and by the tests. ``DemoServer`` checks that its port is
free, migrates the database, creates the demo accounts, starts gunicorn (never Django's
runserver), waits until the app answers, and on exit stops gunicorn and reaps it.

What answers must be this gunicorn: when another program holds the port, gunicorn cannot bind
(it retries for seconds before giving up) while that program answers the readiness check, and
the demo would load it, POSTs included. So gunicorn is given a random token (DEMO_INSTANCE)
that only it serves, at /__instance/, and nothing else counts as ready.

    python examples/django_app/serve.py --port 8000     # serve in the foreground until Ctrl-C
"""

from __future__ import annotations

import argparse
import errno
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType

APP_DIR = Path(__file__).resolve().parent

__all__ = ["DemoServer", "PortTaken", "check_port_free", "free_port"]


class PortTaken(RuntimeError):
    """Another program listens on the demo app's port."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def check_port_free(host: str, port: int) -> None:
    """Raise ``PortTaken`` when something listens on ``host:port`` (bound as gunicorn binds)."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise PortTaken(
                f"port {port} on {host} is already taken by another program: stop it, choose "
                "another --port, or leave --port out to use a free one"
            ) from None


class DemoServer:
    """The demo app under gunicorn; a context manager. ``url`` is its base URL."""

    def __init__(
        self,
        port: int | None = None,
        host: str = "127.0.0.1",
        data_dir: str | Path | None = None,
        workers: int = 2,
        threads: int = 8,
        users: int = 1000,
        pages: int = 50,
        env: dict[str, str] | None = None,
        request_log: str | Path | None = None,
        start_timeout: float = 30.0,
    ) -> None:
        self.host = host
        self.port = port if port is not None else free_port()
        self.instance = secrets.token_hex(16)
        self.workers = workers
        self.threads = threads
        self.users = users
        self.pages = pages
        self._tmp = None if data_dir else tempfile.TemporaryDirectory(prefix="horde-demo-")
        self.data_dir = Path(data_dir or self._tmp.name)  # type: ignore[union-attr]
        self.request_log = Path(request_log) if request_log else None
        self.start_timeout = start_timeout
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "demo_site.settings",
            "DEMO_DATA_DIR": str(self.data_dir),
            "PYTHONPATH": str(APP_DIR),
            **(env or {}),
            "DEMO_INSTANCE": self.instance,
        }
        if self.request_log:
            self.env["DEMO_REQUEST_LOG"] = str(self.request_log)
        self.process: subprocess.Popen[bytes] | None = None
        self._log = self.data_dir / "gunicorn.log"

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _manage(self, *args: str) -> None:
        result = subprocess.run(
            [sys.executable, str(APP_DIR / "manage.py"), *args],
            cwd=APP_DIR,
            env=self.env,
            capture_output=True,
            text=True,
        )
        if result.returncode:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stderr[-2000:]}")

    def start(self) -> DemoServer:
        check_port_free(self.host, self.port)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._manage("migrate", "--noinput")
        self._manage("seed_demo", "--users", str(self.users), "--pages", str(self.pages))
        log = self._log.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "demo_site.wsgi:application",
                "--bind",
                f"{self.host}:{self.port}",
                "--workers",
                str(self.workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(self.threads),
                "--worker-connections",
                "2000",
                "--keep-alive",
                "5",
                "--backlog",
                "2048",
                "--log-level",
                "warning",
                "--chdir",
                str(APP_DIR),
            ],
            cwd=APP_DIR,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        answer = ""
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(f"{self.url}/__instance/", timeout=2) as r:
                    answer = r.read(200).decode(errors="replace")
            except urllib.error.HTTPError as exc:
                answer = f"HTTP {exc.code}"
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
                continue
            if answer != self.instance:
                break  # someone else answers: never load it
            with urllib.request.urlopen(f"{self.url}/accounts/login/", timeout=10) as r:
                if r.status == 200:
                    return
        tail = self._log.read_text(errors="replace")[-2000:] if self._log.exists() else ""
        self.stop()
        if answer and answer != self.instance:
            raise PortTaken(
                f"another program answers on {self.url}, not the demo app: stop it, choose "
                "another --port, or leave --port out to use a free one"
            )
        raise RuntimeError(f"the demo app did not start on {self.url}:\n{tail}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()

    def __enter__(self) -> DemoServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the horde demo app with gunicorn.")
    parser.add_argument("--port", type=int, help="default: a free port")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--data-dir", default=str(APP_DIR / ".data"))
    args = parser.parse_args()
    try:
        with DemoServer(port=args.port, workers=args.workers, data_dir=args.data_dir) as server:
            print(f"demo app on {server.url} (Ctrl-C to stop)", flush=True)
            try:
                signal.pause()
            except KeyboardInterrupt:
                pass
    except PortTaken as exc:
        raise SystemExit(f"serve: error: {exc}") from None


if __name__ == "__main__":
    main()
