"""Load a scenario file and find its user classes (and an optional load shape).

Every problem a user can cause here is turned into one ``ScenarioError`` sentence that names the
file (and line, for syntax errors), because a traceback into importlib helps nobody.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
import traceback
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from horde import compat
from horde.exceptions import ScenarioError
from horde.scenario.pytest_style import users_from_tests
from horde.scenario.shape import ARRIVAL_RATE, USERS, LoadShape
from horde.scenario.users import User

__all__ = ["Scenario", "load_scenario", "select_user_classes"]


@dataclass
class Scenario:
    path: Path
    module: ModuleType
    user_classes: list[type[User]]
    digest: str
    shape_class: type[LoadShape] | None = None

    @property
    def name(self) -> str:
        return self.path.name


def load_scenario(path: str | Path) -> Scenario:
    """Import the file at ``path`` as a module and collect its concrete ``User`` subclasses."""
    file = Path(path)
    if file.is_dir():
        file = file / "locustfile.py" if (file / "locustfile.py").exists() else file / "horde.py"
    if not file.exists():
        raise ScenarioError(f"scenario file not found: {path}")
    if file.suffix != ".py":
        raise ScenarioError(f"scenario file must be a Python file ending in .py: {path}")
    source = file.read_bytes()
    module_name = f"horde_scenario_{hashlib.sha1(str(file.resolve()).encode()).hexdigest()[:10]}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise ScenarioError(f"cannot import scenario file {path}")
    module = importlib.util.module_from_spec(spec)
    # Before the scenario's imports run: `from locust import ...`, `import gevent` and blocking
    # libraries then get horde's cooperative versions (see horde.compat).
    compat.install()
    sys.modules[module_name] = module
    # Let the scenario import helper modules that sit next to it, as Locust does.
    folder = str(file.resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as exc:
        raise ScenarioError(
            f"syntax error in {exc.filename or path}, line {exc.lineno}: {exc.msg}"
        ) from None
    except ScenarioError:
        raise
    except Exception as exc:
        here = file.resolve()
        frames = [
            f
            for f in traceback.extract_tb(exc.__traceback__)
            if f.filename and Path(f.filename).resolve() == here
        ]
        where = f", line {frames[-1].lineno}" if frames else ""
        raise ScenarioError(
            f"error while importing {path}{where}: {type(exc).__name__}: {exc}"
        ) from None
    classes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, User) and not obj.__dict__.get("abstract")
    ]
    # Classes defined in the file come first, in definition order (stable distribution): the
    # module's namespace keeps the order in which names were bound, and the sort is stable. (Line
    # numbers from inspect cost a parse of the file, a few per cent of a short run's CPU.)
    classes.sort(key=lambda c: c.__module__ != module_name)
    if not classes:
        # A pytest-style locustfile: its test_* functions are the users (Locust's rule, too:
        # only when the file has no User class).
        classes = users_from_tests(module)
    if not classes:
        raise ScenarioError(f"no user class found in {path}: define a subclass of horde.User")
    shapes = [
        obj
        for obj in vars(module).values()
        if inspect.isclass(obj)
        and issubclass(obj, LoadShape)
        and not obj.__dict__.get("abstract")
        and obj.__module__ == module_name
    ]
    if len(shapes) > 1:
        names = ", ".join(sorted(c.__name__ for c in shapes))
        raise ScenarioError(f"more than one load shape in {path} ({names}): keep one")
    if shapes and shapes[0].model not in (USERS, ARRIVAL_RATE):
        raise ScenarioError(
            f"{shapes[0].__name__}.model must be {USERS!r} or {ARRIVAL_RATE!r}, "
            f"not {shapes[0].model!r}"
        )
    digest = hashlib.sha256(source).hexdigest()
    return Scenario(file, module, classes, digest, shapes[0] if shapes else None)


def select_user_classes(scenario: Scenario, names: Sequence[str] | None) -> list[type[User]]:
    """The classes named on the command line, or all of them; unknown names are an error."""
    if not names:
        return list(scenario.user_classes)
    by_name = {c.__name__: c for c in scenario.user_classes}
    unknown = [n for n in names if n not in by_name]
    if unknown:
        known = ", ".join(sorted(by_name))
        raise ScenarioError(
            f"unknown user class {', '.join(unknown)} in {scenario.name} (available: {known})"
        )
    return [by_name[n] for n in names]
