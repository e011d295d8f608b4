"""The web UI: a dashboard and a Locust-compatible JSON API, served on the run's own event loop.

Layer: beside ``horde.distributed`` (neither imports the other), above the runner, which it
drives through ``horde.runner.interface.Runner``, and the report; below the modes
(``horde.modes.web`` and a master's web UI), which serve it (``server``).
"""
