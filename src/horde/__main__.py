"""``python -m horde``: the same as the ``horde`` command."""

from horde.cli import entry_point

entry_point()
