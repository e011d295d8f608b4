"""Memory of the generator over minutes against a server that closes every connection, and with
10 users on a 200 MB body.

    .venv/bin/python bench/soak.py [--minutes 3] [--users 10]

Churn: ``--users`` users, waiting 10 ms between requests, request ``/close`` of
bench/soak_server.py, which closes each connection once it has been idle 5 ms after answering
(having promised keep-alive), over HTTP and then HTTPS, for
``--minutes`` each. The resident memory of the generator is sampled every 5 s; after a 30 s
warm-up, its growth is the slope of a least-squares line through the samples (target: under
1 MB per minute). Big body: 10 users ask for a 200 MB body for 20 s, with the default body cap
(each response a BodyTooLarge failure), with ``keep_body=False`` and with ``stream=True``; the
target is a peak resident memory under 200 MB. Every phase runs in a fresh process, so that
its peak is its own. The request count of each phase is checked against the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from doc import results_path, write_block
from serving import pin_to

HERE = Path(__file__).resolve().parent
WARM_UP = 30.0
CHURN_WAIT = 0.01  # longer than the server's idle close: every pooled connection is closed
SAMPLE_EVERY = 5.0
BIG_SECONDS = 20.0
GROWTH_TARGET_MB_PER_MIN = 1.0
PEAK_TARGET_MB = 200.0


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def slope_per_minute(samples: list[tuple[float, float]]) -> float:
    n = len(samples)
    mean_t = sum(t for t, _ in samples) / n
    mean_m = sum(m for _, m in samples) / n
    num = sum((t - mean_t) * (m - mean_m) for t, m in samples)
    den = sum((t - mean_t) ** 2 for t, _ in samples)
    return num / den * 60 if den else 0.0


def server_count(url: str) -> int:
    import ssl

    context = ssl._create_unverified_context()
    with urllib.request.urlopen(f"{url}/__count", timeout=10, context=context) as answer:
        return int(answer.read())


# One phase, in its own process ------------------------------------------------------------------
def run_phase(kind: str, url: str, seconds: float, users: int) -> dict:
    from horde import HttpUser, constant, task
    from horde.runner.environment import Environment
    from horde.runner.load import Users
    from horde.runner.local import LocalRunner
    from horde.stats import RequestStats

    kwargs: dict = {}
    path = "/close"
    if kind.startswith("big"):
        path = "/big"
        kwargs = {"big-cap": {}, "big-discard": {"keep_body": False}, "big-stream": {}}[kind]
    streamed = kind == "big-stream"

    class SoakUser(HttpUser):
        # Between requests the server closes the idle connection (churn); none for big bodies.
        wait_time = constant(0 if path == "/big" else CHURN_WAIT)

        @task
        async def hit(self) -> None:
            if streamed:
                response = await self.client.get(path, stream=True)
                async for _ in response.aiter_content():
                    pass
                response.close()
            else:
                await self.client.get(path, **kwargs)

    async def go() -> dict:
        env = Environment(user_classes=[SoakUser], host=url, insecure=True, stats=RequestStats())
        runner = LocalRunner(env)
        started = time.monotonic()
        runner.start(Users(users, 100))
        samples: list[tuple[float, float]] = []
        while (elapsed := time.monotonic() - started) < seconds:
            await asyncio.sleep(min(SAMPLE_EVERY, seconds - elapsed))
            samples.append((time.monotonic() - started, rss_mb()))
        await runner.stop()
        total = env.stats.total
        errors = sorted({e.error for e in env.stats.errors.values()})
        return {
            "samples": samples,
            "requests": total.num_requests,
            "failures": total.num_failures,
            "errors": errors[:5],
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }

    import uvloop

    return uvloop.run(go())


def phase_in_child(kind: str, url: str, seconds: float, users: int) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--phase", kind, "--url", url, "--seconds", str(seconds),
         "--users", str(users)],
        check=True, capture_output=True, text=True, preexec_fn=lambda: pin_to(1),
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def start_soak_server(tls: tuple[str, str] | None) -> tuple[subprocess.Popen[bytes], str]:
    read_fd, write_fd = os.pipe()
    extra = ["--cert", tls[0], "--key", tls[1]] if tls else []
    process = subprocess.Popen(
        [sys.executable, str(HERE / "soak_server.py"), *extra, "--ready-fd", str(write_fd)],
        pass_fds=(write_fd,),
        preexec_fn=lambda: pin_to(0),
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as ready:
        port = int(ready.readline())
    return process, f"{'https' if tls else 'http'}://127.0.0.1:{port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--minutes", type=float, default=3.0, help="per churn phase")
    parser.add_argument("--users", type=int, default=10)
    parser.add_argument("--phase", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, help=argparse.SUPPRESS)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.phase:
        print(json.dumps(run_phase(args.phase, args.url, args.seconds, args.users)))
        return

    import trustme

    ca = trustme.CA()
    cert = ca.issue_cert("127.0.0.1")
    folder = Path(tempfile.mkdtemp())
    cert.cert_chain_pems[0].write_to_path(str(folder / "cert.pem"))
    cert.private_key_pem.write_to_path(str(folder / "key.pem"))
    tls = (str(folder / "cert.pem"), str(folder / "key.pem"))

    rows = []
    results: dict[str, dict] = {}
    for label, kind, use_tls, seconds in [
        ("churn, HTTP", "churn", False, args.minutes * 60),
        ("churn, HTTPS", "churn", True, args.minutes * 60),
        ("200 MB body, default cap", "big-cap", False, BIG_SECONDS),
        ("200 MB body, keep_body=False", "big-discard", False, BIG_SECONDS),
        ("200 MB body, stream=True", "big-stream", False, BIG_SECONDS),
    ]:
        server, url = start_soak_server(tls if use_tls else None)
        try:
            result = phase_in_child(kind, url, seconds, args.users)
            result["server_count"] = server_count(url)
        finally:
            server.terminate()
            server.wait()
        results[label] = result
        counted = "yes" if result["requests"] == result["server_count"] else "NO"
        if kind == "churn":
            after = [s for s in result["samples"] if s[0] >= WARM_UP]
            growth = slope_per_minute(after)
            result["growth_mb_per_min"] = growth
            verdict = "PASS" if growth < GROWTH_TARGET_MB_PER_MIN else "FAIL"
            figure = (f"{growth:+.2f} MB/min after warm-up ({after[0][1]:.0f} -> "
                      f"{after[-1][1]:.0f} MB)")  # fmt: skip
            target = f"< {GROWTH_TARGET_MB_PER_MIN:g} MB/min"
        else:
            verdict = "PASS" if result["peak_mb"] < PEAK_TARGET_MB else "FAIL"
            figure = f"{result['peak_mb']:.0f} MB peak RSS"
            target = f"< {PEAK_TARGET_MB:g} MB"
        rows.append(
            f"| {label} | {result['requests']:,} ({result['failures']:,} failed) | {counted} | "
            f"{figure} | {target} | {verdict} |"
        )
        print(rows[-1], flush=True)
        if result["errors"]:
            print("    errors:", "; ".join(result["errors"]), flush=True)
    table = "\n".join(
        ["| phase | requests | counts equal the server's | memory | target | verdict |",
         "|---|---|---|---|---|---|", *rows]
    )  # fmt: skip
    command = " ".join(["bench/soak.py", *sys.argv[1:]])
    if args.no_write:
        return
    results_path("soak").write_text(json.dumps({"results": results, "command": command}, indent=2))
    write_block(
        "soak",
        "Memory over a long run against a failing server (bench/soak.py)",
        f"{args.users} users, async tasks; generator on CPU 1, server on CPU 0. Churn: users "
        f"wait {CHURN_WAIT * 1000:g} ms between requests and the server closes every connection "
        f"idle for 5 ms after answering, {args.minutes:g} min per "
        f"protocol, memory sampled every {SAMPLE_EVERY:g} s, growth fitted after a "
        f"{WARM_UP:g} s warm-up. Big body: {BIG_SECONDS:g} s each, peak resident memory of the "
        f"generator process.\n\n{table}",
        command,
    )


if __name__ == "__main__":
    main()
