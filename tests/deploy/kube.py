"""Kubernetes without a cluster: render deploy/kubernetes, and turn its pods into local processes.

``render`` is ``kubectl kustomize`` (kubectl from the dev dependencies). ``Cluster.pod`` reads a
rendered pod template as the kubelet and the container runtime would, and gives the command
line, the environment and the working directory of its container on this machine:

- the command is the image's ENTRYPOINT and CMD (read from the Dockerfile) overridden by the
  container's ``command`` and ``args``, with ``$(VAR)`` expanded as Kubernetes does;
- the environment is the image's ENV, the service links (when ``enableServiceLinks`` is not
  false), ``HOSTNAME``, ``JOB_COMPLETION_INDEX`` for an Indexed Job, then the container's
  ``env`` (values, Secret and ConfigMap keys decoded from the rendered objects, fields);
- every volume becomes a directory (ConfigMaps and Secrets laid out as the kubelet lays them
  out, an emptyDir per pod, a claim shared by the pods that mount it), and each path below a
  ``mountPath`` (in the arguments, the environment and ``workingDir``) names that directory;
  the image's own install (/opt/horde) is this checkout's virtualenv.

Anything else (a kind of volume or a ``valueFrom`` it does not know) fails the test rather than
being skipped silently.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
DOCKERFILE = ROOT / "Dockerfile"
KUBECTL = Path(sys.executable).parent / "kubectl"
# Where the image installs horde (the Dockerfile's UV_PROJECT_ENVIRONMENT): here, the venv.
IMAGE_PATHS = {"/opt/horde": sys.prefix}
# Debian's default PATH, the base image's.
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

Object = dict[str, Any]

# What a user puts in secret.env (docs/kubernetes.md), for the tests.
SECRET = "a secret only this test knows"
WEB_AUTH = "admin:port-forward-only"


def kustomize_dir(
    tmp_path: Path, workers: int | None = None, components: tuple[str, ...] = (), toml: str = ""
) -> Path:
    """A copy of deploy/kubernetes as a user makes it ready: secret.env written, the worker
    count and the run's settings edited where docs/kubernetes.md says to."""
    directory = tmp_path / "deploy"
    shutil.copytree(DEPLOY, directory, ignore=shutil.ignore_patterns("secret.env"))
    (directory / "secret.env").write_text(f"HORDE_SECRET={SECRET}\nHORDE_WEB_AUTH={WEB_AUTH}\n")
    kustomization = directory / "kustomization.yaml"
    text = kustomization.read_text()
    if workers is not None:
        text, found = re.subn(r"(path: /spec/parallelism\n\s+value: )\d+", rf"\g<1>{workers}", text)
        assert found == 1, "the worker count's patch is not where docs/kubernetes.md says"
    if components:
        text += "components:\n" + "".join(f"  - {c}\n" for c in components)
    kustomization.write_text(text)
    if toml:
        (directory / "horde.toml").write_text(toml)
    return directory


