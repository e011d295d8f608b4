"""Distributed runs: one master and worker processes, on this machine or on many.

One Python process uses one core, so loading a target fully needs several processes even on one
machine (``--processes N``), and more load needs more machines (``--master`` / ``--worker``).
The user still sees one run: one console, one summary, one set of files.

Modules, one job each: ``protocol`` (typed messages, msgpack), ``security`` (HMAC with the shared
secret), ``transport`` (ZeroMQ on the asyncio loop), ``plan`` (users per worker and class),
``stats_delta`` (what workers send every second, and its exact merge), ``master`` and ``worker``
(message handlers; the master is a ``horde.runner.interface.Runner``), ``processes`` (local
worker processes), ``config`` (settings to a role) and ``session`` (a master bound, serving, with
its local workers). The runs from the command line are modes (``horde.modes.master``,
``horde.modes.worker``). See docs/distributed.md.

Layer: beside ``horde.web`` (neither imports the other), above the runner and the stats; below
the modes. Importing this package is cheap: ZeroMQ is imported only by the modules that use it.
"""
