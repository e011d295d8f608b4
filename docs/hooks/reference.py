"""ProperDocs hook: the command-line reference, generated from horde's own parser at every build.

A page asks for a generated part with an HTML comment on a line of its own (invisible where the
Markdown is read as is, on GitHub say), which this hook replaces before the page is rendered:

    <!-- horde-reference: run-options -->        every flag of ``horde run``, by group
    <!-- horde-reference: capacity-options -->   the flags only ``horde capacity`` has
    <!-- horde-reference: environment-only -->   HORDE_* variables that are not flags
    <!-- horde-reference: usage -->              what bare ``horde`` prints

Each flag's row gives its value (the metavar), its help, its key in ``horde.toml`` and its
``HORDE_*`` variable, all read from ``horde.options``: nothing here can drift from the parser.
Each row carries an anchor named after the flag (``#run-time``), for links from other pages.
"""

from __future__ import annotations

import argparse
import html
import re
from typing import Any

from horde.cli import USAGE
from horde.options import ENV_PREFIX, ENVIRONMENT_ONLY, build_parser

MARKER = re.compile(r"^<!-- horde-reference: ([a-z-]+) -->$", re.MULTILINE)


def config_key(action: argparse.Action) -> str:
    """The name a flag has in ``horde.toml`` as documented: the long flag's (``run-time``), or
    the plural ``dest`` of a repeatable flag (``thresholds = [...]``)."""
    if isinstance(action, argparse._AppendAction):
        return action.dest.replace("_", "-")
    longs = [flag[2:] for flag in action.option_strings if flag.startswith("--")]
    return longs[0]


def variable(action: argparse.Action) -> str:
    return ENV_PREFIX + config_key(action).replace("-", "_").upper()


def anchor(action: argparse.Action) -> str:
    longs = [flag[2:] for flag in action.option_strings if flag.startswith("--")]
    return longs[0]


def _text(text: str) -> str:
    """Help text as Markdown: HTML-escaped, argparse's ``%%`` as ``%``, a capital first."""
    text = html.escape(text.replace("%%", "%"), quote=False)
    return text[:1].upper() + text[1:] if text else text


def _term(action: argparse.Action) -> str:
    flags = ", ".join(f"`{flag}`" for flag in action.option_strings)
    if action.nargs != 0:
        metavar = action.metavar if isinstance(action.metavar, str) else action.dest.upper()
        flags += f" `{metavar} ...`" if action.nargs in ("*", "+") else f" `{metavar}`"
    return f'<span id="{anchor(action)}"></span>{flags}'


def _where(action: argparse.Action) -> str:
    repeat = "Repeatable. " if isinstance(action, argparse._AppendAction) else ""
    if action.dest == "config":
        return f"{repeat}Environment: `{variable(action)}`."
    value = "true" if action.nargs == 0 else "..."
    return (
        f"{repeat}In horde.toml: `{config_key(action)} = {value}`; "
        f"environment: `{variable(action)}`."
    )


def options_list(actions: list[argparse.Action]) -> str:
    """A definition list: each flag with its value, its help, its config key and variable."""
    items = []
    for action in actions:
        if not action.option_strings or action.dest == "help":
            continue
        items.append(f"{_term(action)}\n:   {_text(action.help or '')}.\n\n    {_where(action)}\n")
    return "\n".join(items)


def _groups(parser: argparse.ArgumentParser) -> list[tuple[str, list[argparse.Action]]]:
    groups = []
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if a.option_strings and a.dest != "help"]
        if actions:
            title = "general" if group.title in (None, "options") else group.title
            groups.append((title[0].upper() + title[1:], actions))
    return groups


def run_options() -> str:
    parts = []
    for title, actions in _groups(build_parser(capacity=False)):
        parts.append(f"### {title}\n\n{options_list(actions)}\n")
    return "\n".join(parts)


def capacity_options() -> str:
    run_flags = {a.dest for a in build_parser(capacity=False)._actions}
    only = [a for a in build_parser(capacity=True)._actions if a.dest not in run_flags]
    return options_list(only)


def environment_only() -> str:
    rows = ["| Variable | Read by |", "| --- | --- |"]
    rows += [f"| `{name}` | {_text(why)} |" for name, why in sorted(ENVIRONMENT_ONLY.items())]
    return "\n".join(rows)


def usage() -> str:
    return f"```text\n{USAGE.strip()}\n```"


SECTIONS = {
    "run-options": run_options,
    "capacity-options": capacity_options,
    "environment-only": environment_only,
    "usage": usage,
}


def expand(markdown: str, where: str = "page") -> str:
    """The page with every marker replaced; an unknown marker is an error (the build fails)."""

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in SECTIONS:
            known = ", ".join(sorted(SECTIONS))
            raise ValueError(f"{where}: unknown horde-reference '{name}' (known: {known})")
        return SECTIONS[name]()

    return MARKER.sub(replace, markdown)


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    return expand(markdown, page.file.src_uri)
