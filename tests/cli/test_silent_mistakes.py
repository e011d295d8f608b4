"""Mistakes that used to pass in silence are now one sentence on stderr and exit code 2: a
misspelt key in horde.toml or [tool.horde], a misspelt HORDE_ variable, -u 0, a misspelt command,
no command at all. And every flag's help says what its value is, in which unit."""

from __future__ import annotations

import subprocess
import sys

import pytest

from horde.distributed.config import LOCAL_WORKER_ENV
from horde.exceptions import ScenarioError
from horde.options import build_parser, parse_run_options

pytestmark = pytest.mark.timeout(60)

SCENARIO = """
from horde import HttpUser, events, task

@events.init_command_line_parser.add_listener
def _options(parser):
    parser.add_argument("--accounts", type=int, default=10, help="demo accounts")
    parser.add_argument("--shared-account", action="store_true", default=False)

class Visitor(HttpUser):
    @task
    def home(self):
        self.client.get("/")
"""


def horde(*args, cwd, env=None):
    import os

    environ = {k: v for k, v in os.environ.items() if not k.startswith("HORDE_")}
    return subprocess.run(
        [sys.executable, "-m", "horde", *args],
        cwd=cwd, capture_output=True, text=True, timeout=40, env={**environ, **(env or {})},
    )  # fmt: skip


def one_sentence(result) -> str:
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("horde: error: ")
    return lines[0]


@pytest.fixture
def project(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.py").write_text(SCENARIO)
    return tmp_path


# Config file and environment ----------------------------------------------------------------
@pytest.mark.parametrize(
    ("file", "text", "sentence"),
    [
        ("horde.toml", "userz = 5\n",
         "unknown setting 'userz' in horde.toml: did you mean 'users'?"),
        ("horde.toml", "spawn-rat = 2\n",
         "unknown setting 'spawn-rat' in horde.toml: did you mean 'spawn-rate'?"),
        ("horde.toml", 'run_tme = "1m"\n',
         "unknown setting 'run_tme' in horde.toml: did you mean 'run_time'?"),
        ("pyproject.toml", '[tool.horde]\nhosts = "http://127.0.0.1:9"\n',
         "unknown setting 'hosts' in [tool.horde] in pyproject.toml: did you mean 'host'?"),
        ("horde.toml", "colour = 'blue'\n",
         "unknown setting 'colour' in horde.toml (settings are named as the long flags of "
         "'horde run --help')"),
    ],
)  # fmt: skip
def test_an_unknown_config_key_is_named_with_what_it_might_be(project, file, text, sentence):
    (project / file).write_text(text)
    result = horde("run", "s.py", "-H", "http://127.0.0.1:9", "-t", "1s", "--headless", cwd=project)
    assert one_sentence(result) == f"horde: error: {sentence}"


@pytest.mark.parametrize(
    ("variable", "sentence"),
    [
        ("HORDE_USRS", "unknown variable HORDE_USRS in the environment: did you mean HORDE_USERS?"),
        ("HORDE_RUNTIME", "unknown variable HORDE_RUNTIME in the environment: did you mean "
         "HORDE_RUN_TIME?"),
        ("HORDE_WEB_TOKN", "unknown variable HORDE_WEB_TOKN in the environment: did you mean "
         "HORDE_WEB_TOKEN?"),
        ("HORDE_ZZZ", "unknown variable HORDE_ZZZ in the environment (HORDE_ variables are named "
         "after the long flags of 'horde run --help')"),
    ],
)  # fmt: skip
def test_a_misspelt_horde_variable_is_named_with_what_it_might_be(project, variable, sentence):
    result = horde("run", "s.py", "-H", "http://127.0.0.1:9", "-t", "1s", "--headless",
                   cwd=project, env={variable: "5"})  # fmt: skip
    assert one_sentence(result) == f"horde: error: {sentence}"


def test_kubernetes_service_links_are_named_for_what_they_are(project):
    with pytest.raises(ScenarioError) as raised:
        parse_run_options(["s.py"], environ={"HORDE_MASTER_SERVICE_HOST": "10.96.0.10"})
    assert str(raised.value) == (
        "unknown variable HORDE_MASTER_SERVICE_HOST in the environment: Kubernetes sets it for "
        "the Service horde-master, and horde reads HORDE_ variables as its settings; set "
        "enableServiceLinks: false in the pod's spec"
    )


def test_variables_horde_reads_that_are_not_flags_are_not_taken_for_mistakes(project):
    environ = {
        "HORDE_SECRET": "s3cret",  # read by horde.distributed.config, kept out of the Settings
        "HORDE_WEB_TOKEN": "t0ken",
        LOCAL_WORKER_ENV: "1",  # set by horde in the worker processes of --processes
        "HORDE_CONFIG": "other.toml",
        "HORDE_HATCH_RATE": "3",  # an alias's name, as on the command line
    }
    (project / "other.toml").write_text("users = 4\n")
    settings = parse_run_options(["s.py"], environ=environ)
    assert (settings.web_token, settings.users, settings.spawn_rate) == ("t0ken", 4, 3.0)
    assert settings.secret is None  # read where it is used, never echoed with the settings


def test_a_config_file_may_hold_the_other_commands_settings(project):
    (project / "horde.toml").write_text('slo = "p95<300ms"\nusers = 3\n')
    settings = parse_run_options(["s.py"], environ={})
    assert settings.users == 3 and settings.slo == ()  # horde run ignores horde capacity's --slo
    assert len(parse_run_options(["s.py"], environ={}, capacity=True).slo) == 1


def test_the_scenarios_own_options_come_from_the_config_file_and_environment_too(project):
    from horde.events import Events

    def extend(parser):
        parser.add_argument("--accounts", type=int, default=10)
        parser.add_argument("--shared-account", action="store_true", default=False)

    events = Events()
    events.init_command_line_parser.add_listener(extend)
    fire = events.init_command_line_parser.fire
    (project / "horde.toml").write_text("accounts = 7\nshared-account = true\n")
    settings = parse_run_options(["s.py"], environ={}, extend_parser=fire)
    assert dict(settings.scenario_options) == {"accounts": 7, "shared_account": True}
    settings = parse_run_options(["s.py"], environ={"HORDE_ACCOUNTS": "8"}, extend_parser=fire)
    assert settings.scenario_options["accounts"] == 8  # the environment over the file
    settings = parse_run_options(
        ["s.py", "--accounts", "9"], environ={"HORDE_ACCOUNTS": "8"}, extend_parser=fire
    )
    assert settings.scenario_options["accounts"] == 9  # the command line over both
    with pytest.raises(ScenarioError, match=r"invalid value 'many' for --accounts.*environment"):
        parse_run_options(["s.py"], environ={"HORDE_ACCOUNTS": "many"}, extend_parser=fire)
    (project / "horde.toml").write_text("acounts = 7\n")
    with pytest.raises(ScenarioError, match=r"unknown setting 'acounts'.*did you mean 'accounts'"):
        parse_run_options(["s.py"], environ={}, extend_parser=fire)


# -u 0 -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("how", [["-u", "0"], ["HORDE_USERS=0"]])
def test_zero_users_in_a_headless_run_is_refused(project, how):
    env = dict(a.split("=") for a in how if "=" in a)
    args = [a for a in how if "=" not in a]
    result = horde("run", "s.py", "-H", "http://127.0.0.1:9", "-t", "30s", "--headless", *args,
                   cwd=project, env=env)  # fmt: skip
    assert "starts no user" in one_sentence(result)


def test_zero_users_is_fine_when_something_else_sets_the_load(project, counting_target):
    result = horde("run", "s.py", "-H", counting_target.url, "-u", "0", "--arrival-rate", "5/s",
                   "-t", "1s", "--headless", "--only-summary", cwd=project)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert counting_target.count() > 0


# Commands ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("command", "sentence"),
    [
        ("rnu", "unknown command 'rnu': did you mean 'run'?"),
        ("capcity", "unknown command 'capcity': did you mean 'capacity'?"),
        ("hsitory", "unknown command 'hsitory': did you mean 'history'?"),
        (
            "start",  # shares letters with 'history' but is no misspelling of it
            "unknown command 'start' "
            "(commands: run, capacity, history, compare, exec, help, version)",
        ),
    ],
)
def test_a_misspelt_command_is_named(project, command, sentence):
    result = horde(command, "s.py", "-H", "http://127.0.0.1:9", cwd=project)
    assert one_sentence(result) == f"horde: error: {sentence}"