def render(directory: Path) -> list[Object]:
    """``kubectl kustomize directory``: the objects, in its order."""
    result = subprocess.run(
        [str(KUBECTL), "kustomize", str(directory)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise AssertionError(f"kubectl kustomize {directory} failed:\n{result.stderr}")
    return [o for o in yaml.safe_load_all(result.stdout) if o]


def find(objects: list[Object], kind: str, name: str) -> Object:
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"] == name:
            return obj
    raise AssertionError(
        f"no {kind} {name} in {[(o['kind'], o['metadata']['name']) for o in objects]}"
    )


def container(template_owner: Object, name: str = "horde") -> Object:
    """The container ``name`` of a Job's or Deployment's pod template."""
    containers = template_owner["spec"]["template"]["spec"]["containers"]
    return next(c for c in containers if c["name"] == name)


def env_value(c: Object, name: str) -> Any:
    return next(e for e in c.get("env", []) if e["name"] == name)


def cpu_cores(quantity: str | int | float) -> float:
    """A CPU quantity ("1", "500m", 2) in cores."""
    text = str(quantity)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


@dataclass
class Image:
    """What the final stage of the Dockerfile gives a container: ENTRYPOINT, CMD, ENV, WORKDIR."""

    entrypoint: list[str]
    cmd: list[str]
    env: dict[str, str]
    workdir: str

    @classmethod
    def from_dockerfile(cls, path: Path = DOCKERFILE) -> Image:
        text = re.sub(r"\\\n", " ", path.read_text())
        lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
        final = max(i for i, ln in enumerate(lines) if ln.upper().startswith("FROM "))
        image = cls([], [], {"PATH": BASE_PATH}, "/")
        for line in lines[final + 1 :]:
            instruction, _, rest = line.partition(" ")
            instruction = instruction.upper()
            if instruction == "ENTRYPOINT":
                image.entrypoint, image.cmd = json.loads(rest), []
            elif instruction == "CMD":
                image.cmd = json.loads(rest)
            elif instruction == "WORKDIR":
                image.workdir = rest.strip()
            elif instruction == "ENV":
                for pair in rest.split():
                    key, _, value = pair.partition("=")
                    value = value.replace("$PATH", image.env.get("PATH", "")).strip('"')
                    image.env[key] = value
        return image


@dataclass
class Pod:
    """A pod's container as a local process: what to run, with which environment, where."""

    name: str
    argv: list[str]
    env: dict[str, str]
    cwd: Path
    cpu_limit: float | None
    mounts: dict[str, Path] = field(default_factory=dict)

    def command(self) -> list[str]:
        """``argv`` with its program found on the container's PATH, as the runtime finds it."""
        program = self.argv[0]
        if "/" not in program:
            found = shutil.which(program, path=self.env.get("PATH", BASE_PATH))
            if found is None:
                raise AssertionError(f"{program!r} is not on the container's PATH")
            program = found
        return [program, *self.argv[1:]]


class Cluster:
    """The rendered objects of one namespace, with local stand-ins for volumes and Services."""

    def __init__(self, objects: list[Object], workdir: Path, service_ips: dict[str, str]):
        self.objects = objects
        self.workdir = workdir
        self.service_ips = service_ips
        self.image = Image.from_dockerfile()
        self.claims: dict[str, Path] = {}

    def pod(
        self,
        owner: Object,
        name: str,
        index: int | None = None,
        rewrite: Callable[[Object], None] | None = None,
    ) -> Pod:
        """The pod ``name`` of ``owner`` (a Job or a Deployment); ``index`` for Indexed Jobs.

        ``rewrite`` may change a copy of the pod spec first (to show what a field is for).
        """
        spec = json.loads(json.dumps(owner["spec"]["template"]["spec"]))
        if rewrite is not None:
            rewrite(spec)
        (c,) = spec["containers"]
        root = self.workdir / "pods" / name
        mounts = {m["mountPath"]: self._volume(spec, m["name"], root) for m in c["volumeMounts"]}
        env = dict(self.image.env)
        env["HOSTNAME"] = name
        env["KUBERNETES_SERVICE_HOST"], env["KUBERNETES_SERVICE_PORT"] = "10.96.0.1", "443"
        if spec.get("enableServiceLinks", True):
            env.update(self._service_links())
        if index is not None:
            env["JOB_COMPLETION_INDEX"] = str(index)
        for item in c.get("env", []):
            env[item["name"]] = self._value(item, name)
        env = {k: _map_paths(v, mounts) for k, v in env.items()}
        if "command" in c:
            argv = [*c["command"], *c.get("args", [])]
        else:
            argv = [*self.image.entrypoint, *c.get("args", self.image.cmd)]
        argv = [_map_paths(_expand(arg, env), mounts) for arg in argv]
        cwd = Path(_map_paths(c.get("workingDir", self.image.workdir), mounts))
        if not cwd.is_relative_to(self.workdir):
            cwd = root / "cwd"  # the image's own directory: nothing there is read
            cwd.mkdir(parents=True, exist_ok=True)
        limit = c.get("resources", {}).get("limits", {}).get("cpu")
        cpu = cpu_cores(limit) if limit is not None else None
        return Pod(name, argv, env, cwd, cpu, mounts)

    def _volume(self, spec: Object, volume: str, root: Path) -> Path:
        source = next(v for v in spec["volumes"] if v["name"] == volume)
        if "configMap" in source:
            data = find(self.objects, "ConfigMap", source["configMap"]["name"])["data"]
            return _atomic_dir(root / "volumes" / volume, {k: v.encode() for k, v in data.items()})
        if "secret" in source:
            obj = find(self.objects, "Secret", source["secret"]["secretName"])
            data = {k: base64.b64decode(v) for k, v in obj.get("data", {}).items()}
            return _atomic_dir(root / "volumes" / volume, data)
        if "emptyDir" in source:
            path = root / "volumes" / volume
            path.mkdir(parents=True, exist_ok=True)
            return path
        if "persistentVolumeClaim" in source:
            claim = source["persistentVolumeClaim"]["claimName"]
            find(self.objects, "PersistentVolumeClaim", claim)
            path = self.claims.setdefault(claim, self.workdir / "claims" / claim)
            path.mkdir(parents=True, exist_ok=True)
            return path
        raise AssertionError(f"volume {source} is not emulated: extend tests/deploy/kube.py")

    def _value(self, item: Object, pod: str) -> str:
        if "value" in item:
            return str(item["value"])
        ref = item["valueFrom"]
        if "secretKeyRef" in ref:
            obj = find(self.objects, "Secret", ref["secretKeyRef"]["name"])
            return base64.b64decode(obj["data"][ref["secretKeyRef"]["key"]]).decode()
        if "configMapKeyRef" in ref:
            obj = find(self.objects, "ConfigMap", ref["configMapKeyRef"]["name"])
            return str(obj["data"][ref["configMapKeyRef"]["key"]])
        if ref.get("fieldRef", {}).get("fieldPath") == "metadata.name":
            return pod
        raise AssertionError(f"env {item} is not emulated: extend tests/deploy/kube.py")

    def _service_links(self) -> dict[str, str]:
        """The variables the kubelet sets for every Service of the namespace (Docker links)."""
        env: dict[str, str] = {}
        for svc in (o for o in self.objects if o["kind"] == "Service"):
            prefix = svc["metadata"]["name"].upper().replace("-", "_")
            address = self.service_ips[svc["metadata"]["name"]]
            ports = svc["spec"]["ports"]
            env[f"{prefix}_SERVICE_HOST"] = address
            env[f"{prefix}_SERVICE_PORT"] = str(ports[0]["port"])
            env[f"{prefix}_PORT"] = f"tcp://{address}:{ports[0]['port']}"
            for port in ports:
                number, proto = port["port"], port.get("protocol", "TCP")
                if "name" in port:
                    env[f"{prefix}_SERVICE_PORT_{port['name'].upper()}"] = str(number)
                key = f"{prefix}_PORT_{number}_{proto}"
                env[key] = f"{proto.lower()}://{address}:{number}"
                env[f"{key}_PROTO"], env[f"{key}_PORT"] = proto.lower(), str(number)
                env[f"{key}_ADDR"] = address
        return env


def _atomic_dir(path: Path, data: dict[str, bytes]) -> Path:
    """A ConfigMap or Secret volume as the kubelet writes it: the files in a timestamped
    directory, ``..data`` linking to it, and each key a link through ``..data``."""
    stamp = time.strftime("..%Y_%m_%d_%H_%M_%S.000000001")
    (path / stamp).mkdir(parents=True)
    for key, content in data.items():
        (path / stamp / key).write_bytes(content)
        (path / key).symlink_to(Path("..data") / key)
    (path / "..data").symlink_to(stamp)
    return path


def _map_paths(text: str, mounts: dict[str, Path]) -> str:
    """Paths inside the container (below a mountPath, or the image's install) to host paths."""
    table = {**IMAGE_PATHS, **{k: str(v) for k, v in mounts.items()}}
    # One pass, longest first: a host path put in is never mapped again.
    alternatives = "|".join(re.escape(p) for p in sorted(table, key=len, reverse=True))
    pattern = rf"(?<![\w/.])({alternatives})(?=/|$|:|\s)"
    return re.sub(pattern, lambda m: table[m.group(1)], text)


def _expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' ``$(VAR)`` in command and args: defined names replaced, ``$$`` is ``$``."""

    def one(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        return env.get(match.group(1), match.group(0))

    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", one, text)
