"""Every code example of the documentation runs (see tests/docs/blocks.py for the markers).

Each page gets a folder of its own, where its blocks run in order: a scenario block saved as
``file=NAME`` is there for the page's later commands. ``scenario.py`` and ``locustfile.py`` are
there from the start (examples/basic.py, in horde's and Locust's imports), for the pages whose
commands name them without showing them; ``examples``, ``bench`` and ``.venv`` link to the
repository's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.docs.blocks import DOCS_HOST, DOCS_WEB_UI, RUN_TIME, Block, all_blocks, brief, problem

ROOT = Path(__file__).resolve().parents[2]
BLOCKS = all_blocks()
RUNNABLE = [b for b in BLOCKS if b.kind in ("scenario", "shell", "config", "python")]
BIN = Path(sys.executable).parent

pytestmark = pytest.mark.timeout(90)


def test_every_code_block_says_how_it_is_checked():
    problems = [p for p in map(problem, BLOCKS) if p]
    assert not problems, "\n".join(problems)
    assert len(RUNNABLE) >= 30  # the pages are examples first


def environment() -> dict[str, str]:
    """The tests' environment less any HORDE_ setting, with this venv's horde on the PATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HORDE_")}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env["HORDE_WEB_PORT"] = "0"  # a web UI an example starts listens on a free port
    return env


_folders: dict[str, Path] = {}


@pytest.fixture
def folder(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """The page's folder, with every file its earlier blocks saved."""
    block: Block = request.param
    if block.page not in _folders:
        path = tmp_path_factory.mktemp(Path(block.page).stem)
        basic = (ROOT / "examples" / "basic.py").read_text()
        (path / "scenario.py").write_text(basic)
        (path / "locustfile.py").write_text(
            basic.replace("from horde import", "from locust import")
        )
        for name in ("examples", "bench", ".venv"):
            (path / name).symlink_to(ROOT / name)
        _folders[block.page] = path
    path = _folders[block.page]
    for earlier in BLOCKS:
        if earlier.page == block.page and earlier.line < block.line and "file" in earlier.options:
            (path / earlier.options["file"]).write_text(earlier.code)
    return path


def run(command: list[str] | str, cwd: Path, timeout: float = 60, **kwargs):
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=environment(),
        **kwargs,
    )  # fmt: skip


@pytest.mark.parametrize("folder", RUNNABLE, ids=[b.id for b in RUNNABLE], indirect=True)
def test_example(folder: Path, request: pytest.FixtureRequest, docs_demo_app):
    block: Block = request.node.callspec.params["folder"]
    {"scenario": run_scenario, "shell": run_shell, "config": read_config, "python": run_python}[
        block.kind
    ](block, folder, docs_demo_app.url)


def run_scenario(block: Block, folder: Path, demo: str) -> None:
    name = block.options.get("file") or f"example_{block.line}.py"
    (folder / name).write_text(block.code)
    if block.options.get("run") == "no":
        return
    args = ["-u", "4", "-r", "10", "-t", RUN_TIME, *block.options.get("args", "").split()]
    result = run(
        [str(BIN / "horde"), "run", name, "-H", demo, "--headless", "--only-summary",
         "--json", "result.json", *args],
        cwd=folder,
    )  # fmt: skip
    failures_allowed = block.options.get("failures") == "allowed"
    assert result.returncode in ((0, 1) if failures_allowed else (0,)), (
        result.stdout + result.stderr
    )
    assert "Traceback" not in result.stderr, result.stderr
    total = json.loads((folder / "result.json").read_text())["total"]
    assert total["num_requests"] > 0, result.stdout
    if not failures_allowed:
        assert total["num_failures"] == 0, result.stdout


def run_shell(block: Block, folder: Path, demo: str) -> None:
    code = brief(block.code, demo)
    ui = start_web_ui(folder, demo) if "web-ui" in block.options else None
    try:
        if ui is not None:
            code = code.replace(DOCS_WEB_UI, ui[1])
            if re.search(r"\bjq\b", code) and shutil.which("jq") is None:
                pytest.skip("jq is not installed (apt-get install jq)")
        expected = int(block.options.get("exit", "0"))
        stop_after = block.options.get("stop-after")
        if stop_after:
            process = subprocess.Popen(
                ["bash", "-euo", "pipefail", "-c", code], cwd=folder, env=environment(),
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
            )  # fmt: skip
            time.sleep(float(stop_after))
            os.killpg(process.pid, signal.SIGINT)
            out, err = process.communicate(timeout=30)
            returncode = process.returncode
        else:
            result = run(["bash", "-euo", "pipefail", "-c", code], cwd=folder)
            out, err, returncode = result.stdout, result.stderr, result.returncode
    finally:
        if ui is not None:
            stop_web_ui(ui[0])
    assert returncode == expected, f"{code}\n--- stdout\n{out}\n--- stderr\n{err}"
    assert "Traceback" not in err, err


def start_web_ui(folder: Path, demo: str) -> tuple[subprocess.Popen[str], str]:
    """A horde web UI for the page's scenario.py against the demo app; its address."""
    process = subprocess.Popen(
        [str(BIN / "horde"), "run", "scenario.py", "-H", demo], cwd=folder, env=environment(),
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    line = process.stderr.readline()  # "horde web UI on http://127.0.0.1:PORT (Ctrl-C to quit)"
    found = re.search(r"http://\S+", line)
    if not found:
        process.kill()
        raise AssertionError(f"the web UI did not start: {line}{process.stderr.read()}")
    return process, found.group(0)


def stop_web_ui(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def read_config(block: Block, folder: Path, demo: str) -> None:
    name = block.options.get("file", "horde.toml")
    where = folder / f"config_{block.line}"
    where.mkdir()
    (where / name).write_text(block.code)
    (where / "s.py").write_text("")
    for command in ("run", "capacity"):
        check = (
            "from horde.options import parse_run_options\n"
            f"parse_run_options(['s.py'], environ={{}}, capacity={command == 'capacity'})\n"
        )
        result = run([sys.executable, "-c", check], cwd=where)
        assert result.returncode == 0, result.stderr


def run_python(block: Block, folder: Path, demo: str) -> None:
    script = folder / f"example_{block.line}.py"
    code = block.code.replace(DOCS_HOST, demo)
    ui = start_web_ui(folder, demo) if "web-ui" in block.options else None
    try:
        if ui is not None:
            code = code.replace(DOCS_WEB_UI, ui[1])
        script.write_text(code)
        result = run([sys.executable, script.name], cwd=folder)
    finally:
        if ui is not None:
            stop_web_ui(ui[0])
    assert result.returncode == 0, result.stdout + result.stderr
