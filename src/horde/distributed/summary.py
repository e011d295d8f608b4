"""The workers table of the console summary (the same rows as ``MasterRunner.workers_info``)."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from horde.markup import plain

__all__ = ["workers_table"]


def workers_table(rows: list[dict[str, Any]], master_cpu: float | None = None) -> Table:
    """One row per worker: id, host, state, users and CPU (now and peak), requests, failures."""
    title = "Workers"
    if master_cpu is not None:
        title += f" (master CPU {master_cpu:.1f}% of one core)"
    table = Table(title=title, title_justify="left", header_style="bold")
    columns = ("#", "Id", "Host", "State", "Users", "Peak users", "CPU %", "Peak CPU %", "# reqs")
    for col in columns:
        table.add_column(col, justify="left" if col in ("Id", "Host", "State") else "right")
    table.add_column("# fails", justify="right")
    for row in rows:
        table.add_row(
            str(row["index"]),
            plain(row["id"]),
            plain(row["host"]),
            plain(row["state"]),
            str(row["user_count"]),
            str(row["peak_user_count"]),
            f"{row['cpu_percent']:.0f}",
            f"{row['peak_cpu_percent']:.0f}",
            str(row["num_requests"]),
            str(row["num_failures"]),
        )
    return table
