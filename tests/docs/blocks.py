"""The code blocks of the documentation, and how each is run, so that no example can rot.

Every fenced block in docs/*.md and README.md carries a marker on the line just before it (an
HTML comment, invisible on the site and on GitHub) that says what it is:

    <!-- example: scenario [file=NAME] [args="..."] [failures=allowed] [run=no] -->
        A scenario file: saved in the page's folder as NAME (so that later commands of the page
        can name it), then run for 1 s against the demo app: `horde run NAME -H DEMO -u 4
        -r 10 -t 1s --headless` plus args. It must exit 0 with requests and no failure (unless
        failures=allowed). run=no only saves it (a file the next block runs differently).
    <!-- example: shell [exit=N] [stop-after=SECONDS] [web-ui] -->
        Shell commands, run with bash in the page's folder (its scenario files, examples/ and
        bench/ beside them, `horde` on the PATH), made brief (see `brief`). They must exit 0
        (or N). stop-after: a command that runs until Ctrl-C gets SIGINT then. web-ui: a horde
        web UI runs meanwhile, and the block's http://127.0.0.1:8089 is its address.
    <!-- example: config [file=horde.toml|pyproject.toml] -->
        A config file: horde must read it without error (an unknown key is an error).
    <!-- example: python [web-ui] -->
        Python run as a script in the page's folder; must exit 0 (web-ui: as for shell).
    <!-- illustrative: WHY -->
        Not run, for the reason given (takes minutes, needs other machines, a fixed port...).

A block with the language `text` is output shown to the reader and needs no marker. Anything
else without a marker fails the tests, with the line to add.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KINDS = ("scenario", "shell", "config", "python")

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)[^`]*$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<what>example|illustrative):\s*(?P<rest>.*?)\s*-->\s*$")


@dataclass
class Block:
    page: str  # relative to the repository, e.g. docs/getting-started.md
    line: int  # of the opening fence, 1-based
    language: str
    code: str
    kind: str  # one of KINDS, "illustrative", "output", or "" (unmarked: an error)
    options: dict[str, str] = field(default_factory=dict)
    reason: str = ""

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}:{self.kind or 'unmarked'}"


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def collect(path: Path) -> list[Block]:
    """The fenced blocks of one Markdown file, with their markers."""
    lines = path.read_text().splitlines()
    page = str(path.relative_to(ROOT))
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        opening = _FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, fence, language = opening["indent"], opening["fence"], opening["info"]
        body: list[str] = []
        j = i + 1
        while j < len(lines) and not lines[j].strip().startswith(fence):
            text = lines[j]
            body.append(text[len(indent) :] if text.startswith(indent) else text.lstrip())
            j += 1
        previous = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        block = Block(page, i + 1, language, "\n".join(body) + "\n", kind="")
        marker = _MARKER.match(previous)
        if marker and marker["what"] == "illustrative":
            block.kind, block.reason = "illustrative", marker["rest"]
        elif marker:
            words = shlex.split(marker["rest"])
            block.kind = words[0] if words else ""
            for word in words[1:]:
                key, _, value = word.partition("=")
                block.options[key] = value
        elif language == "text":
            block.kind = "output"
        blocks.append(block)
        i = j + 1
    return blocks


def all_blocks() -> list[Block]:
    return [block for path in pages() for block in collect(path)]


def problem(block: Block) -> str | None:
    """Why a block's marker is wrong, or None."""
    where = f"{block.page}:{block.line}"
    if block.kind == "":
        return (
            f"{where}: a ```{block.language} block without a marker: put one of "
            "<!-- example: scenario|shell|config|python --> or <!-- illustrative: WHY --> on "
            "the line before it (see tests/docs/blocks.py)"
        )
    if block.kind == "illustrative" and not block.reason:
        return f"{where}: say why the block is not run: <!-- illustrative: WHY -->"
    if block.kind not in (*KINDS, "illustrative", "output"):
        return f"{where}: unknown kind of example {block.kind!r} (one of {', '.join(KINDS)})"
    return None


# Making shell examples brief ------------------------------------------------------------------
DOCS_HOST = "http://127.0.0.1:8000"  # where the pages say the demo app is
DOCS_WEB_UI = "http://127.0.0.1:8089"  # where the pages say the web UI is
RUN_TIME = "1s"
MAX_USERS = 4


def _horde_commands(code: str) -> str:
    """Continued lines joined, so that each horde command is on one line."""
    return code.replace("\\\n", " ")


def brief(code: str, demo_url: str) -> str:
    """A shell example as the tests run it: against the demo app, for seconds, not minutes.

    The target (``http://127.0.0.1:8000``, ``-H ...``, or a bare ``...`` standing for the
    flags of the command above) becomes the demo app; in each horde
    command ``-t``/``--run-time`` becomes 1s (added to headless runs that have none), ``-u`` is
    at most 4, ``--processes`` 2; a capacity search takes at most 2 steps of 1 s. Everything
    else is run as written: every flag, file and option must exist.
    """
    code = _horde_commands(code).replace(DOCS_HOST, demo_url)
    code = re.sub(r"(-H|--host)(\s+|=)\.\.\.", rf"\1\2{demo_url}", code)
    lines = []
    for line in code.splitlines():
        if re.search(r"\bhorde (run|capacity)\b", line):
            # A bare "..." stands for the flags of the command above it: a target and --headless.
            line = line.replace(" ... ", f" -H {demo_url} --headless ")
            line = _brief_horde(line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _brief_horde(line: str) -> str:
    comment = ""
    if " #" in line:
        line, _, comment = line.partition(" #")
        comment = " #" + comment
    line = re.sub(r"(?<=\s)(-t|--run-time)(\s+|=)\S+", f"-t {RUN_TIME}", line)
    line = re.sub(
        r"(?<=\s)(-u|--users)(\s+|=)(\d+)",
        lambda m: f"-u {min(int(m[3]), MAX_USERS)}",
        line,
    )
    line = re.sub(r"(?<=\s)--processes(\s+|=)\S+", "--processes 2", line)
    capacity = re.search(r"\bhorde capacity\b", line) is not None
    if capacity:
        line = re.sub(r"(?<=\s)--step-time(\s+|=)\S+", "--step-time 1s", line)
        line = re.sub(r"(?<=\s)--settle-time(\s+|=)\S+", "--settle-time 0s", line)
        for flag, value in (("--step-time", "1s"), ("--settle-time", "0s"), ("--max-steps", "2")):
            if flag not in line:
                line = line.rstrip() + f" {flag} {value}"
    elif "--headless" in line and "-t " not in line:
        line = line.rstrip() + f" -t {RUN_TIME}"
    return line + comment
