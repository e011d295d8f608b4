"""The documentation site builds in strict mode (a broken link, anchor or API reference fails),
its command-line reference is the parser's, and its API reference covers horde's public names."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import horde
from horde.options import build_parser

ROOT = Path(__file__).resolve().parents[2]
PROPERDOCS = Path(sys.executable).parent / "properdocs"

pytestmark = pytest.mark.timeout(120)


def build(config: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PROPERDOCS), "build", "--strict", "--config-file", str(config), "--site-dir",
         str(site)],
        cwd=config.parent, capture_output=True, text=True, timeout=100,
    )  # fmt: skip


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("site")
    result = build(ROOT / "mkdocs.yml", path)
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr, result.stderr
    return path


def test_the_site_builds_without_a_warning(site):
    assert (site / "index.html").exists()
    pages = {p.stem for p in (ROOT / "docs").glob("*.md")}
    built = {p.stem for p in site.glob("*.html")}
    assert pages <= built, pages - built  # every page is in the site (and so in the nav)


def test_the_command_line_reference_is_the_parsers(site):
    page = (site / "command-line.html").read_text()
    for capacity in (False, True):
        for action in build_parser(capacity)._actions:
            if not action.option_strings or action.dest == "help":
                continue
            longest = max(action.option_strings, key=len)
            assert f'id="{longest[2:]}"' in page or f"<code>{longest}" in page, longest
            for flag in action.option_strings:
                assert f"<code>{flag}</code>" in page, flag
    for text in (
        "HORDE_RUN_TIME",
        "run-time = ...",
        "<code>--stop-timeout</code>",
        "<code>SECONDS</code>",
        "HORDE_SECRET",
        "HORDE_LOCAL_WORKER_OF",
    ):
        assert text in page, text  # fmt: skip


def test_the_api_reference_covers_every_public_name(site):
    source = (ROOT / "docs" / "api.md").read_text()
    page = (site / "api.html").read_text()
    for name in horde.__all__:
        if name.startswith("__"):
            continue
        assert re.search(rf"(::: horde(\.\w+)*\.{name}\b|`{name}`)", source), name
    for name in ("HttpUser", "between", "StopUser", "catch_response", "django_login"):
        assert name in page, name


@pytest.mark.parametrize(
    ("page", "text", "warning"),
    [
        ("broken-link.md", "[gone](no-such-page.md)", "no-such-page.md"),
        ("broken-anchor.md", "[gone](getting-started.md#no-such-heading)", "no-such-heading"),
        ("broken-reference.md", "[gone][horde.NoSuchThing]", "horde.NoSuchThing"),
    ],
)
def test_a_broken_link_anchor_or_reference_fails_the_build(tmp_path, page, text, warning):
    copy = tmp_path / "project"
    shutil.copytree(ROOT / "docs", copy / "docs")
    (copy / "src").symlink_to(ROOT / "src")
    config = (ROOT / "mkdocs.yml").read_text()
    config = config.replace("  - Home: index.md\n", f"  - Home: index.md\n  - Broken: {page}\n")
    (copy / "mkdocs.yml").write_text(config)
    (copy / "docs" / page).write_text(f"# Broken\n\n{text}\n")
    result = build(copy / "mkdocs.yml", tmp_path / "site")
    assert result.returncode != 0
    assert warning in result.stderr, result.stderr


def test_an_unknown_reference_marker_is_an_error():
    spec = importlib.util.spec_from_file_location("reference", ROOT / "docs/hooks/reference.py")
    assert spec is not None and spec.loader is not None
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    assert "--run-time" in reference.expand("<!-- horde-reference: run-options -->")
    with pytest.raises(ValueError, match="unknown horde-reference 'run-optons'"):
        reference.expand("<!-- horde-reference: run-optons -->")
