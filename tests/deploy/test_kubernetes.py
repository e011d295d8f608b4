"""deploy/kubernetes without a cluster: rendered, validated against the API's schemas, and run.

The manifests are rendered by ``kubectl kustomize`` from a copy of the directory made ready as
docs/kubernetes.md says (secret.env, the worker count, horde.toml); every object is validated
against the Kubernetes schemas of the oldest and newest versions we support (kubernetes-validate,
strict: an unknown field fails). Then the master's and the workers' containers run exactly as the
rendered pods give them (tests/deploy/kube.py: command and args, environment with the Secret's
value, the ConfigMap mounted, the claim for /results), each in a sandbox standing in for its pod
(tests/deploy/sandbox.py: a network namespace, a cgroup with the pod's CPU limit, the pod's
hostname, an /etc/hosts where the Service's name is the master's address), against a counting
target in a namespace of its own. Root is needed for that part (CI runs as root).
"""

from __future__ import annotations

import contextlib
import csv
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import kubernetes_validate
import pytest

from tests.deploy.kube import (
    SECRET,
    WEB_AUTH,
    Cluster,
    Object,
    Pod,
    container,
    cpu_cores,
    env_value,
    find,
    kustomize_dir,
    render,
)
from tests.deploy.sandbox import enter_network, enter_pod
from tests.distributed.cgroups import cpu_limited
from tests.distributed.netns import namespaces, netns_exec
from tests.distributed.servers import CountingServer

# The oldest Kubernetes the manifests are for (podFailurePolicy is GA from 1.31), and the newest
# the validator knows.
VERSIONS = ["1.31.0", kubernetes_validate.latest_version()]
TARGET_NAME = "app.loadtest.svc.cluster.local"


def pod_templates(objects: list[Object]) -> list[Object]:
    return [o for o in objects if o["kind"] in ("Job", "Deployment")]


def expected_workers(objects: list[Object]) -> int:
    """Worker processes the workers Job starts: pods x `--processes auto` in a pod (its CPU
    limit in whole cores)."""
    workers = find(objects, "Job", "horde-workers")
    c = container(workers)
    assert "--processes=auto" in c["args"]
    per_pod = max(1, int(cpu_cores(c["resources"]["limits"]["cpu"])))
    return workers["spec"]["parallelism"] * per_pod


# Rendered and validated -------------------------------------------------------------------------
@pytest.mark.parametrize("components", [(), ("components/web-ui",)], ids=["base", "web-ui"])
def test_every_object_is_valid_for_the_kubernetes_api(tmp_path, components):
    objects = render(kustomize_dir(tmp_path, components=components))
    kinds = {o["kind"] for o in objects}
    assert kinds >= {"Job", "Service", "ConfigMap", "Secret", "PersistentVolumeClaim"}
    for version in VERSIONS:
        for obj in objects:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                name = f"{obj['kind']} {obj['metadata']['name']}"
                raise AssertionError(f"{name} is invalid for Kubernetes {version}: {exc}") from exc


def test_validation_fails_on_a_mistake(tmp_path):
    """The validator is strict: a misspelt field, as a user might write, is refused."""
    objects = render(kustomize_dir(tmp_path))
    workers = find(objects, "Job", "horde-workers")
    container(workers)["resources"]["limit"] = {"cpu": "1"}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(workers, VERSIONS[-1], strict=True)


@pytest.mark.parametrize("workers", [3, 100])
def test_the_worker_count_is_set_in_one_place(tmp_path, workers):
    objects = render(kustomize_dir(tmp_path, workers=workers))
    job = find(objects, "Job", "horde-workers")
    assert job["spec"]["completionMode"] == "Indexed"
    assert job["spec"]["parallelism"] == job["spec"]["completions"] == workers
    master = container(find(objects, "Job", "horde-master"))
    assert env_value(master, "HORDE_EXPECT_WORKERS")["value"] == str(workers)
    assert expected_workers(objects) == workers


def test_the_default_is_a_small_run(tmp_path):
    # The shipped default is what this file runs below, on a CI machine of 2 cores.
    objects = render(kustomize_dir(tmp_path))
    assert find(objects, "Job", "horde-workers")["spec"]["parallelism"] == 3


# Volume types the "restricted" Pod Security Standard allows.
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}


