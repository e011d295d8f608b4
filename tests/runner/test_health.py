"""horde checks its own numbers: a saturated load generator is flagged, an idle one is not.

The saturated runs are pinned to one CPU (``os.sched_setaffinity``), so that the scenario's CPU
work cannot spread over the machine's other cores: horde then has one core, and needs more.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from horde.runner.cpu import RunQueueMeter
from horde.runner.health import (
    CPU_LIMIT,
    LOCAL,
    GeneratorHealth,
    HealthSample,
    LoopSampler,
)

pytestmark = pytest.mark.timeout(120)

# Every iteration computes for a few milliseconds before its request: ten users of it need more
# than one core.
CPU_HEAVY = """
from horde import HttpUser, constant, task

class Heavy(HttpUser):
    wait_time = constant(0)

    @task
    def work(self):
        total = 0
        for i in range(40000):
            total += i * i
        self.client.get("/")
"""

# A few users who mostly wait: a few percent of a core.
IDLE = """
from horde import HttpUser, constant, task

class Idle(HttpUser):
    wait_time = constant(0.5)

    @task
    def home(self):
        self.client.get("/")
"""

# Little CPU, but each task holds the event loop for 80 ms (a blocking wait that horde does not
# make cooperative, as it does time.sleep): every answer that arrives meanwhile waits.
BLOCKING = """
import threading
from horde import HttpUser, constant, task

class Blocking(HttpUser):
    wait_time = constant(0.01)

    @task
    def home(self):
        threading.Event().wait(0.08)
        self.client.get("/")
