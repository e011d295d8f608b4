"""Master and workers as real processes on loopback, against a target that counts requests."""

from __future__ import annotations

import csv
import json
import signal
import time
from pathlib import Path

import pytest

from tests.distributed.dist_helpers import WAIT, free_port

pytestmark = pytest.mark.timeout(180)


def aggregated_count(path: Path) -> int:
    rows = list(csv.DictReader(path.read_text().splitlines()))
    return int(rows[-1]["Request Count"])


def workers_of(document: dict) -> list[dict]:
    meta = document.get("meta", document)
    return meta["workers"]


def test_processes_look_like_one_run_and_count_exactly(scenario, target, horde, tmp_path):
    run = horde(
        str(scenario),
        "-H",
        target.url,
        "-u",
        "5",
        "-r",
        "50",
        "-t",
        "4s",
        "--headless",
        "--processes",
        "2",
        "--csv",
        "out/run",
        "--json",
        "out/run.json",
    )
    assert run.finish() == 0, run.stderr()
    served = target.stop()
    total = aggregated_count(tmp_path / "out" / "run_stats.csv")
    # One summary and one set of files for the whole run, exactly what the target saw.
    assert run.stdout.count("Summary (run time reached)") == 1
    assert "Workers" in run.stdout
    assert total == served
    assert total > 100
    workers = workers_of(json.loads((tmp_path / "out" / "run.json").read_text()))
    assert len(workers) == 2
    assert sum(w["num_requests"] for w in workers) == total
    assert all(w["state"] == "stopped" for w in workers)


