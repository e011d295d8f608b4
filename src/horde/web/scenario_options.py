"""The scenario's own command-line options, shown and changed in the start and edit forms.

A scenario adds options through ``events.init_command_line_parser`` (the demo's
``--shared-account``); its users read them from ``environment.parsed_options``. As in Locust,
the forms show them with their current values and ``/swarm`` takes new values under the option's
``dest`` name (``shared_account=true``), converted as the command line would convert them.

Which options are the scenario's is known from parsing the command line: the settings keep
the parser's actions that horde's own parser lacks (``Settings.scenario_actions``), so the web
UI needs no parser of its own.
"""

from __future__ import annotations

import argparse
import html
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from horde.web.forms import SWARM_FIELDS, FormError

__all__ = ["ScenarioOption", "apply_options", "discover_options", "options_html"]

TRUE = ("true", "on", "1", "yes")
FALSE = ("false", "off", "0", "no", "")
SECRET_WORDS = ("password", "secret", "token", "apikey", "api_key")


@dataclass(frozen=True)
class ScenarioOption:
    dest: str
    flag: str  # its longest spelling on the command line, e.g. --shared-account
    help: str
    kind: str  # bool, int, float, choice, text
    choices: tuple[Any, ...] = ()
    convert: Callable[[str], Any] | None = None
    # Locust's add_argument keywords: is_secret, is_required, is_multiple (with choices).
    is_secret: bool = False
    required: bool = False
    multiple: bool = False

    @property
    def secret(self) -> bool:
        return self.is_secret or any(word in self.dest.lower() for word in SECRET_WORDS)

    def parse(self, raw: str) -> Any:
        """The value the command line would have given for ``raw``; FormError otherwise."""
        text = raw.strip()
        if self.kind == "bool":
            if text.lower() in TRUE:
                return True
            if text.lower() in FALSE:
                return False
            raise FormError(f"{self.dest} must be true or false, not {raw!r}")
        if self.multiple:
            values = [self._one(part.strip(), raw) for part in text.split(",") if part.strip()]
            if self.required and not values:
                raise FormError(f"{self.dest} is required")
            return values
        if self.required and not text:
            raise FormError(f"{self.dest} is required")
        return self._one(text, raw)

    def _one(self, text: str, raw: str) -> Any:
        try:
            value = self.convert(text) if self.convert is not None else text
        except (TypeError, ValueError, argparse.ArgumentTypeError) as exc:
            raise FormError(f"invalid value for {self.dest} ({self.flag}): {exc}") from None
        if self.choices and value not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            raise FormError(f"{self.dest} must be one of {allowed}, not {raw!r}")
        return value


def _kind(action: argparse.Action) -> str:
    if action.nargs == 0 and isinstance(action.const, bool):
        return "bool"  # store_true / store_false
    if action.type is None and isinstance(action.default, bool):
        return "bool"  # Locust's: "a boolean default value makes the input a checkmark"
    if action.choices:
        return "choice"
    if action.type is int:
        return "int"
    if action.type is float:
        return "float"
    return "text"


def discover_options(actions: Sequence[argparse.Action]) -> list[ScenarioOption]:
    """Form fields for the options ``events.init_command_line_parser``'s listeners added, as the
    command line's parser defined them (``Settings.scenario_actions``)."""
    found = []
    for action in actions:
        if action.dest in SWARM_FIELDS or not action.option_strings:
            continue
        if action.help == argparse.SUPPRESS or action.nargs not in (None, 0, "?"):
            continue  # hidden, or a list: not a form field
        if getattr(action, "include_in_web_ui", True) is False:
            continue  # Locust's include_in_web_ui=False
        convert = action.type if callable(action.type) else None
        found.append(
            ScenarioOption(
                dest=action.dest,
                flag=max(action.option_strings, key=len),
                help=(action.help or "").replace("%%", "%"),
                kind=_kind(action),
                choices=tuple(action.choices or ()),
                convert=convert,
                is_secret=bool(getattr(action, "is_secret", False)),
                required=bool(getattr(action, "is_required", False)),
                multiple=bool(getattr(action, "is_multiple", False)) and bool(action.choices),
            )
        )
    return found


def current_values(options: list[ScenarioOption], parsed: Any) -> dict[str, Any]:
    return {o.dest: getattr(parsed, o.dest, None) for o in options}


def apply_options(
    form: Mapping[str, str], options: list[ScenarioOption], parsed: Any
) -> dict[str, Any]:
    """Set the options ``form`` names on ``parsed``; all are checked before any is set."""
    changes = {o.dest: o.parse(form[o.dest]) for o in options if o.dest in form}
    for dest, value in changes.items():
        setattr(parsed, dest, value)
    return changes


def _field(option: ScenarioOption, value: Any, form_id: str) -> str:
    name = html.escape(option.dest)
    field_id = f"{form_id}-opt-{name}"
    label = f"<code>{html.escape(option.flag)}</code>"
    help_text = html.escape(option.help)
    if option.kind == "bool":
        checked = " checked" if value else ""
        return (
            f'<label class="check" for="{field_id}"><input id="{field_id}" type="checkbox" '
            f'name="{name}" value="true" data-bool{checked}> {label} '
            f'<span class="muted">{help_text}</span></label>'
        )
    required = " required" if option.required else ""
    if option.kind == "choice":
        chosen = value if isinstance(value, list | tuple) and option.multiple else [value]
        items = "".join(
            f'<option value="{html.escape(str(c))}"{" selected" if c in chosen else ""}>'
            f"{html.escape(str(c))}</option>"
            for c in option.choices
        )
        multiple = " multiple data-multiple" if option.multiple else ""
        control = f'<select id="{field_id}" name="{name}"{multiple}{required}>{items}</select>'
    else:
        kind = {"int": "number", "float": "number"}.get(option.kind, "text")
        if option.secret:
            kind = "password"
        step = ' step="any"' if option.kind == "float" else ""
        shown = "" if value is None else html.escape(str(value))
        control = (
            f'<input id="{field_id}" type="{kind}"{step} name="{name}" value="{shown}" '
            f'autocomplete="off"{required}>'
        )
    return (
        f'<label for="{field_id}">{label} <span class="muted">{help_text}</span>{control}</label>'
    )


def options_html(options: list[ScenarioOption], parsed: Any, form_id: str) -> str:
    """A fieldset of the scenario's options for one form (empty without any)."""
    if not options:
        return ""
    values = current_values(options, parsed)
    fields = "".join(_field(o, values[o.dest], form_id) for o in options)
    return (
        '<details class="scenario-options" open><summary>Scenario options</summary>'
        f'<fieldset class="scenario-options">{fields}</fieldset></details>'
    )