def test_pods_run_locked_down(tmp_path):
    """Non-root, read-only root filesystem, no capabilities: the "restricted" Pod Security
    Standard, and a little more."""
    objects = render(kustomize_dir(tmp_path, components=("components/web-ui",)))
    for owner in pod_templates(objects):
        spec = owner["spec"]["template"]["spec"]
        what = f"{owner['kind']} {owner['metadata']['name']}"
        # Service links would turn into HORDE_MASTER_PORT=tcp://... (see the test below).
        assert spec["enableServiceLinks"] is False, what
        assert spec["automountServiceAccountToken"] is False, what
        assert spec["securityContext"]["runAsNonRoot"] is True, what
        assert spec["securityContext"]["runAsUser"] != 0, what
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, what
        for volume in spec.get("volumes", []):
            assert set(volume) - {"name"} <= RESTRICTED_VOLUMES, (what, volume)
        assert not any(spec.get(k) for k in ("hostNetwork", "hostPID", "hostIPC")), what
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True, what
            assert sc["allowPrivilegeEscalation"] is False, what
            assert sc["capabilities"]["drop"] == ["ALL"], what
            for kind in ("requests", "limits"):
                assert set(c["resources"][kind]) == {"cpu", "memory"}, what


def test_the_secret_reaches_both_roles_from_the_secret_object(tmp_path):
    objects = render(kustomize_dir(tmp_path))
    (secret,) = [o for o in objects if o["kind"] == "Secret"]
    for name in ("horde-master", "horde-workers"):
        ref = env_value(container(find(objects, "Job", name)), "HORDE_SECRET")["valueFrom"]
        assert ref["secretKeyRef"] == {"name": secret["metadata"]["name"], "key": "HORDE_SECRET"}
        assert "--secret" not in " ".join(container(find(objects, "Job", name))["args"])


def test_the_web_ui_is_on_the_pods_loopback_and_needs_a_password(tmp_path):
    base = container(find(render(kustomize_dir(tmp_path / "a")), "Job", "horde-master"))
    assert env_value(base, "HORDE_HEADLESS")["value"] == "true"
    objects = render(kustomize_dir(tmp_path / "b", components=("components/web-ui",)))
    master = container(find(objects, "Job", "horde-master"))
    assert env_value(master, "HORDE_HEADLESS")["value"] == "false"
    assert env_value(master, "HORDE_WEB_HOST")["value"] == "127.0.0.1"
    assert "secretKeyRef" in env_value(master, "HORDE_WEB_AUTH")["valueFrom"]
    web_port = int(env_value(master, "HORDE_WEB_PORT")["value"])
    for svc in (o for o in objects if o["kind"] == "Service"):
        for port in svc["spec"]["ports"]:
            assert port["port"] != web_port and port["targetPort"] not in (web_port, "web")


def test_service_and_commands_agree_on_the_masters_port(tmp_path):
    objects = render(kustomize_dir(tmp_path))
    master = container(find(objects, "Job", "horde-master"))
    worker = container(find(objects, "Job", "horde-workers"))
    ports = find(objects, "Service", "horde-master")["spec"]["ports"]
    (port,) = [p for p in ports if p["name"] == "master"]
    (named,) = [p for p in master["ports"] if p["name"] == port["targetPort"]]
    assert f"--master-bind-port={named['containerPort']}" in master["args"]
    assert f"--master-port={port['port']}" in worker["args"]
    assert "--master-host=horde-master" in worker["args"]


def test_prometheus_scrapes_the_port_the_master_serves_metrics_on(tmp_path):
    objects = render(kustomize_dir(tmp_path))
    job = find(objects, "Job", "horde-master")
    master = container(job)
    annotations = job["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    (named,) = [p for p in master["ports"] if p["name"] == "metrics"]
    assert int(annotations["prometheus.io/port"]) == named["containerPort"]
    assert f"--metrics-port={named['containerPort']}" in master["args"]
    assert "--metrics-host=0.0.0.0" in master["args"]  # the pod's address, not its loopback
    ports = find(objects, "Service", "horde-master")["spec"]["ports"]
    assert {"name": "metrics", "port": 9646, "targetPort": "metrics", "protocol": "TCP"} in ports
    (policy,) = [o for o in objects if o["kind"] == "NetworkPolicy"]
    scraper = [r for r in policy["spec"]["ingress"] if r["ports"][0]["port"] == 9646]
    assert scraper and "namespaceSelector" in scraper[0]["from"][0]


def test_service_links_would_turn_into_horde_settings(tmp_path):
    """Why every pod has ``enableServiceLinks: false``: the kubelet's variables for the Service
    horde-master include HORDE_MASTER_PORT=tcp://..., which horde would read as --master-port,
    and HORDE_MASTER_SERVICE_HOST and the like, which horde refuses as unknown settings, saying
    what set them."""
    objects = render(kustomize_dir(tmp_path))
    cluster = Cluster(objects, tmp_path / "cluster", {"horde-master": "10.96.0.10"})
    workers = find(objects, "Job", "horde-workers")
    as_shipped = cluster.pod(workers, "horde-workers-0", 0)
    assert not any(k.startswith("HORDE_MASTER") for k in as_shipped.env)

    def with_links(spec: Object) -> None:
        spec["enableServiceLinks"] = True

    linked = cluster.pod(workers, "horde-workers-1", 1, rewrite=with_links)
    assert linked.env["HORDE_MASTER_PORT"] == "tcp://10.96.0.10:5557"
    result = subprocess.run(
        linked.command(), env=linked.env, cwd=linked.cwd, capture_output=True, text=True
    )
    assert result.returncode == 2, result.stderr
    assert "Kubernetes sets it for the Service horde-master" in result.stderr
    assert "enableServiceLinks: false" in result.stderr


# Run in network namespaces ----------------------------------------------------------------------
RUN_TOML = f"""\
host = "http://{TARGET_NAME}:8080"
users = 6
spawn-rate = 50
run-time = "4s"
"""


def _hosts_file(own: tuple[str, str], names: dict[str, str]) -> str:
    lines = ["127.0.0.1 localhost", f"{own[1]} {own[0]}"]
    lines += [f"{address} {name}" for name, address in names.items()]
    return "\n".join(lines) + "\n"


class Process:
    """A pod's container running in its sandbox (tests/deploy/sandbox.py); output in a log."""

    def __init__(self, pod: Pod, enter: Callable[[], None], logs: Path) -> None:
        self.pod = pod
        self.log = logs / f"{pod.name}.log"
        with self.log.open("w") as out:
            self.process = subprocess.Popen(
                pod.command(),
                env=pod.env,
                cwd=pod.cwd,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=enter,
            )

    def wait(self, timeout: float) -> int:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"{self.pod.name} still running:\n{self.output()}") from None

    def output(self) -> str:
        return self.log.read_text()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@dataclass
