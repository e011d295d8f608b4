"""Loading a scenario file: which user classes it offers, and in which order."""

from __future__ import annotations

import textwrap
from pathlib import Path

from horde.scenario.loader import load_scenario


def test_user_classes_come_in_definition_order_after_none_imported(tmp_path: Path) -> None:
    # The order decides how users are spread over classes, so it must not depend on names.
    (tmp_path / "loader_order_helpers.py").write_text(
        "from horde import HttpUser, task\n"
        "class Imported(HttpUser):\n"
        "    @task\n"
        "    def t(self): pass\n"
    )
    scenario = tmp_path / "scenario.py"
    scenario.write_text(
        textwrap.dedent(
            """
            from loader_order_helpers import Imported
            from horde import HttpUser, User, task

            class Zebra(HttpUser):
                weight = 2
                @task
                def t(self): pass

            class Base(HttpUser):
                abstract = True

            class Aardvark(Base):
                tasks = []

            class Middle(User):
                @task
                def t(self): pass
            """
        )
    )
    loaded = load_scenario(str(scenario))
    names = [cls.__name__ for cls in loaded.user_classes]
    assert names == ["Zebra", "Aardvark", "Middle", "Imported"]
