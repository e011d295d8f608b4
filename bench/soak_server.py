"""The soak benchmark's target: a server that closes every connection, and a 200 MB body.

    python bench/soak_server.py [--cert FILE --key FILE] --ready-fd N

``/close`` answers as if the connection were kept alive, then closes it once idle for 5 ms (as a
server that closes idle keep-alive connections does, Node.js after 5 s): the client's pool holds
connections that the server has closed. ``/big`` sends 200 MB. ``/__count`` tells the requests seen.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import ssl

BIG_BODY = 200 * 1024 * 1024
CHUNK = 1024 * 1024
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
IDLE_CLOSE = 0.005  # Node.js closes idle keep-alive connections after 5 s; this is 1,000x sooner
seen = 0


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    global seen
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b" ", 2)[1]
            if target == b"/__count":
                body = str(seen).encode()
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
                await writer.drain()
                continue
            seen += 1
            if target == b"/big":
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BIG_BODY)
                chunk = bytes(CHUNK)
                for _ in range(BIG_BODY // CHUNK):
                    writer.write(chunk)
                    await writer.drain()
                continue
            writer.write(OK)
            await writer.drain()
            # /close: keep-alive promised, but the connection closes once idle for IDLE_CLOSE
            try:
                await asyncio.wait_for(reader._wait_for_data("idle"), IDLE_CLOSE)  # type: ignore[attr-defined]
            except TimeoutError:
                return
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, OSError):
        pass
    finally:
        writer.close()


async def main(args: argparse.Namespace) -> None:
    context = None
    if args.cert:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(args.cert, args.key)
    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=context, backlog=4096)
    os.write(args.ready_fd, f"{server.sockets[0].getsockname()[1]}\n".encode())
    os.close(args.ready_fd)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    server.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--ready-fd", type=int, required=True)
    asyncio.run(main(parser.parse_args()))
