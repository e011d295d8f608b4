"""`from locust import ...` under horde: every public name of Locust 2.47's API modules.

The table (horde.compat.locust_api.names) is checked against the installed Locust when there is
one (the bench dependency group installs it): in a subprocess, because importing Locust
monkey-patches the process with gevent.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from horde import compat
from horde.compat.locust_api.entries import Gap, Submodule, UnsupportedLocustFeature
from horde.compat.locust_api.names import ALL, MODULES

pytestmark = pytest.mark.timeout(60)

# The definition of "public" the table follows (see names.py), applied to the real package.
PUBLIC_NAMES = textwrap.dedent(
    """
    import importlib, json, sys, types
    import locust
    SIMPLE = (str, int, float, bool, list, tuple, dict)
    found = {"version": locust.__version__, "modules": {}}
    for name in sys.argv[1:]:
        module = importlib.import_module(name)
        names = set(getattr(module, "__all__", ()))
        for attr, value in vars(module).items():
            if attr.startswith("_") or attr == "TYPE_CHECKING":
                continue
            if isinstance(value, types.ModuleType):
                continue
            defined_by = getattr(value, "__module__", None)
            if isinstance(defined_by, str) and defined_by.startswith("locust"):
                names.add(attr)
            elif attr.isupper() and isinstance(value, SIMPLE):
                names.add(attr)
        found["modules"][name] = sorted(names)
    print(json.dumps(found))
    """
)


@pytest.fixture
def installed():
    compat.install()
    yield
    compat.uninstall()


def _table_names(module: str) -> set[str]:
    """The table's names for ``module``; submodules count where Locust lists them in __all__."""
    listed = set(ALL.get(module, ()))
    return {
        n for n, entry in MODULES[module].items() if not isinstance(entry, Submodule) or n in listed
    }


def test_the_table_names_every_public_name_of_locust_2_47():
    locust = Path(sys.executable).with_name("locust")
    if not locust.exists():
        pytest.skip("Locust is not installed (.tools/bin/uv sync --frozen --group bench)")
    completed = subprocess.run(
        [sys.executable, "-c", PUBLIC_NAMES, *MODULES],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    real = json.loads(completed.stdout)
    assert real["version"] == "2.47.0"
    differences = {}
    for module, names in real["modules"].items():
        missing = sorted(set(names) - _table_names(module))
        extra = sorted(_table_names(module) - set(names))
        if missing or extra:
            differences[module] = {"not in horde's table": missing, "not in Locust": extra}
    assert not differences


def test_every_name_of_the_table_resolves(installed):
    for module_name, table in MODULES.items():
        module = importlib.import_module(module_name)
        for name, entry in table.items():
            value = getattr(module, name)
            if isinstance(entry, Gap):
                with pytest.raises(UnsupportedLocustFeature, match=f"{module_name}.{name} is not"):
                    value()
    assert ALL["locust"] == tuple(importlib.import_module("locust").__all__)


def test_locust_names_are_horde_s_objects(installed):
    import locust
    from locust import FastHttpUser, HttpUser, between, events, task
    from locust.env import Environment
    from locust.exception import RescheduleTaskImmediately, StopUser
    from locust.runners import STATE_STOPPED, LocalRunner
    from locust.user.wait_time import constant

    import horde
    from horde.runner.environment import Environment as HordeEnvironment
    from horde.runner.lifecycle import RunnerState
    from horde.runner.local import LocalRunner as HordeLocalRunner

    assert (HttpUser, FastHttpUser, task, between, events, StopUser) == (
        horde.HttpUser,
        horde.FastHttpUser,
        horde.task,
        horde.between,
        horde.events,
        horde.StopUser,
    )
    assert Environment is HordeEnvironment and LocalRunner is HordeLocalRunner
    assert constant is horde.constant
    assert RescheduleTaskImmediately is horde.RescheduleTaskImmediately
    assert STATE_STOPPED == RunnerState.STOPPED
    assert locust.__version__ == "2.47.0" and locust.wait_time.between is horde.between
    namespace: dict = {}
    exec("from locust import *", namespace)
    assert set(ALL["locust"]) <= set(namespace)


def test_unsupported_names_import_and_say_what_to_do_when_used(installed):
    from locust.runners import WorkerNodes
    from locust.stats import StatsCSV

    with pytest.raises(UnsupportedLocustFeature, match="part of Locust's internals"):
        WorkerNodes()
    with pytest.raises(UnsupportedLocustFeature, match="in Locust's CSV format"):
        StatsCSV(None, [])
    assert not isinstance(object(), WorkerNodes)  # naming it in a check is fine
    with pytest.raises(ModuleNotFoundError, match=r"locust\.contrib\.mqtt is not provided"):
        importlib.import_module("locust.contrib.mqtt")
    with pytest.raises(ImportError, match="cannot import name 'NoSuchThing'"):
        exec("from locust import NoSuchThing", {})


LOCUSTFILE = """
import sys
from locust import HttpUser, task, run_single_user
import locust.stats

real = sorted(name for name, module in sys.modules.items()
              if name.split(".")[0] in ("locust", "gevent")
              and type(module).__name__ != "AliasModule")
print("real modules:", real)
print("monkey-patched:", "gevent.monkey" in sys.modules)

class Visitor(HttpUser):
    @task
    def home(self):
        self.client.get("/")

if __name__ == "__main__":
    run_single_user(Visitor)
"""


def _horde_run(tmp_path, source: str, counting_target, *args: str):
    scenario = tmp_path / "locustfile.py"
    scenario.write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "horde", "run", str(scenario), "-H", counting_target.url,
         "-u", "2", "-r", "2", "-t", "1s", "--headless", "--only-summary", *args],
        capture_output=True, text=True, timeout=60, cwd=tmp_path,
    )  # fmt: skip


def test_horde_run_never_imports_the_real_locust(tmp_path, counting_target):
    """Even where Locust is installed too (the bench group), its package is never imported."""
    completed = _horde_run(tmp_path, LOCUSTFILE, counting_target)
    assert completed.returncode == 0, completed.stderr
    assert "real modules: []" in completed.stdout
    assert "monkey-patched: False" in completed.stdout


def test_an_unsupported_name_used_at_import_stops_the_run_with_one_sentence(
    tmp_path, counting_target
):
    source = (
        "from locust import HttpUser\nfrom locust.runners import WorkerNodes\n\n"
        "nodes = WorkerNodes()\n"
    )
    completed = _horde_run(tmp_path, source, counting_target)
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    assert completed.stderr.strip().splitlines() == [
        f"horde: error: error while importing {tmp_path / 'locustfile.py'}, line 4: "
        "UnsupportedLocustFeature: locust.runners.WorkerNodes is not supported by horde: it "
        "is part of Locust's internals, which horde does not reproduce (see "
        "docs/migrating-from-locust.md)"
    ]


def test_a_locust_error_at_import_is_one_sentence_too(tmp_path, counting_target):
    """Locust's own checks (here of a Markov chain) stop the run as any import error does."""
    source = "from locust import MarkovTaskSet, User\n\nclass Chain(MarkovTaskSet):\n    pass\n"
    completed = _horde_run(tmp_path, source, counting_target)
    assert completed.returncode == 2
    assert completed.stderr.strip().splitlines() == [
        f"horde: error: error while importing {tmp_path / 'locustfile.py'}, line 3: "
        "NoMarkovTasksError: No Markov tasks defined in class Chain. Use the @transition(s) "
        "decorators to define some."
    ]
