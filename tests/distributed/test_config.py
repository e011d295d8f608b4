"""Flags to a role: one-sentence errors for combinations that cannot work."""

import pytest

from horde.distributed.config import LOCAL_WORKER_ENV, is_loopback, parse_processes, resolve
from horde.exceptions import ScenarioError
from horde.options import parse_run_options
from horde.settings import Settings

pytestmark = pytest.mark.timeout(180)


def options(*args):
    return parse_run_options(["scenario.py", *args], environ={})


def test_single_process_by_default():
    assert resolve(options(), {}).mode == "single"


def test_processes_make_a_private_master_on_a_free_loopback_port():
    config = resolve(options("--processes", "3"), {})
    assert (config.mode, config.processes, config.expect_workers) == ("master", 3, 3)
    assert (config.bind_host, config.bind_port) == ("127.0.0.1", 0)
    assert len(config.secret) >= 32  # a random secret of its own


def test_processes_auto_is_one_per_core(monkeypatch):
    # The cores this process may use (tests/distributed/test_cores.py), not os.cpu_count().
    monkeypatch.setattr("horde.distributed.config.available_cores", lambda: 6)
    assert parse_processes("auto") == 6
    assert parse_processes("-1") == 6
    with pytest.raises(ValueError, match="process count"):
        parse_processes("many")


def test_master_without_secret_listens_on_loopback_only():
    config = resolve(options("--master", "--expect-workers", "2"), {})
    assert (config.bind_host, config.bind_port, config.expect_workers) == ("127.0.0.1", 5557, 2)


def test_non_loopback_bind_without_secret_is_a_usage_error():
    with pytest.raises(ScenarioError, match="set a shared secret"):
        resolve(options("--master", "--master-bind-host", "0.0.0.0"), {})


def test_secret_from_environment_allows_any_bind_host():
    config = resolve(options("--master"), {"HORDE_SECRET": "s"})
    assert (config.bind_host, config.secret) == ("*", "s")
    config = resolve(options("--master", "--master-bind-host", "10.1.2.3"), {"HORDE_SECRET": "s"})
    assert config.bind_host == "10.1.2.3"


def test_master_and_worker_together_is_a_usage_error():
    with pytest.raises(ScenarioError, match="cannot be combined"):
        resolve(options("--master", "--worker"), {})


def test_worker_settings():
    config = resolve(options("--worker", "--master-host", "10.0.0.5", "--master-port", "6000"), {})
    assert (config.mode, config.master_host, config.master_port) == ("worker", "10.0.0.5", 6000)


def test_local_workers_stay_workers_whatever_the_config_says():
    config = resolve(
        Settings("s.py", processes=4, master=True, worker=True), {LOCAL_WORKER_ENV: "77"}
    )
    assert (config.mode, config.parent_pid) == ("worker", 77)


def test_loopback_detection():
    assert is_loopback("127.0.0.1") and is_loopback("127.9.9.9") and is_loopback("::1")
    assert is_loopback("localhost") and is_loopback("[::1]")
    assert not is_loopback("0.0.0.0") and not is_loopback("*") and not is_loopback("10.0.0.1")


def test_bad_flag_values_are_one_sentence():
    with pytest.raises(ScenarioError, match="process count"):
        options("--processes", "lots")
    with pytest.raises(ScenarioError, match="master timeout"):
        options("--worker", "--master-timeout", "0")