def test_locust_style_invocations_without_a_command_still_run(project, counting_target):
    for args in (["s.py"], ["-f", "s.py"], ["Visitor", "-f", "s.py"]):
        result = horde(*args, "-H", counting_target.url, "-t", "0.5s", "--headless",
                       "--only-summary", cwd=project)  # fmt: skip
        assert result.returncode == 0, (args, result.stderr)


def test_bare_horde_prints_the_usage_and_exits_2(project):
    result = horde(cwd=project)
    assert result.returncode == 2  # a usage error: a script that forgot its command fails
    assert "usage:" in result.stderr and "horde run SCENARIO.py" in result.stderr
    assert result.stdout == ""
    asked = horde("--help", cwd=project)
    assert asked.returncode == 0 and "usage:" in asked.stdout


# Help --------------------------------------------------------------------------------------------
def test_every_flag_with_a_value_names_its_meaning_or_unit():
    parser = build_parser(capacity=True)
    for action in parser._actions:
        if not action.option_strings or action.nargs == 0:
            continue
        metavar = action.metavar
        assert isinstance(metavar, str), f"{action.option_strings} has no metavar"
        assert action.help, action.option_strings
    usage = parser.format_help()
    for shown in (
        "--stop-timeout SECONDS",
        "--exit-code-on-error CODE",
        "-t DURATION",
        "-r USERS_PER_SECOND",
        "-H URL",
        "--web-port PORT",
        "--master-timeout SECONDS",
    ):
        assert shown in usage, shown  # fmt: skip
