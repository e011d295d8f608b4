"""--otel against OTLP receivers started by the test (HTTP and gRPC), decoding the real
protobuf messages: the last export carries the server's count, the histograms, the resource."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.metrics.helpers import PER_USER, write_scenario
from tests.metrics.receivers import GrpcReceiver, HttpReceiver, attributes, metrics_by_name

USERS = 3


@pytest.fixture
def http_receiver():
    receiver = HttpReceiver()
    yield receiver
    receiver.stop()


@pytest.fixture
def grpc_receiver():
    receiver = GrpcReceiver()
    yield receiver
    receiver.stop()


def _run(tmp_path, target_url: str, *args: str, env: dict[str, str] | None = None):
    import os

    scenario = write_scenario(tmp_path)
    return subprocess.run(
        [sys.executable, "-m", "horde", "run", str(scenario), "-H", target_url, "--headless",
         "-u", str(USERS), "-r", "100", "-t", "4s", "--otel", "--otel-interval", "1", *args],
        cwd=tmp_path, capture_output=True, text=True, timeout=90,
        env={**os.environ, **(env or {})},
    )  # fmt: skip


def _check_export(requests, server_count: int, stderr: str, mode: str = "headless") -> None:
    assert len(requests) >= 3, "an export a second and one at the end"
    last = requests[-1]
    resource = attributes(last.resource_metrics[0].resource.attributes)
    run_id = re.search(r"\(run ([0-9a-f]{12})\)", stderr).group(1)
    assert resource["horde.run.id"] == run_id == resource["service.instance.id"]
    assert resource["service.name"] == "horde"
    assert resource["telemetry.sdk.language"] == "python"  # the SDK's own attributes
    assert resource["horde.mode"] == mode and resource["horde.scenario"] == "scenario.py"
    metrics = metrics_by_name(last)
    requests_metric = metrics["horde.requests"]
    assert requests_metric.unit == "{request}"
    assert requests_metric.sum.is_monotonic
    assert requests_metric.sum.aggregation_temporality == 2  # cumulative
    points = {attributes(p.attributes)["name"]: p for p in requests_metric.sum.data_points}
    assert points["/items/:id"].as_int == server_count == USERS * PER_USER
    assert points["/items/:id"].start_time_unix_nano < points["/items/:id"].time_unix_nano
    histogram = metrics["horde.response_time"]
    assert histogram.unit == "s"
    (point,) = histogram.histogram.data_points
    assert point.count == server_count == sum(point.bucket_counts)
    assert len(point.bucket_counts) == len(point.explicit_bounds) + 1 == 21
    assert 0 < point.min <= point.max and point.sum > 0
    failures = metrics["horde.request.failures"].sum.data_points
    assert [p.as_int for p in failures] == [0]
    assert metrics["horde.users"].gauge.data_points[0].as_int in (0, USERS)
    # The series grows during the run: earlier exports had fewer requests.
    counts = [
        sum(p.as_int for p in metrics_by_name(r)["horde.requests"].sum.data_points)
        for r in requests
        if "horde.requests" in metrics_by_name(r)
    ]
    assert counts == sorted(counts) and counts[-1] == server_count


def test_otlp_over_http(tmp_path, counting_target, http_receiver):
    done = _run(tmp_path, counting_target.url, "--otel-endpoint", http_receiver.url)
    assert done.returncode == 0, done.stderr
    assert set(http_receiver.paths) == {"/v1/metrics"}
    assert set(http_receiver.content_types) == {"application/x-protobuf"}
    _check_export(http_receiver.requests, counting_target.count(), done.stderr)


def test_otlp_over_grpc_configured_by_the_standard_variables(
    tmp_path, counting_target, grpc_receiver
):
    env = {
        "OTEL_EXPORTER_OTLP_ENDPOINT": grpc_receiver.url,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
        "OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=staging",
    }
    done = _run(tmp_path, counting_target.url, env=env)
    assert done.returncode == 0, done.stderr
    assert "(grpc)" in done.stderr
    _check_export(grpc_receiver.requests, counting_target.count(), done.stderr)
    resource = attributes(grpc_receiver.requests[-1].resource_metrics[0].resource.attributes)
    assert resource["deployment.environment"] == "staging"


def test_service_name_and_run_id_come_from_the_environment(
    tmp_path, counting_target, http_receiver
):
    env = {"OTEL_SERVICE_NAME": "checkout-load-test", "HORDE_RUN_ID": "ci-4711"}
    done = _run(tmp_path, counting_target.url, "--otel-endpoint", http_receiver.url, env=env)
    assert done.returncode == 0, done.stderr
    assert "(run ci-4711)" in done.stderr
    resource = attributes(http_receiver.requests[-1].resource_metrics[0].resource.attributes)
    assert resource["service.name"] == "checkout-load-test"
    assert resource["horde.run.id"] == "ci-4711"


def test_without_the_sdk_one_sentence_says_what_to_install(tmp_path, counting_target):
    # The SDK made unimportable in a real horde process, as in an install without horde[otel].
    scenario = write_scenario(tmp_path)
    code = (
        "import sys; sys.modules['opentelemetry'] = None; sys.modules['opentelemetry.sdk'] = None;"
        "from horde.cli import main; sys.exit(main(sys.argv[1:]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "run", str(scenario), "-H", counting_target.url,
         "--headless", "-t", "3s", "--otel"],
        cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2
    assert (
        "--otel needs the OpenTelemetry SDK and its OTLP exporters: pip install 'horde[otel]'"
        in (done.stderr)
    )
    assert "Traceback" not in done.stderr
    assert counting_target.count() == 0


def test_an_unknown_protocol_is_a_usage_error(tmp_path, counting_target):
    done = _run(tmp_path, counting_target.url, "--otel-protocol", "http/json")
    assert done.returncode == 2
    assert "invalid OTLP protocol 'http/json'" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_collector_that_is_down_is_said_once_and_the_run_ends(tmp_path, counting_target):
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    done = _run(
        tmp_path, counting_target.url, "--otel-protocol", "grpc",
        "--otel-endpoint", f"http://127.0.0.1:{port}",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    # horde's own sentences (the failing export, or the last one cut short), not the SDK's
    # message for each retry.
    said = done.stderr.count(f"OTLP export to http://127.0.0.1:{port} (grpc)")
    assert 1 <= said <= 2, done.stderr
    assert "Transient error" not in done.stderr
    assert "Aggregated" in done.stdout  # the summary was printed as usual
