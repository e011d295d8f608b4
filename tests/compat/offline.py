"""Run a command where the internet host names it uses are the example site, on this machine.

Some of Locust's examples send their requests to hosts on the internet (postman-echo.com,
docs.locust.io...). Load goes to 127.0.0.1 only, so they are run in network and mount
namespaces of their own (``unshare -rnm``, no privilege needed): the loopback interface is the
only one, ``/etc/hosts`` (bind-mounted for this process tree only) maps every name the example
uses to 127.0.0.1, and the example site answers on ports 80 and 443, with a certificate for
those names from a throwaway certificate authority (trustme) that the command is told to trust
(``SSL_CERT_FILE``, ``REQUESTS_CA_BUNDLE``). The example runs as written; nothing leaves the
machine (a name not listed does not resolve at all).

    unshare -rnm python tests/compat/offline.py --hosts a.com,b.org --served OUT.json -- CMD...

Runs CMD, passes SIGTERM and SIGINT on to it, writes what the site served to OUT.json and how
long CMD took to OUT.json.seconds, and exits with CMD's exit code.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent


def available() -> str | None:
    """Why offline runs cannot be made here (None: they can)."""
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return "unshare and ip (util-linux, iproute2) are needed to run an example offline"
    probe = subprocess.run(["unshare", "-rnm", "true"], capture_output=True, text=True, check=False)
    if probe.returncode != 0:
        return f"user namespaces are not available here: {probe.stderr.strip()}"
    return None


def wrap(command: list[str], hosts: tuple[str, ...], served: Path) -> list[str]:
    """``command``, to be run offline with ``hosts`` mapped to the example site."""
    launcher = [sys.executable, str(HERE / "offline.py"), "--hosts", ",".join(hosts)]
    return ["unshare", "-rnm", *launcher, "--served", str(served), "--", *command]


def _isolate(hosts: list[str], folder: Path) -> dict[str, str]:
    """Loopback up, the names mapped, a CA trusted: the environment for the command."""
    import trustme

    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    hosts_file = folder / "hosts"
    lines = ["127.0.0.1 localhost", "::1 localhost", *(f"127.0.0.1 {name}" for name in hosts)]
    hosts_file.write_text("\n".join(lines) + "\n")
    subprocess.run(["mount", "--bind", str(hosts_file), "/etc/hosts"], check=True)
    authority = trustme.CA()
    server = authority.issue_cert(*hosts, "localhost", "127.0.0.1")
    cert, key, bundle = folder / "cert.pem", folder / "key.pem", folder / "ca.pem"
    server.cert_chain_pems[0].write_to_path(str(cert))
    for extra in server.cert_chain_pems[1:]:
        extra.write_to_path(str(cert), append=True)
    server.private_key_pem.write_to_path(str(key))
    authority.cert_pem.write_to_path(str(bundle))
    # Locust's requests-based client ignores REQUESTS_CA_BUNDLE (trust_env is off) and trusts
    # certifi's bundle only: certifi is pointed at one that also holds this CA, by a
    # sitecustomize module that Python runs at start-up.
    (folder / "sitecustomize.py").write_text(SITECUSTOMIZE.format(bundle=str(bundle)))
    path = os.pathsep.join(p for p in (str(folder), os.environ.get("PYTHONPATH", "")) if p)
    return {
        "SSL_CERT_FILE": str(bundle),
        "REQUESTS_CA_BUNDLE": str(bundle),
        "CURL_CA_BUNDLE": str(bundle),
        "PYTHONPATH": path,
        "OFFLINE_SITE_CERT": str(cert),
        "OFFLINE_SITE_KEY": str(key),
    }


SITECUSTOMIZE = """
try:
    import certifi
except ImportError:
    pass
else:
    _combined = {bundle!r} + ".certifi"
    with open(certifi.where()) as _ours, open({bundle!r}) as _test_ca:
        with open(_combined, "w") as _out:
            _out.write(_ours.read() + "\\n" + _test_ca.read())
    certifi.where = lambda: _combined
"""


def _start_site(cert: str, key: str) -> subprocess.Popen[bytes]:
    read_fd, write_fd = os.pipe()
    # Its own errors (a request it refuses) are not the command's output.
    site = subprocess.Popen(
        [sys.executable, str(HERE / "example_site.py"), "--ready-fd", str(write_fd),
         "--port", "80", "--tls-port", "443", "--cert", cert, "--key", key],
        pass_fds=(write_fd,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write_fd)
    with os.fdopen(read_fd) as ready:
        if not ready.readline():
            raise SystemExit("the example site did not start")
    return site


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", required=True)
    parser.add_argument("--served", required=True)
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, **_isolate(args.hosts.split(","), Path(tmp))}
        site = _start_site(env["OFFLINE_SITE_CERT"], env["OFFLINE_SITE_KEY"])
        try:
            started = time.monotonic()
            child = subprocess.Popen(command, env=env)
            for signum in (signal.SIGTERM, signal.SIGINT):
                signal.signal(signum, lambda n, _f: child.send_signal(n))
            code = child.wait()
            # The command's own time, without the namespaces, certificates and site set up
            # around it (seconds on a busy machine).
            Path(args.served + ".seconds").write_text(f"{time.monotonic() - started:.3f}")
            time.sleep(0.2)  # the site counts the last requests
            with urllib.request.urlopen("http://127.0.0.1:80/__served", timeout=5) as answer:
                Path(args.served).write_text(answer.read().decode())
        finally:
            site.terminate()
            site.wait(timeout=10)
    return code


if __name__ == "__main__":
    sys.exit(main())
