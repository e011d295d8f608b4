"""Locust's flags that horde does not take get a sentence that says what to do instead."""

import pytest

from horde.cli import main


@pytest.mark.parametrize(
    ("flag", "advice"),
    [
        ("--web-login", "guard it with --web-auth USER:PASSWORD"),
        ("--tls-cert=cert.pem", "put a proxy that terminates TLS in front"),
        ("--logfile", "redirect it (2> FILE)"),
    ],
)
def test_a_locust_flag_horde_lacks_is_named_with_what_to_do(tmp_path, capsys, flag, advice):
    scenario = tmp_path / "s.py"
    scenario.write_text(
        "from horde import User, task\n\n"
        "class U(User):\n    @task\n    def t(self):\n        pass\n"
    )
    assert main(["run", str(scenario), "--headless", flag]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"horde: error: Locust's {flag.split('=')[0]} is not one of horde's")
    assert err.endswith(advice)