"""


def one_cpu() -> int:
    if not hasattr(os, "sched_setaffinity"):
        pytest.skip("pinning to one CPU needs os.sched_setaffinity (Linux)")
    return min(os.sched_getaffinity(0))


def run_horde(tmp_path, scenario, target, *args, pin=True, seconds=8):
    (tmp_path / "scenario.py").write_text(scenario)
    cpu = one_cpu() if pin else None
    return subprocess.run(
        [sys.executable, "-m", "horde", "run", "scenario.py", "-H", target.url, "--headless",
         "-t", f"{seconds}s", "--json", "out.json", "--html", "out.html", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=90,
        preexec_fn=(lambda: os.sched_setaffinity(0, {cpu})) if pin else None,
    )  # fmt: skip


def test_a_cpu_bound_generator_on_one_core_is_flagged_everywhere(tmp_path, counting_target):
    result = run_horde(tmp_path, CPU_HEAVY, counting_target, "-u", "10", "-r", "100")
    assert result.returncode == 0, result.stderr
    health = json.loads((tmp_path / "out.json").read_text())["meta"]["generator_health"]
    assert health["saturated"] is True, health
    assert health["seconds_saturated"] >= 4, health
    assert health["worst_process"] == LOCAL
    assert health["cpu_percent"]["max"] + health["cpu_wait_percent"]["in_hot_seconds"] >= 90
    # Pinned to one CPU, the advice is about the affinity (not --processes on this one core),
    # or, on a machine busy with other work, about the CPU it waited for.
    assert "may only run on one CPU" in health["message"] or "waited for a CPU" in health["message"]
    # The console summary, the warning while it ran, the live table, and the report say so.
    assert "Load generator saturated: horde was saturated for" in result.stdout
    assert "horde is saturated" in result.stderr and "latencies now include" in result.stderr
    # The progress lines of a log (stdout is not a terminal) say so as the run went.
    assert "HORDE SATURATED: latencies include its own queueing" in result.stdout
    report = (tmp_path / "out.html").read_text()
    assert 'id="health-banner"' in report and "horde itself was saturated" in report
    # The per-second rows carry the generator's figures, for the charts.
    rows = json.loads((tmp_path / "out.json").read_text())["history"]
    assert sum(bool(r.get("generator_saturated")) for r in rows) >= 3
    assert max(r.get("generator_cpu") or 0 for r in rows) >= CPU_LIMIT


def test_an_idle_generator_is_not_flagged(tmp_path, counting_target):
    result = run_horde(tmp_path, IDLE, counting_target, "-u", "5", "-r", "50", pin=False, seconds=6)
    assert result.returncode == 0, result.stderr
    health = json.loads((tmp_path / "out.json").read_text())["meta"]["generator_health"]
    assert health["sampled"] is True and health["saturated"] is False, health
    assert health["seconds"] >= 4 and health["seconds_saturated"] == 0
    assert health["cpu_percent"]["max"] < 50
    assert "Load generator: horde was not saturated" in result.stdout
    assert "saturated" not in result.stderr
    assert 'id="health-banner"' not in (tmp_path / "out.html").read_text()


def test_a_loop_blocked_with_cpu_to_spare_is_flagged_and_blamed_on_blocking(
    tmp_path, counting_target
):
    result = run_horde(tmp_path, BLOCKING, counting_target, "-u", "4", "-r", "50", pin=False)
    assert result.returncode == 0, result.stderr
    health = json.loads((tmp_path / "out.json").read_text())["meta"]["generator_health"]
    assert health["saturated"] is True, health
    assert health["cpu_percent"]["max"] < 60  # not the CPU
    assert health["late_share"] > 0.10  # the loop was > 20 ms behind over a tenth of the time
    assert "blocks it" in health["message"]


def test_the_run_queue_meter_sees_a_thread_wait_for_its_cpu():
    """Two busy threads of work on one CPU: each waits for it about half the time."""
    cpu = one_cpu()
    burner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time\nend = time.time() + 20\nwhile time.time() < end: pass",
        ],
        preexec_fn=lambda: os.sched_setaffinity(0, {cpu}),
    )
    readings: list[float] = []

    def busy() -> None:
        os.sched_setaffinity(0, {cpu})  # this thread only
        meter = RunQueueMeter(threading.get_native_id())
        end = time.monotonic() + 1.2
        while time.monotonic() < end:
            pass
        readings.append(meter.percent())

    try:
        thread = threading.Thread(target=busy)
        thread.start()
        thread.join(timeout=10)
    finally:
        burner.kill()
        burner.wait()
    assert readings and readings[0] >= 25, readings


# The judgement itself, on samples made for the purpose -------------------------------------------
def sample(timestamp, hot, saturated=False, cpu=None):
    return HealthSample(
        timestamp=float(timestamp), cpu=cpu if cpu is not None else (95.0 if hot else 10.0),
        cpu_wait=0.0, lag_p50=0.0, lag_p99=1.0, lag_max=1.0, lag_samples=50, late=0, hot=hot,
        saturated=saturated,
    )  # fmt: skip


def close_seconds(sampler, cpus, first=1000):
    """Feed a LoopSampler whole seconds whose CPU is given (its meter is replaced)."""
    samples = []
    for i, cpu in enumerate(cpus):

        class Fixed:
            def percent(self, value=cpu):
                return value

        sampler._cpu = Fixed()
        for _ in range(50):
            sampler.observe(0.0)
        samples.append(sampler.close(first + i))
    return samples


def test_one_hot_second_is_a_hiccup_three_in_five_are_saturation():
    health = GeneratorHealth(announce=False)
    health.begin(999.0)
    sampler = LoopSampler(health)
    # A hot second now and then (a GC pause, a burst of starts): never saturated.
    samples = close_seconds(sampler, [95, 10, 10, 95, 10, 10, 95, 10, 10, 95])
    assert [s.hot for s in samples] == [True, False, False] * 3 + [True]
    assert not any(s.saturated for s in samples)
    assert health.summary()["saturated"] is False
    # Three hot seconds out of five: saturated, and the three are counted.
    more = close_seconds(sampler, [95], first=1010)
    assert [s.saturated for s in more] == [True]
    summary = health.summary()
    assert summary["saturated"] is True and summary["seconds_saturated"] == 3


def test_seconds_before_the_test_began_are_not_counted():
    health = GeneratorHealth(announce=False)
    for t in range(1000, 1005):
        health.record(LOCAL, sample(t, hot=True, saturated=t >= 1002))
    health.begin(1005.0)
    health.record(LOCAL, sample(1006, hot=False))
    summary = health.summary()
    assert summary["saturated"] is False and summary["seconds"] == 1


def test_a_span_is_saturated_when_hot_for_most_of_it():
    health = GeneratorHealth(announce=False)
    health.begin(999.0)
    for t, hot in zip(range(1000, 1006), [False, True, True, True, False, False], strict=True):
        health.record("w1", sample(t, hot))
        health.record("w2", sample(t, False))
    worst = health.span(1000.5, 1003.5)  # seconds ending 1001..1004: three of four hot
    assert worst is not None and worst.process == "w1" and worst.saturated
    calm = health.span(1003.5, 1006.0)
    assert calm is not None and not calm.saturated


def test_samples_survive_the_wire():
    original = sample(1000, hot=True, saturated=True)
    assert HealthSample.from_wire(original.to_wire()) == original
    with pytest.raises(ValueError):
        HealthSample.from_wire({"timestamp": 1.0})


def test_a_seconds_lag_readings_are_the_histogram_the_run_adds_up():
    """The sampler builds each second's sparse histogram directly (no 2,048-bucket list a
    second): it must be exactly Histogram.to_sparse() of the same readings."""
    from horde.runner.health import _sparse_histogram
    from horde.stats.histogram import Histogram

    readings = sorted([0, 3, 3, 127, 128, 1_500, 20_000, 20_001, 130_000, 3_000_000])
    histogram = Histogram()
    for value in readings:
        histogram.record(value)
    assert _sparse_histogram(readings) == histogram.to_sparse()
    assert _sparse_histogram([]) == Histogram().to_sparse()
