"""Write a benchmark's table into docs/performance.md, between markers owned by that benchmark.

Each benchmark replaces only its own block, so the page always shows the latest run of each, and
no figure in it is ever typed by hand.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HEADER = (
    "# Performance\n\nEvery figure on this page is written by a run of the benchmark harness "
    "(`make bench`); none is typed by hand. Raw results are in `bench/results/`.\n\n"
)


def write_block(
    name: str, title: str, body: str, command: str, page: str = "performance.md"
) -> None:
    doc = ROOT / "docs" / page
    text = doc.read_text() if doc.exists() else HEADER
    begin, end = f"<!-- {name} begin -->", f"<!-- {name} end -->"
    stamp = dt.datetime.now(dt.UTC)
    block = (
        f"{begin}\n## {title}\n\nMeasured {stamp:%Y-%m-%d %H:%M} UTC by `{command}`.\n\n"
        f"{body.strip()}\n{end}"
    )
    if begin in text:
        text = text[: text.index(begin)] + block + text[text.index(end) + len(end) :]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    doc.parent.mkdir(exist_ok=True)
    doc.write_text(text)


def results_path(kind: str) -> Path:
    stamp = dt.datetime.now(dt.UTC)
    out = ROOT / "bench" / "results" / f"{stamp:%Y-%m-%d}-{kind}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    return out
