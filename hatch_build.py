"""The web UI's front-end libraries, fetched from npm by the lock file, for every kind of install.

The libraries (uPlot) are not committed: ``web/package-lock.json`` pins them and they are
copied into ``src/horde/web/static/vendor/``, which git ignores. So that a wheel or an sdist
built from a clean clone (``pip install .``, ``pip install git+...``, ``uv build``) still carries
them, hatchling runs this file as a build hook: when the copies are missing or do not match the
lock it runs ``npm ci`` and copies them; ``artifacts`` in pyproject.toml then puts them in the
wheel and the sdist although git ignores them. An sdist carries the copies, so a wheel built
from it needs no npm. ``make web-assets`` runs this file as a script.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

try:
    from hatchling.builders.hooks.plugin.interface import BuildHookInterface
except ImportError:  # run as a script, by `make web-assets`: no hatchling needed
    BuildHookInterface = object  # type: ignore[assignment,misc]

WEB = Path("web")
VENDOR = Path("src/horde/web/static/vendor")
# (npm package, file inside the package): each is copied into VENDOR under its own name.
FILES = (("uplot", "dist/uPlot.iife.min.js"), ("uplot", "dist/uPlot.min.css"))
# Names the versions the copies were made from, to rebuild when the lock moves on.
STAMP = ".built"


def locked_versions(root: Path) -> dict[str, str] | None:
    """Versions the lock file pins for FILES' packages (None without the lock, as in a wheel)."""
    lock = root / WEB / "package-lock.json"
    if not lock.exists():
        return None
    packages = json.loads(lock.read_text())["packages"]
    return {name: packages[f"node_modules/{name}"]["version"] for name, _ in FILES}


def copies_current(root: Path) -> bool:
    """True when every copy exists and was made from the versions the lock pins."""
    vendor = root / VENDOR
    if not all((vendor / Path(path).name).exists() for _, path in FILES):
        return False
    wanted = locked_versions(root)
    if wanted is None:
        return True
    try:
        made_from = json.loads((vendor / STAMP).read_text())
    except (OSError, ValueError):
        return False
    return made_from == wanted


def build(root: Path) -> None:
    """``npm ci`` in web/ and copy the files; a missing npm is one sentence and exit 1."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit(
            "horde: building needs npm to fetch the web UI's charts library (uPlot, pinned by "
            "web/package-lock.json): install Node.js and npm, or install horde from an sdist "
            "or a wheel, which carry it"
        )
    command = [npm, "ci", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"]
    result = subprocess.run(command, cwd=root / WEB, stdout=sys.stderr)
    if result.returncode != 0:
        raise SystemExit(
            f"horde: `npm ci` in {root / WEB} failed with exit code {result.returncode} "
            "(its messages are above), so the web UI's charts library could not be fetched"
        )
    vendor = root / VENDOR
    vendor.mkdir(parents=True, exist_ok=True)
    for package, path in FILES:
        shutil.copyfile(root / WEB / "node_modules" / package / path, vendor / Path(path).name)
    (vendor / STAMP).write_text(json.dumps(locked_versions(root)) + "\n")


def ensure_built(root: Path) -> None:
    if not copies_current(root):
        build(root)


class WebAssetsHook(BuildHookInterface):  # type: ignore[misc]
    """hatchling's hook (``[tool.hatch.build.hooks.custom]``), for the wheel and the sdist."""

    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        # An editable install serves the files from the tree, where `make web-assets` puts them.
        if self.target_name == "wheel" and version == "editable":
            return
        ensure_built(Path(self.root))


if __name__ == "__main__":
    ensure_built(Path(__file__).resolve().parent)
