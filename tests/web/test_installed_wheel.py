"""horde as a user gets it from pip: a wheel (built through an sdist, as pip does from PyPI),
installed into a fresh virtual environment outside the repository, with its web UI and HTML
report drawing their charts in Chromium. Also: a clean clone builds a wheel with the charts
library, and a build without npm says why in one sentence.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

from ..conftest import ROOT
from .conftest import WebRun
from .test_api import call, stats, wait_for
from .test_browser import DRAWN_PIXELS, new_page, shoot

pytestmark = pytest.mark.timeout(240)

UV = ROOT / ".tools" / "bin" / "uv"
VENDOR_FILES = ("uPlot.iife.min.js", "uPlot.min.css")
# The environment of a user's shell: nothing pointing into the repository or its venv.
CLEAN_ENV = {
    k: v
    for k, v in os.environ.items()
    if k not in ("PYTHONPATH", "VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONHOME")
}


def run(command, cwd, **kwargs):
    result = subprocess.run(
        [str(c) for c in command], cwd=cwd, env=CLEAN_ENV, capture_output=True, text=True,
        timeout=180, **kwargs,
    )  # fmt: skip
    assert result.returncode == 0, f"{command}: {result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """(venv's bin directory, dist directory): horde from its wheel, in a venv of its own."""
    if not UV.exists():
        pytest.skip("needs uv in .tools/bin (make setup installs it)")
    base = tmp_path_factory.mktemp("installed")
    dist = base / "dist"
    # uv builds the sdist, then the wheel from the unpacked sdist: pip's path from PyPI.
    run([UV, "build", "--out-dir", dist, ROOT], cwd=base)
    venv = base / "venv"
    run([UV, "venv", "--python", sys.executable, venv], cwd=base)
    wheel = next(dist.glob("horde-*.whl"))
    run([UV, "pip", "install", "--python", venv / "bin" / "python", wheel], cwd=base)
    return venv / "bin", dist


def test_the_wheel_and_the_sdist_carry_the_charts_library(installed):
    bin_dir, dist = installed
    with zipfile.ZipFile(next(dist.glob("horde-*.whl"))) as wheel:
        names = set(wheel.namelist())
    for name in VENDOR_FILES:
        assert f"horde/web/static/vendor/{name}" in names
    with tarfile.open(next(dist.glob("horde-*.tar.gz"))) as sdist:
        names = {n.split("/", 1)[1] for n in sdist.getnames() if "/" in n}
    for name in VENDOR_FILES:
        assert f"src/horde/web/static/vendor/{name}" in names
    assert {"hatch_build.py", "web/package.json", "web/package-lock.json"} <= names
    # The installed package is the wheel's, not the repository's.
    where = run([bin_dir / "python", "-c", "import horde; print(horde.__file__)"], cwd=dist)
    assert where.stdout.startswith(str(bin_dir.parent)), where.stdout


def test_the_installed_web_ui_and_report_draw_their_charts(
    installed, browser, tmp_path, counting_target
):
    bin_dir, _ = installed
    web = WebRun(
        tmp_path, counting_target.url, command=(str(bin_dir / "horde"),), env=CLEAN_ENV,
        inherit_env=False,
    )  # fmt: skip
    try:
        status, body, _ = call(web.url + "/vendor/uPlot.iife.min.js")
        assert status == 200 and "uPlot" in body
        page = new_page(browser)
        page.goto(web.url)
        assert page.evaluate("typeof uPlot") == "function"
        page.fill("#start-form input[name=user_count]", "2")
        page.fill("#start-form input[name=spawn_rate]", "10")
        page.click("#start-form button[type=submit]")
        wait_for(lambda: stats(web)["stats"][-1]["num_requests"] > 10)
        page.click("button[data-tab=charts]")
        page.wait_for_timeout(3000)  # a few seconds of history
        canvases = page.query_selector_all("#charts canvas")
        assert len(canvases) == 4  # throughput, latency, load, horde's own CPU and loop lag
        assert all(c.evaluate(DRAWN_PIXELS) > 500 for c in canvases)
        shoot(page, "installed-web-charts-1280")
        assert page.errors == []
        page.close()
        status, report, _ = call(web.url + "/stats/report")
        assert status == 200 and "uPlot" in report
    finally:
        web.stop()

    # The same install writes an offline report with --html.
    result = subprocess.run(
        [bin_dir / "horde", "run", "scenario.py", "-H", counting_target.url, "-u", "2",
         "-r", "10", "-t", "2s", "--headless", "--only-summary", "--html", "report.html"],
        cwd=tmp_path, env=CLEAN_ENV, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    page = new_page(browser)
    page.goto((tmp_path / "report.html").as_uri())
    page.wait_for_selector("#charts canvas")
    assert all(c.evaluate(DRAWN_PIXELS) > 200 for c in page.query_selector_all("#charts canvas"))
    assert page.errors == []
    page.close()


def test_a_clean_clone_builds_a_wheel_with_the_charts_library(tmp_path):
    """What `pip install git+...` and `pip wheel .` do: no vendor files, so npm fetches them."""
    if shutil.which("npm") is None or shutil.which("git") is None or not UV.exists():
        pytest.skip("needs git, npm and uv")
    clone = tmp_path / "clone"
    run(["git", "clone", "--quiet", "--no-hardlinks", ROOT, clone], cwd=tmp_path)
    assert not (clone / "src/horde/web/static/vendor").exists()
    run([UV, "build", "--wheel", "--out-dir", tmp_path / "dist", clone], cwd=clone)
    with zipfile.ZipFile(next((tmp_path / "dist").glob("horde-*.whl"))) as wheel:
        names = set(wheel.namelist())
    for name in VENDOR_FILES:
        assert f"horde/web/static/vendor/{name}" in names


def test_building_without_npm_says_so_in_one_sentence(tmp_path):
    (tmp_path / "web").mkdir()
    for name in ("hatch_build.py", "web/package.json", "web/package-lock.json"):
        shutil.copyfile(ROOT / name, tmp_path / name)
    no_npm = tmp_path / "bin"
    no_npm.mkdir()
    result = subprocess.run(
        [sys.executable, "hatch_build.py"], cwd=tmp_path, capture_output=True, text=True,
        env={**CLEAN_ENV, "PATH": str(no_npm)}, timeout=30,
    )  # fmt: skip
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "needs npm" in lines[0], result.stderr
    assert not (tmp_path / "src").exists()
