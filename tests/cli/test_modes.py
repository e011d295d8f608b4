"""The composer: which mode the command and the settings ask for (the CLI decides nothing)."""

import pytest

from horde.distributed.config import LOCAL_WORKER_ENV, resolve
from horde.modes.compose import MODES, choose_mode
from horde.options import parse_run_options


@pytest.mark.parametrize(
    ("args", "environ", "capacity", "mode"),
    [
        (["--headless"], {}, False, "headless"),
        ([], {}, False, "web"),
        (["--master"], {}, False, "master"),
        (["--master", "--headless"], {}, False, "master"),
        (["--processes", "2", "--headless"], {}, False, "master"),
        (["--worker"], {}, False, "worker"),
        (["--headless"], {LOCAL_WORKER_ENV: "1"}, False, "worker"),
        (["--slo", "p95<1s"], {}, True, "capacity"),
        (["--slo", "p95<1s", "--processes", "2"], {}, True, "capacity"),
    ],
)
def test_the_mode_follows_the_command_the_role_and_headless(
    tmp_path, monkeypatch, args, environ, capacity, mode
):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.py").write_text("")
    settings = parse_run_options(["s.py", *args], environ=environ, capacity=capacity)
    chosen = choose_mode(settings, resolve(settings, environ), capacity)
    assert chosen == mode
    assert chosen in MODES