def test_killed_worker_is_marked_missing_its_users_move_and_a_new_worker_joins(
    scenario, target, horde, tmp_path
):
    port = free_port()
    users = 5
    master = horde(
        str(scenario),
        "-H",
        target.url,
        "-u",
        str(users),
        "-r",
        "50",
        "-t",
        "11s",
        "--headless",
        "--only-summary",
        "--master",
        "--master-bind-port",
        str(port),
        "--expect-workers",
        "2",
        "--json",
        "run.json",
        "-L",
        "INFO",
        name="master",
    )
    worker_args = [str(scenario), "--worker", "--master-port", str(port)]
    doomed = horde(*worker_args, name="w1")
    survivor = horde(*worker_args, name="w2")
    master.wait_for("all workers spawned")
    time.sleep(1.5)
    doomed.process.send_signal(signal.SIGKILL)
    doomed.process.wait()
    master.wait_for("marked missing", timeout=10)
    master.wait_for("redistributing")
    master.wait_for("all workers spawned", count=2)
    newcomer = horde(*worker_args, name="w3")
    master.wait_for("joined", count=3)
    assert master.finish() == 0, master.stderr()
    assert survivor.finish() == 0 and newcomer.finish() == 0
    served = target.stop()
    document = json.loads((tmp_path / "run.json").read_text())
    workers = workers_of(document)
    states = [w["state"] for w in workers]
    assert states == ["missing", "stopped", "stopped"] or sorted(states) == [
        "missing",
        "stopped",
        "stopped",
    ]
    assert all(w["reports"] > 0 for w in workers)
    total = sum(w["num_requests"] for w in workers)
    # Requests of the killed worker after its last report are lost: at most about one report
    # interval of its users (each makes at most 1 / WAIT requests per second).
    lost = served - total
    at_most = (users // 2 + 1) * (1 / WAIT) * 1.5
    assert 0 <= lost <= at_most, (served, total)


def test_wrong_secret_or_other_scenario_is_refused(scenario, target, horde, tmp_path):
    port = free_port()
    common = ["--master-port", str(port), "--worker"]
    master = horde(
        str(scenario),
        "-H",
        target.url,
        "--headless",
        "--master",
        "--master-bind-host",
        "127.0.0.1",
        "--master-bind-port",
        str(port),
        "--expect-workers-max-wait",
        "6s",
        env={"HORDE_SECRET": "right"},
        name="master",
    )
    intruder = horde(str(scenario), *common, env={"HORDE_SECRET": "wrong"}, name="intruder")
    assert intruder.finish() == 2
    assert "refused this worker" in intruder.stderr()
    assert "secret" in intruder.stderr()
    other = tmp_path / "other.py"
    other.write_text(scenario.read_text() + "\n# changed\n")
    stranger = horde(str(other), *common, env={"HORDE_SECRET": "right"}, name="stranger")
    assert stranger.finish() == 2
    assert "scenario file differs" in stranger.stderr()
    assert master.finish() == 1
    assert "only 0 of 1 workers connected" in master.stderr()
    assert "Traceback" not in master.stderr() + intruder.stderr() + stranger.stderr()


def test_worker_that_loses_its_master_stops_and_exits_non_zero(scenario, target, horde):
    port = free_port()
    master = horde(
        str(scenario),
        "-H",
        target.url,
        "-u",
        "2",
        "-r",
        "10",
        "--headless",
        "--only-summary",
        "--master",
        "--master-bind-port",
        str(port),
        "-L",
        "INFO",
        name="master",
    )
    worker = horde(
        str(scenario),
        "--worker",
        "--master-port",
        str(port),
        "--master-timeout",
        "2",
        name="worker",
    )
    master.wait_for("all workers spawned")
    master.process.send_signal(signal.SIGKILL)
    started = time.monotonic()
    assert worker.finish(timeout=30) == 1
    assert time.monotonic() - started < 15
    assert "lost the master" in worker.stderr()


def children_of(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def test_ctrl_c_stops_local_workers_and_reaps_them(scenario, target, horde, tmp_path):
    run = horde(
        str(scenario),
        "-H",
        target.url,
        "-u",
        "4",
        "-r",
        "50",
        "-t",
        "60s",
        "--headless",
        "--only-summary",
        "--processes",
        "2",
        "--json",
        "run.json",
        "-L",
        "INFO",
    )
    run.wait_for("all workers spawned")
    workers = children_of(run.process.pid)
    assert len(workers) == 2
    run.process.send_signal(signal.SIGINT)
    assert run.finish(timeout=30) == 0, run.stderr()
    assert "interrupted (Ctrl-C)" in run.stdout
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers)
    served = target.stop()
    assert json.loads((tmp_path / "run.json").read_text())["total"]["num_requests"] == served


def test_worker_machine_with_several_processes(scenario, target, horde, tmp_path):
    port = free_port()
    master = horde(
        str(scenario),
        "-H",
        target.url,
        "-u",
        "4",
        "-r",
        "50",
        "-t",
        "3s",
        "--headless",
        "--only-summary",
        "--master",
        "--master-bind-port",
        str(port),
        "--expect-workers",
        "2",
        "--json",
        "run.json",
        name="master",
    )
    workers = horde(
        str(scenario), "--worker", "--master-port", str(port), "--processes", "2", name="workers"
    )
    assert master.finish() == 0, master.stderr()
    assert workers.finish(timeout=30) == 0, workers.stderr()
    document = json.loads((tmp_path / "run.json").read_text())
    assert len(workers_of(document)) == 2
    assert document["total"]["num_requests"] == target.stop()


def test_a_second_ctrl_c_at_the_master_stops_the_workers_now(
    scenario, horde, tmp_path, queue_target
):
    # With the target stalled, the first Ctrl-C would wait --stop-timeout (a minute) for the
    # workers' tasks; a second one makes every worker stop at once (in-flight requests get the
    # short drain grace), and the master still writes its results.
    stalled = queue_target()
    run = horde(
        str(scenario), "-H", stalled.url, "-u", "4", "-r", "50", "-t", "60s", "--headless",
        "--only-summary", "--processes", "2", "--stop-timeout", "60", "--json", "run.json",
        "--exit-code-on-error", "0", "-L", "INFO",
    )  # fmt: skip
    run.wait_for("all workers spawned")
    stalled.get("/__stall?ms=30000")
    time.sleep(0.5)
    run.process.send_signal(signal.SIGINT)
    time.sleep(1.0)
    assert run.process.poll() is None  # the first Ctrl-C waits for the tasks
    second = time.monotonic()
    run.process.send_signal(signal.SIGINT)
    assert run.finish(timeout=40) == 0, run.stderr()
    assert time.monotonic() - second < 10, "the second Ctrl-C did not reach the workers"
    assert json.loads((tmp_path / "run.json").read_text())["total"]["num_failures"] > 0