class Run:
    """The master's and the workers' pods running in their sandboxes, and the target."""

    cluster: Cluster
    namespaces: dict[str, str]  # pod name (or "target") -> network namespace
    addresses: dict[str, str]
    master: Process
    workers: list[Process]
    target: CountingServer


@contextlib.contextmanager
def pods_running(objects: list[Object], tmp_path: Path, subnet: str) -> Iterator[Run]:
    """Start the target, the master's pod and the workers Job's pods (one per index), each in
    its network namespace (``subnet``.0/24), cgroup, hostname and /etc/hosts; all are killed
    and removed on exit."""
    master_job = find(objects, "Job", "horde-master")
    workers_job = find(objects, "Job", "horde-workers")
    master_pod = "horde-master-x7k2p"
    worker_pods = [f"horde-workers-{i}" for i in range(workers_job["spec"]["completions"])]
    addresses = {"target": f"{subnet}.100", master_pod: f"{subnet}.1"}
    addresses |= {name: f"{subnet}.{10 + i}" for i, name in enumerate(worker_pods)}
    # The cluster's DNS: the Service's names (short and qualified) are the master's address.
    service, namespace = "horde-master", master_job["metadata"]["namespace"]
    dns = {
        service: addresses[master_pod],
        f"{service}.{namespace}.svc.cluster.local": addresses[master_pod],
        TARGET_NAME: addresses["target"],
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    cluster = Cluster(objects, tmp_path / "cluster", {service: dns[service]})
    pods = [cluster.pod(master_job, master_pod)]
    pods += [cluster.pod(workers_job, name, i) for i, name in enumerate(worker_pods)]
    with namespaces(addresses) as ns, contextlib.ExitStack() as stack:
        target = CountingServer(addresses["target"], 8080, prefix=netns_exec(ns["target"]))
        stack.callback(target.kill)
        started: list[Process] = []
        for pod in pods:
            join = stack.enter_context(cpu_limited(pod.name, pod.cpu_limit))
            if join is None:
                pytest.skip("needs a cgroup with the cpu controller for the pods' CPU limits")
            hosts_file = logs / f"{pod.name}.hosts"
            hosts_file.write_text(_hosts_file((pod.name, addresses[pod.name]), dns))
            started.append(Process(pod, enter_pod(ns[pod.name], hosts_file, pod.name, join), logs))
            stack.callback(started[-1].kill)
        yield Run(cluster, ns, addresses, started[0], started[1:], target)


@pytest.mark.timeout(180)
def test_master_and_workers_run_as_the_manifests_say(tmp_path):
    objects = render(kustomize_dir(tmp_path, toml=RUN_TOML))
    with pods_running(objects, tmp_path, "10.78.0") as run:
        assert {p.pod.env["HORDE_SECRET"] for p in [run.master, *run.workers]} == {SECRET}
        # The run ends by itself (run-time); a worker that fails ends the test at once.
        deadline = time.monotonic() + 120
        while run.master.process.poll() is None and time.monotonic() < deadline:
            for worker in run.workers:
                code = worker.process.poll()
                assert code in (None, 0), f"{worker.pod.name}: exit {code}\n{worker.output()}"
            time.sleep(0.2)
        assert run.master.wait(timeout=1) == 0, run.master.output()
        for worker in run.workers:
            assert worker.wait(timeout=30) == 0, worker.output()
        served = run.target.stop()
    # Written where the master mounts the claim.
    results = run.master.pod.mounts["/results"]
    assert results == run.cluster.claims["horde-results"]
    written = {p.name for p in results.iterdir()}
    assert {"horde_stats.csv", "horde.json", "horde.html", "history.db"} <= written
    rows = list(csv.DictReader((results / "horde_stats.csv").read_text().splitlines()))
    assert rows[-1]["Name"] == "Aggregated"
    assert int(rows[-1]["Request Count"]) == served > 0
    meta = json.loads((results / "horde.json").read_text())["meta"]
    assert len(meta["workers"]) == expected_workers(objects) == len(run.workers) == 3
    assert all(w["num_requests"] > 0 for w in meta["workers"])
    assert sorted(w["host"] for w in meta["workers"]) == [w.pod.name for w in run.workers]
    assert "run time" in meta["stop_reason"]


# The client of the web UI test, run in a namespace: each line of its stdin is METHOD URL AUTH
# [BODY] (AUTH "-" for none); it prints the status (and the runner's state for /stats/requests),
# or the error's name when it cannot connect.
HTTP_CLIENT = """
import base64, json, sys, urllib.error, urllib.request
for line in sys.stdin:
    method, url, auth, *body = line.split()
    request = urllib.request.Request(url, method=method, data=body[0].encode() if body else None)
    if auth != "-":
        request.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            state = json.load(response)["state"] if url.endswith("/stats/requests") else ""
            print(f"{response.status}{state}", flush=True)
    except urllib.error.HTTPError as exc:
        print(exc.code, flush=True)
    except OSError as exc:
        print(type(getattr(exc, "reason", exc)).__name__, flush=True)
"""


def _http(namespace: str, *requests: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", HTTP_CLIENT],
        input="".join(f"{r}\n" for r in requests),
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=enter_network(namespace),
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.split()


@pytest.mark.timeout(180)
def test_web_ui_is_reached_by_port_forward_only_and_asks_for_the_password(tmp_path):
    """components/web-ui: the UI answers on the master pod's loopback (where port-forward
    connects), with the password from the Secret; from another pod its port is closed. A test
    started there writes its results to the volume when the Job is deleted (SIGTERM)."""
    components = ("components/web-ui",)
    objects = render(kustomize_dir(tmp_path, workers=1, components=components, toml=RUN_TOML))
    with pods_running(objects, tmp_path, "10.79.0") as run:
        master, (worker,) = run.master, run.workers
        deadline = time.monotonic() + 60
        while "workers join at" not in master.output():
            assert master.process.poll() is None, master.output()
            assert time.monotonic() < deadline, master.output()
            time.sleep(0.2)
        port = master.pod.env["HORDE_WEB_PORT"]
        from_a_pod = f"http://{run.addresses[master.pod.name]}:{port}/"
        refused = _http(run.namespaces[worker.pod.name], f"GET {from_a_pod} {WEB_AUTH}")
        assert refused == ["ConnectionRefusedError"]
        # Prometheus scrapes the pod's address at its annotated port, without a password.
        annotations = find(objects, "Job", "horde-master")["spec"]["template"]["metadata"]
        scrape = f"http://{run.addresses[master.pod.name]}:{annotations['annotations']['prometheus.io/port']}"
        assert _http(run.namespaces[worker.pod.name], f"GET {scrape}/metrics -") == ["200"]
        # What `kubectl port-forward` reaches: the port on the pod's loopback.
        local = f"http://127.0.0.1:{port}"
        inside = run.namespaces[master.pod.name]
        answers = _http(
            inside,
            f"GET {local}/ -",
            f"GET {local}/ admin:wrong",
            f"GET {local}/ {WEB_AUTH}",
            f"POST {local}/swarm {WEB_AUTH} user_count=2&spawn_rate=10&run_time=4s",
        )
        assert answers == ["401", "401", "200", "200"]
        # The test's run time (4 s), then the Job is deleted: SIGTERM, results written.
        deadline = time.monotonic() + 60
        while _http(inside, f"GET {local}/stats/requests {WEB_AUTH}") != ["200stopped"]:
            assert time.monotonic() < deadline, master.output()
            time.sleep(0.5)
        master.process.terminate()
        assert master.wait(timeout=60) == 0, master.output()
        assert worker.wait(timeout=30) == 0, worker.output()
        served = run.target.stop()
    results = master.pod.mounts["/results"]
    rows = list(csv.DictReader((results / "horde_stats.csv").read_text().splitlines()))
    assert int(rows[-1]["Request Count"]) == served > 0
    assert (results / "horde.html").exists()
