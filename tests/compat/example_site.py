"""The site Locust's example locustfiles are run against, in its own process (aiohttp).

It answers every path the examples use (Locust's web UI pages, the quickstart's /hello and
/item, a sign-in form with a token, JSON endpoints, postman-echo's /get and /post) and a 404 for
anything else, and counts what it served by method and path: ``GET /__served`` returns the
counts as JSON, so a test can check a tool's figures against the server's.

    python tests/compat/example_site.py --ready-fd FD     # the port is written to FD
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
from collections import Counter

from aiohttp import web

served: Counter[str] = Counter()

SIGN_IN_PAGE = (
    '<html><body><form action="/sign-in" method="post"><input type="hidden" '
    'name="authenticity_token" value="t0k3n"><input name="user[email]"></form></body></html>'
)


async def _json_body(request: web.Request) -> object:
    text = await request.text()
    try:
        return json.loads(text) if text else None
    except ValueError:
        return text


async def echo(request: web.Request) -> web.Response:
    """postman-echo.com's /get and /post: the arguments and body sent, echoed as JSON."""
    body = await _json_body(request)
    form = dict(await request.post()) if request.content_type.endswith("form-urlencoded") else {}
    return web.json_response(
        {
            "args": dict(request.query),
            "data": body if body is not None else "",
            "form": {k: str(v) for k, v in form.items()},
            "json": body if isinstance(body, dict | list) else None,
            "headers": dict(request.headers),
            "url": str(request.url),
        }
    )


async def authenticate(request: web.Request) -> web.Response:
    body = await _json_body(request)
    username = body.get("username", "") if isinstance(body, dict) else ""
    return web.json_response({"message": f"Welcome {username}!"})


async def checkout(request: web.Request) -> web.Response:
    return web.json_response({"orderId": 42})


async def sign_in(request: web.Request) -> web.Response:
    if request.method == "POST":
        await request.post()
        raise web.HTTPFound("/welcome")
    return web.Response(text=SIGN_IN_PAGE, content_type="text/html")


async def slow(request: web.Request) -> web.Response:
    await asyncio.sleep(0.1)
    return web.Response(text="Another page")


async def page(request: web.Request) -> web.Response:
    return web.Response(
        text="<html><body>Locust example site</body></html>", content_type="text/html"
    )


async def stats_requests(request: web.Request) -> web.Response:
    return web.json_response({"stats": [], "errors": [], "user_count": 0})


async def response_headers(request: web.Request) -> web.Response:
    """httpbin's /response-headers: the query's pairs come back as response headers."""
    return web.json_response(dict(request.query), headers=dict(request.query))


async def error(request: web.Request) -> web.Response:
    return web.Response(status=500, text="error")


async def served_counts(request: web.Request) -> web.Response:
    return web.json_response(dict(served))


ROUTES = {
    "/": page,
    "/hello": page,
    "/world": page,
    "/hello1": page,
    "/hello2": page,
    "/item": page,
    "/welcome": page,
    "/login": page,
    "/protected/resource": page,
    "/stats/requests": stats_requests,
    "/sign-in": sign_in,
    "/authenticate": authenticate,
    "/checkout/confirm": checkout,
    "/slow": slow,
    "/error": error,
    "/response-headers": response_headers,
    "/get": echo,
    "/post": echo,
}


@web.middleware
async def count(request: web.Request, handler: object) -> web.StreamResponse:
    if request.path != "/__served":
        served[f"{request.method} {request.path}"] += 1
    return await handler(request)  # type: ignore[operator]


async def dispatch(request: web.Request) -> web.StreamResponse:
    if request.path == "/__served":
        return await served_counts(request)
    handler = ROUTES.get(request.path)
    if handler is None:
        raise web.HTTPNotFound(text="not found")
    return await handler(request)


async def serve(
    ready_fd: int | None,
    port: int = 0,
    tls_port: int | None = None,
    cert: str | None = None,
    key: str | None = None,
) -> None:
    """Serve on ``port`` (0: any free one, written to ``ready_fd``), and with ``tls_port`` also
    over TLS with ``cert``/``key`` (the offline runs of examples that name internet hosts:
    offline.py)."""
    app = web.Application(middlewares=[count])
    app.router.add_route("*", "/{tail:.*}", dispatch)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    if tls_port is not None:
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)  # type: ignore[arg-type]
        await web.TCPSite(runner, "127.0.0.1", tls_port, ssl_context=context).start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    if ready_fd is not None:
        os.write(ready_fd, f"{port}\n".encode())
        os.close(ready_fd)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await stop.wait()
    await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ready-fd", type=int, default=None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-port", type=int, default=None)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    args = parser.parse_args()
    asyncio.run(serve(args.ready_fd, args.port, args.tls_port, args.cert, args.key))


if __name__ == "__main__":
    main()
