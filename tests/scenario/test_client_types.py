"""mypy checks a scenario's use of ``self.client`` in both task styles, with no Any in sight."""

from pathlib import Path

import pytest

mypy_api = pytest.importorskip("mypy.api", reason="mypy is in the dev dependency group")

pytestmark = pytest.mark.timeout(120)

GOOD = """
from horde import HttpUser, task


class Typed(HttpUser):
    @task
    def plain(self) -> None:
        r = self.client.get("/", name="x", timeout=1.0)
        reveal_type(r)
        reveal_type(r.status_code)
        with self.client.post("/p", data={"a": "1"}, catch_response=True) as judged:
            reveal_type(judged)
            judged.failure("no")
        for chunk in self.client.get("/big", stream=True).iter_content():
            reveal_type(chunk)

    @task
    async def awaited(self) -> None:
        r = await self.client.get("/", params={"q": "1"})
        reveal_type(r)
        with await self.client.get("/", catch_response=True) as judged:
            judged.success()
        streamed = await self.client.get("/big", stream=True, keep_body=False)
        async for chunk in streamed.aiter_content():
            reveal_type(chunk)
"""

BAD = """
from horde import HttpUser, task


class Typed(HttpUser):
    @task
    def plain(self) -> None:
        self.client.get("/", nmae="x")
        self.client.get("/").status

    @task
    async def awaited(self) -> None:
        text: str = (await self.client.get("/")).status_code
"""


def check(tmp_path: Path, source: str) -> list[str]:
    scenario = tmp_path / "scenario.py"
    scenario.write_text(source)
    out, err, _ = mypy_api.run(
        ["--strict", "--follow-imports=silent", "--cache-dir", str(tmp_path / "cache"),
         str(scenario)]
    )  # fmt: skip
    assert not err, err
    return [line.split(": ", 1)[1] for line in out.splitlines() if ": " in line]


def test_both_styles_check_with_precise_types(tmp_path):
    lines = check(tmp_path, GOOD)
    assert not [line for line in lines if line.startswith("error")], lines
    revealed = [line.split('"', 1)[1].rstrip('"') for line in lines if "Revealed type" in line]
    assert revealed == [
        "horde.scenario.client.Reply",  # a plain task's response
        "int",
        "horde.http.response.Response",  # catch_response's block
        "bytes",
        "horde.http.response.Response",  # an awaited response
        "bytes",
    ]


def test_misuse_is_reported(tmp_path):
    errors = [line for line in check(tmp_path, BAD) if line.startswith("error")]
    assert any('Unexpected keyword argument "nmae"' in e for e in errors), errors
    assert any('has no attribute "status"' in e for e in errors), errors
    assert any('expression has type "int", variable has type "str"' in e for e in errors), errors
