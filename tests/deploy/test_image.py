"""The Dockerfile, without a container engine: what it copies is in the build context, and it
agrees with the Makefile and the Kubernetes manifests. (hadolint lints it in `make lint`.)"""

from __future__ import annotations

import re
import subprocess

from tests.deploy.kube import DOCKERFILE, ROOT, Image, find, kustomize_dir, render


def dockerignore_rules() -> list[tuple[bool, re.Pattern[str]]]:
    """(excluded?, pattern) per line of .dockerignore, as Docker reads them: the last rule
    that matches a path (or one of its parent directories) decides."""
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        excluded = not line.startswith("!")
        pattern = line.lstrip("!").strip("/")
        regex = ""
        for part in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
            regex += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                part, re.escape(part)
            )
        rules.append((excluded, re.compile(regex)))
    return rules


def in_context(path: str, rules: list[tuple[bool, re.Pattern[str]]]) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    verdict = False
    for excluded, regex in rules:
        if any(regex.fullmatch(p) for p in prefixes):
            verdict = excluded
    return not verdict


def context_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    rules = dockerignore_rules()
    return [p for p in listed if in_context(p, rules)]


def build_copies() -> list[str]:
    """The sources of every COPY from the build context (not ``--from`` another stage)."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    sources: list[str] = []
    for line in text.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            sources += [w for w in words[1:-1] if not w.startswith("--")]
    return sources


def test_everything_the_build_copies_is_in_the_context():
    files = context_files()
    for source in build_copies():
        source = source.rstrip("/")
        assert any(f == source or f.startswith(source + "/") for f in files), source
    assert "src/horde/__init__.py" in files and "uv.lock" in files


def test_the_context_leaves_out_built_and_private_files():
    rules = dockerignore_rules()
    for path in (
        ".venv/bin/python",
        "src/horde/web/static/vendor/uPlot.min.css",
        "web/node_modules/uplot/package.json",
        "deploy/kubernetes/secret.env",
        "src/horde/__pycache__/cli.cpython-311.pyc",
        ".git/config",
        "tests/conftest.py",
    ):
        assert not in_context(path, rules), path


def test_uv_is_the_makefiles_version():
    makefile = (ROOT / "Makefile").read_text()
    (wanted,) = re.findall(r"^UV_VERSION := (\S+)$", makefile, re.M)
    assert f"ARG UV_VERSION={wanted}\n" in DOCKERFILE.read_text()


def test_the_image_runs_horde_as_the_user_the_pods_ask_for(tmp_path):
    image = Image.from_dockerfile()
    assert image.entrypoint == ["horde"]
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    final = text[text.rindex("\nFROM ") :]
    (user,) = re.findall(r"^USER (\d+):(\d+)$", final, re.M)
    objects = render(kustomize_dir(tmp_path))
    for name in ("horde-master", "horde-workers"):
        context = find(objects, "Job", name)["spec"]["template"]["spec"]["securityContext"]
        assert (str(context["runAsUser"]), str(context["runAsGroup"])) == user
