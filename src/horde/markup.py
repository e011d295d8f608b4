"""User-supplied text in rich output, shown exactly as written.

rich reads a plain ``str`` handed to a table or a title as markup: ``[/x]`` in a request name
raises ``MarkupError`` (in the end-of-run summary, before any file is written) and ``[id]``
silently vanishes. Request names, failure and exception texts, class names, hosts and worker ids
all come from the scenario or the target, so every one goes through ``plain``.
"""

from __future__ import annotations

from rich.text import Text

__all__ = ["plain"]


def plain(value: object) -> Text:
    """``value`` as literal text (a ``Text`` is passed through with its styles)."""
    return value if isinstance(value, Text) else Text(str(value))
