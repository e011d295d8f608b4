"""What one Prometheus scrape, or one OTLP export's reading, costs horde with 100 request names.

    .venv/bin/python bench/metrics_scrape.py [--names 100] [--scrapes 200]

The stats of a run with ``--names`` names, 10,000 requests each (log-normal times, so each row's
histogram has a realistic spread of buckets), are read the three ways horde reads them: the
families (``collect``), Prometheus's text (``render``, what one scrape of ``/metrics`` builds),
and the OpenTelemetry SDK's data (``metrics_data``, what one OTLP export hands its exporter, when
the SDK is installed). Then ``/metrics`` is served on 127.0.0.1 and scraped over HTTP: the CPU
this process spends per scrape, the handler and aiohttp included. The work runs on horde's event
loop once per scrape or export and never per request. Pinned to CPU 1; medians.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time

import uvloop
from doc import results_path, write_block

from horde.metrics import RunInfo, collect
from horde.metrics.prometheus import render
from horde.runner.environment import Environment
from horde.settings import Settings


def filled_environment(names: int, per_name: int) -> Environment:
    env = Environment(user_classes=[], host="http://127.0.0.1:9")
    rng = random.Random(1)
    for i in range(names):
        entry = env.stats.entry("GET" if i % 4 else "POST", f"/api/resource/{i}/:id")
        for _ in range(per_name):
            entry.record(int(rng.lognormvariate(9, 0.8)), 512)
        for _ in range(per_name // 100):
            entry.record_failure("HTTP 503")
    return env


def timed(fn, repeat: int) -> float:
    """Median CPU seconds of one call."""
    costs = []
    for _ in range(repeat):
        started = time.process_time()
        fn()
        costs.append(time.process_time() - started)
    return statistics.median(costs)


# Prometheus's side: N scrapes in a row from another process, on another CPU.
SCRAPER = """
import os, sys, urllib.request
if hasattr(os, "sched_setaffinity"):
    os.sched_setaffinity(0, {0})
size = 0
for _ in range(int(sys.argv[2])):
    with urllib.request.urlopen(sys.argv[1], timeout=10) as response:
        size = len(response.read())
print(size)
"""


async def http_scrapes(env: Environment, scrapes: int) -> tuple[float, int]:
    """CPU of this process (horde's side alone) per scrape over HTTP, and an answer's size."""
    from horde.web.metrics_server import start_metrics_server

    server, url = await start_metrics_server(
        env, Settings(scenario="bench", metrics_port=0), RunInfo("headless")
    )
    started = time.process_time()
    client = await asyncio.create_subprocess_exec(
        sys.executable, "-c", SCRAPER, url, str(scrapes), stdout=asyncio.subprocess.PIPE
    )
    out, _ = await client.communicate()
    total = time.process_time() - started
    await server.cleanup()
    return total / scrapes, int(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--names", type=int, default=100)
    parser.add_argument("--per-name", type=int, default=10_000)
    parser.add_argument("--scrapes", type=int, default=200)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})
    env = filled_environment(args.names, args.per_name)
    run = RunInfo("headless", "bench.py")
    figures: dict[str, float] = {}
    figures["collect_ms"] = 1000 * timed(lambda: collect(env, run), args.scrapes)
    families = collect(env, run)
    figures["render_ms"] = 1000 * timed(lambda: render(families), args.scrapes)
    figures["collect_and_render_ms"] = 1000 * timed(lambda: render(collect(env, run)), args.scrapes)
    try:
        from horde.metrics.otel import OtlpExport, resolve_otlp

        export = OtlpExport(env, run, resolve_otlp("http/protobuf", "http://127.0.0.1:9", 60))
        figures["otlp_data_ms"] = 1000 * timed(
            lambda: export.metrics_data(collect(env, run)), args.scrapes
        )
    except Exception as exc:  # the SDK not installed: the rest still stands
        print(f"OTLP data not measured: {exc}", file=sys.stderr)
    per_scrape, size = uvloop.run(http_scrapes(env, args.scrapes))
    figures["http_scrape_cpu_ms"] = 1000 * per_scrape
    figures["answer_kib"] = size / 1024
    for key, value in figures.items():
        print(f"{key:24s} {value:8.2f}")
    command = " ".join(["bench/metrics_scrape.py", *sys.argv[1:]])
    results_path("metrics-scrape").write_text(
        json.dumps({"figures": figures, "command": command, "names": args.names}, indent=2)
    )
    rows = [
        ("read the families (`collect`)", f"{figures['collect_ms']:.2f} ms"),
        ("Prometheus text of them (`render`)", f"{figures['render_ms']:.2f} ms"),
        ("one scrape's work: both", f"{figures['collect_and_render_ms']:.2f} ms"),
        ("one scrape over HTTP, CPU of horde's process (aiohttp included)",
         f"{figures['http_scrape_cpu_ms']:.2f} ms"),
        ("size of the answer", f"{figures['answer_kib']:.0f} KiB"),
    ]  # fmt: skip
    if "otlp_data_ms" in figures:
        rows.append(("one OTLP export's data (`collect` and the SDK's model)",
                     f"{figures['otlp_data_ms']:.2f} ms"))  # fmt: skip
    table = "\n".join(
        ["| step | CPU (median) |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]
    )
    write_block(
        "metrics-scrape",
        "What a Prometheus scrape and an OTLP export cost (bench/metrics_scrape.py)",
        f"{args.names} request names with {args.per_name:,} requests each; pinned to CPU 1, "
        f"median of {args.scrapes}. This work is done once per scrape or export, on horde's "
        f"loop, and never per request: at one scrape every 15 s it is well under 0.1% of a "
        f"core.\n\n{table}",
        command,
    )


if __name__ == "__main__":
    main()
