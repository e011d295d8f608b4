"""Commands other than running a test: ``horde history`` and ``horde compare``.

Each parses its own flags, reads the settings it shares with ``horde run`` (``--history``,
``--tolerance``...) from the config file and ``HORDE_*`` through ``horde.options.configured``,
and returns an exit code. A user's mistake (an unknown run, a bad flag) is a ``ScenarioError``:
one sentence, exit code 2.

Layer: just below the CLI, above the options whose config reading it shares.
"""
