"""Serving a bench server's protocol until SIGTERM or Ctrl-C, and telling the parent its port.

The bench servers (target_server, queue_server, delay_server) are started by benchmarks and test
fixtures as subprocesses on port 0; the parent learns the port from a pipe (``--ready-fd``)
instead of guessing a free one, which could be taken between the guess and the bind.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path


async def serve_until_stopped(
    protocol_factory: Callable[[], asyncio.Protocol],
    host: str = "127.0.0.1",
    port: int = 0,
    ready_fd: int | None = None,
) -> None:
    """Listen on ``host:port``, write the bound port to ``ready_fd``, serve until signalled."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(protocol_factory, host, port, backlog=4096)
    if ready_fd is not None:
        os.write(ready_fd, f"{server.sockets[0].getsockname()[1]}\n".encode())
        os.close(ready_fd)
    stop = asyncio.Event()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()


def pin_to(cpu: int) -> None:
    """Run this process on ``cpu`` only (on machines with more than one)."""
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {cpu})


def start_server(
    script: str = "target_server.py", *args: str, cpu: int | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    """Start ``bench/<script>`` on a free port, pinned to ``cpu`` if given: (process, URL)."""
    read_fd, write_fd = os.pipe()
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name(script)), *args, "--ready-fd", str(write_fd)],
        pass_fds=(write_fd,),
        preexec_fn=None if cpu is None else (lambda: pin_to(cpu)),
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as ready:
        port = int(ready.readline())
    return process, f"http://127.0.0.1:{port}"
