"""Distributed runs: one master and worker processes, on this machine or on many.

One Python process uses one core, so loading a target fully needs several processes even on one
machine (``--processes N``), and more load needs more machines (``--master`` / ``--worker``).
The user still sees one run: one console, one summary, one set of files.

Modules, one job each: ``protocol`` (typed messages, msgpack), ``security`` (HMAC with the shared
secret), ``transport`` (ZeroMQ on the asyncio loop), ``plan`` (users per worker and class),
``stats_delta`` (what workers send every second, and its exact merge), ``master`` and ``worker``
(message handlers and the runner interface), ``processes`` (local worker processes), ``config``
(flags to a role) and ``session`` (the command-line runs). See docs/distributed.md.

Importing this package is cheap: ZeroMQ is imported only by the modules that use it.
"""
