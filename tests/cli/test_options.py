"""Option parsing: durations, hosts, precedence of config file, environment and flags."""

import dataclasses

import pytest

from horde.exceptions import ScenarioError
from horde.options import build_parser, parse_run_options
from horde.settings import Settings
from horde.units import parse_duration, parse_host


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("5m", 300), ("1h", 3600), ("1h30m", 5400), ("90", 90), ("1.5s", 1.5)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["abc", "-5", "5x", ""])
def test_bad_durations(text):
    with pytest.raises(ValueError, match="invalid duration"):
        parse_duration(text)


def test_hosts():
    assert parse_host("http://127.0.0.1:8000/") == "http://127.0.0.1:8000"
    for bad in ("127.0.0.1:8000", "ftp://x", "http://", "http://h:99999"):
        with pytest.raises(ValueError, match="invalid host"):
            parse_host(bad)


def test_precedence_config_then_environment_then_flags(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.py").write_text("")
    (tmp_path / "horde.toml").write_text('users = 5\nspawn-rate = 2\nrun-time = "1m"\n')
    options = parse_run_options(["s.py"], environ={})
    assert (options.users, options.spawn_rate, options.run_time) == (5, 2.0, 60.0)
    options = parse_run_options(["s.py"], environ={"HORDE_USERS": "7"})
    assert options.users == 7
    options = parse_run_options(["s.py", "-u", "9"], environ={"HORDE_USERS": "7"})
    assert options.users == 9


def test_pyproject_tool_section(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.py").write_text("")
    (tmp_path / "pyproject.toml").write_text('[tool.horde]\nhost = "http://127.0.0.1:9"\n')
    assert parse_run_options(["s.py"], environ={}).host == "http://127.0.0.1:9"


def test_bad_values_from_every_source_are_one_sentence(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.py").write_text("")
    with pytest.raises(ScenarioError, match=r"invalid user count 'many'.*environment"):
        parse_run_options(["s.py"], environ={"HORDE_USERS": "many"})
    with pytest.raises(ScenarioError, match="invalid spawn rate"):
        parse_run_options(["s.py", "-r", "0"], environ={})
    with pytest.raises(ScenarioError, match="no scenario file"):
        parse_run_options([], environ={})
    with pytest.raises(ScenarioError, match=r"invalid web port '99999'.*environment"):
        parse_run_options(["s.py"], environ={"HORDE_WEB_PORT": "99999"})


def test_ports_are_in_range_and_zero_only_where_we_listen(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.py").write_text("")
    options = parse_run_options(["s.py", "--web-port", "0", "--master-bind-port", "65535"], {})
    assert (options.web_port, options.master_bind_port) == (0, 65535)
    assert parse_run_options(["s.py", "--master-port", "1"], {}).master_port == 1


def test_positionals_are_scenario_then_user_classes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.py").write_text("")
    options = parse_run_options(["s.py", "WebUser", "ApiUser"], environ={})
    assert options.scenario == "s.py"
    assert options.user_class_names == ("WebUser", "ApiUser")


def test_thresholds_from_config_and_environment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.py").write_text("")
    (tmp_path / "horde.toml").write_text('thresholds = ["p95<300ms", "fail_ratio<1%"]\n')
    options = parse_run_options(["s.py"], environ={})
    assert [t.expression for t in options.thresholds] == ["p95<300ms", "fail_ratio<1%"]
    options = parse_run_options(["s.py"], environ={"HORDE_THRESHOLDS": "p99<1s;rps>10"})
    assert [t.metric for t in options.thresholds] == ["p99", "rps"]
    options = parse_run_options(["s.py", "--threshold", "avg<5"], environ={})
    assert [t.expression for t in options.thresholds] == ["avg<5"]
    with pytest.raises(ScenarioError, match=r"invalid threshold.*config file"):
        (tmp_path / "horde.toml").write_text('thresholds = ["p95 is fast"]\n')
        parse_run_options(["s.py"], environ={})


def test_locust_0x_flag_names_of_the_seed_article(tmp_path, monkeypatch):
    # The article speaks of a hatch rate; Locust 0.x spelled the flags -c and --hatch-rate.
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.py").write_text("")
    options = parse_run_options(["s.py", "-c", "5", "--hatch-rate", "1", "--no-web"], environ={})
    assert (options.users, options.spawn_rate, options.headless) == (5, 1.0, True)
    options = parse_run_options(["s.py", "--clients", "8"], environ={})
    assert options.users == 8


def test_settings_are_built_once_and_frozen(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.py").write_text("")
    settings = parse_run_options(["s.py", "-u", "3"], environ={"HORDE_RUN_TIME": "1m"})
    assert (settings.users, settings.run_time, settings.explicit >= {"users", "run_time"}) == (
        3,
        60.0,
        True,
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.users = 4  # type: ignore[misc]


@pytest.mark.parametrize("capacity", [False, True])
def test_every_flag_of_horde_has_a_field_in_settings(capacity):
    """A flag added to the parser without its field would be lost: parse refuses, and so does
    this test, before any run."""
    dests = {a.dest for a in build_parser(capacity)._actions} - {"help", "targets"}
    assert dests <= Settings.names()


def test_options_a_scenario_adds_reach_scenario_code_only(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.py").write_text("")

    def extend(parser):
        parser.add_argument("--account-count", type=int, default=10)

    settings = parse_run_options(
        ["s.py", "--account-count", "3", "-u", "2"], environ={}, extend_parser=extend
    )
    assert dict(settings.scenario_options) == {"account_count": 3}
    assert "account_count" not in Settings.names()
    namespace = settings.parsed_options()  # environment.parsed_options, for scenario code
    assert (namespace.account_count, namespace.users, namespace.user_class_names) == (3, 2, [])
