"""Locust's example locustfiles (vendored in locust_examples/, MIT licence) and how each is run.

The 37 examples that need nothing but HTTP and the standard library, plus the XML-RPC one with
its own server. Each runs as written, with the same Locust flags under horde and under Locust.
``missing`` names what horde still lacks for it (the item of issue 13 that will bring it): the
suite marks such an example as an expected failure with that reason, so it tells exactly what is
left, and passes by itself (strict xfail) the day the item lands.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Example:
    path: str  # under locust_examples/
    users: int = 5
    seconds: int = 4
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    target: str = "site"  # "site" (example_site.py) or "xmlrpc" (xmlrpc_site.py)
    # Without waits the request count follows the tool's speed: compare shares, not counts.
    throughput_bound: bool = False
    # Requests horde records as their own rows where Locust folds them into the request that
    # was redirected (Locust's requests-based client follows redirects inside one request).
    redirect_hops: tuple[str, ...] = ()
    # Lines the example prints when it works (it may make no request at all).
    prints: tuple[str, ...] = ()
    # Errors it makes Locust log, which horde must log too (other ERROR lines are problems).
    errors: tuple[str, ...] = ()
    missing: str | None = None
    # Locust itself runs it only with its web UI: recorded with --autostart instead of headless.
    needs_web_ui: bool = False
    # It has a load shape: Locust then ignores -t (and -u, -r) and runs the shape to its end,
    # so the recording stops it with SIGTERM after ``seconds``; horde keeps to -t.
    shape: bool = False
    # The internet host names it sends requests to (absolute URLs, or its class's host): it
    # runs offline, where these names are the example site (offline.py), with no -H of ours.
    offline: tuple[str, ...] = ()
    # -H for an offline run (None: none; the file names its hosts).
    host: str | None = None
    # A Python script using Locust as a library (``python FILE`` / ``horde exec FILE``): no
    # Locust flags, no CSV; its rows are read from the stats table it prints.
    script: bool = False
    # Rows whose requests never reach a server (a refused connection): not in its count.
    unserved: tuple[str, ...] = ()
    # Requests the example sends with ``requests`` itself (at import, in test_start), which
    # neither tool records: the site serves that many more than the tool counts.
    unrecorded: int = 0
    # (pattern, replacement) for row names that hold what differs on every run (a time of
    # day): rows are compared with it replaced.
    row_names: tuple[str, str] | None = None
    # The example draws how long its users take to start (wait_user_count: time.sleep of 0 to
    # 5 s in each __init__, one user after another, as in Locust): how many users an 8 s run
    # has, and so its request count, is a matter of chance (6 to 40 and more, under either
    # tool), so counts are not compared with Locust's one recording; rows, failures and the
    # server's count still are.
    random_counts: bool = False

    @property
    def id(self) -> str:
        return self.path.removesuffix(".py")


EXAMPLES = [
    Example(
        "add_command_line_argument.py",
        prints=("Custom argument supplied: ", "my_ui_invisible_argument=I am invisible"),
    ),
    Example("basic.py", users=20, seconds=6),
    Example("bottlenecked_server.py", needs_web_ui=True),
    Example("csrf_form_authentication.py", users=20, seconds=6, redirect_hops=("GET /welcome",)),
    Example(
        "custom_messages.py",
        # Its test_start listener sends messages to itself; the last one's handler sleeps 10 s
        # in the greenlet that would spawn users, so no user starts in the 4 s run (as under
        # Locust).
        prints=(
            "Thanks for the 5 users!",
            "concurrent_message received with data: 'Message to concurrent handler'",
        ),
    ),
    Example("custom_shape/double_wave.py", seconds=5, shape=True),
    Example("custom_shape/stages.py", seconds=5, shape=True),
    Example("custom_shape/staging_user_classes.py", seconds=5, shape=True),
    Example("custom_shape/step_load.py", seconds=5, shape=True),
    # Its User.__init__ sleeps 0-5 s: users are made one after the other, in a greenlet.
    Example("custom_shape/wait_user_count.py", seconds=8, shape=True, random_counts=True),
    Example("custom_wait_function.py", users=10, seconds=6),
    Example(
        "custom_xmlrpc_client/xmlrpc_locustfile.py",
        users=10,
        target="xmlrpc",
        throughput_bound=True,  # no wait: as many calls as the server's delays allow
    ),
    Example("debugging.py", throughput_bound=True),
    Example("debugging_advanced.py"),
    Example("dispatch_test_scripts/locustfile.py", seconds=5, shape=True),
    Example("dynamic_user_credentials.py", users=10),
    Example("events.py", users=10),
    # Ten users waiting 2-5 s, one task in three: 10 s so that each row is all but certain.
    Example("extend_web_ui.py", users=10, seconds=10),
    Example("fast_http_locust.py", throughput_bound=True),
    Example("locustfile.py", users=20, seconds=5),
    Example("manual_stats_reporting.py", users=10),
    Example("markov_taskset.py", prints=("Method 1: Using a single @transition decorator",)),
    Example("multiple_hosts.py", users=10, env={"API_HOST": "{url}"}),
    Example("nested_inline_tasksets.py", users=20, seconds=6),
    Example("open_closed_workload.py"),
    Example("response_validations.py", throughput_bound=True),
    Example(
        "rest.py",
        offline=("postman-echo.com", "example.com"),
        unserved=("POST http://example.com:42/",),  # its last request: a refused connection
    ),
    Example("semaphore_wait.py", throughput_bound=True),
    Example("stop_on_threshold.py", seconds=6),
    Example(
        "terraform/aws/plan/basic.py",
        seconds=6,
        offline=("google.com", "microsoft.com", "facebook.com"),
        host="https://google.com",  # Locust wants a host for an HttpUser: its URLs are absolute
    ),
    Example("test_pytest.py", throughput_bound=True, offline=("www.locust.io",)),
    Example("testdata_from_csv.py", throughput_bound=True),
    Example(
        "testdata_management.py",
        offline=("postman-echo.com",),
        row_names=(r"\d\d:\d\d\.\d", "MM:SS.f"),  # its URLs hold the time they were made
        # Its global and test-run data come from requests.post: Locust's site served 32 for its
        # 30 recorded requests.
        unrecorded=2,
        prints=(
            "1. Parsing locustfile",
            "2. Initializing locust",
            "3. Starting test run",
            "4. A user was started",
            "5. Getting task-run-specific testdata",
            "6. stopping test run",
            "7. a user was stopped",
            "8. test run stopped",
            "9. locust is about to shut down",
            "10. Locust has shut down with code",
        ),
    ),
    # It runs for 30 s (its own gevent.spawn_later(30, runner.quit)), printing its stats.
    Example(
        "use_as_lib.py",
        seconds=30,
        offline=("docs.locust.io",),
        script=True,
        throughput_bound=True,
        prints=("Type     Name  ",),  # the header of the stats table it prints every 2 s
    ),
    Example("web_ui_auth/basic.py", throughput_bound=True),
    Example("web_ui_auth/custom_form.py", throughput_bound=True),
    # Ten users waiting 2-5 s: 10 s makes each of its three rows all but certain (4 s left a
    # row empty in about one run in forty).
    Example("web_ui_cache_stats.py", users=10, seconds=10),
    # Its ForwardedForUser has no task (it is a base class not marked abstract): Locust logs
    # an error for it (and counts it); so does horde.
    Example(
        "x-forwarded-for.py",
        throughput_bound=True,
        errors=("No tasks defined on ForwardedForUser",),
    ),
]

BY_ID = {example.id: example for example in EXAMPLES}


def locust_args(example: Example, url: str | None) -> list[str]:
    """The command line both tools get (Locust's flags), without the file and the CSV prefix;
    ``url`` is the site's (None for an offline run, which has -H only if the example needs
    one)."""
    if example.script:
        return []
    host = url if url is not None else example.host
    return [
        *(["-H", host] if host else []), "-u", str(example.users), "-r", str(example.users),
        "-t", f"{example.seconds}s", "--headless", "--only-summary", "--stop-timeout", "0",
    ]  # fmt: skip


def free_port() -> int:
    """A port free now (bound to 0, then released): the web UI of an example that targets
    itself must be named in -H before it starts."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def web_ui_args(example: Example) -> list[str]:
    """Locust runs this one only with its web UI, which is also its target: autostart it."""
    port = free_port()
    args = locust_args(example, f"http://127.0.0.1:{port}")
    args.remove("--headless")
    return [*args, "--autostart", "--autoquit", "0", "--web-host", "127.0.0.1",
            "--web-port", str(port)]  # fmt: skip


def args_for(example: Example, url: str) -> list[str]:
    """The command line of ``example`` against the site at ``url``, for either tool."""
    return web_ui_args(example) if example.needs_web_ui else locust_args(example, url)
