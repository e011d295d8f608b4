"""``--otel``: the same families over OTLP (HTTP or gRPC), through the OpenTelemetry SDK.

The SDK's instruments record as values arrive, which would put a second recording on horde's
request path (and the SDK has no asynchronous histogram to read one back). horde's stats already
hold every figure, so each export reads them (``collect``) into the SDK's own data model
(``MetricsData``: cumulative sums, gauges, explicit-bucket histograms on horde's bucket edges)
and hands that to the SDK's OTLP exporter, which encodes and sends it. The resource is the SDK's
(``Resource.create``: ``telemetry.sdk.*``, ``OTEL_RESOURCE_ATTRIBUTES``, ``OTEL_SERVICE_NAME``)
plus ``service.name=horde`` unless the environment names the service, and the run's id.

Exports run on a thread of their own (the exporters block, and retry a failing collector for up
to their timeout), every ``interval`` seconds and once more when the run ends, so the last
figures reach the backend. That last one waits ``FINAL_EXPORT_TIMEOUT`` at most: a collector that
is down delays the end of a run by that, not by the exporter's retries. The threads are daemons
for the same reason. A failing collector is said once, by horde (the SDK's own retry messages,
one per attempt, are shown with ``--loglevel DEBUG``).
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from horde.exceptions import ScenarioError
from horde.metrics.families import BOUNDS_SECONDS, Family, HistogramSeries, Series, collect
from horde.metrics.run_info import RunInfo

if TYPE_CHECKING:
    from horde.runner.environment import Environment

__all__ = ["DEFAULT_INTERVAL", "OtlpExport", "OtlpSettings", "resolve_otlp"]

log = logging.getLogger("horde.metrics")

DEFAULT_INTERVAL = 10.0  # seconds: the spec's 60 s is most of a short load test
PROTOCOLS = ("http/protobuf", "grpc")
FINAL_EXPORT_TIMEOUT = 5.0
INSTALL_HINT = (
    "--otel needs the OpenTelemetry SDK and its OTLP exporters: pip install 'horde[otel]'"
)


class OtlpSettings:
    """Where and how often to export: the flags, else the standard OTEL_* variables."""

    def __init__(self, protocol: str, endpoint: str | None, interval: float) -> None:
        self.protocol = protocol
        self.endpoint = endpoint  # None: the exporter reads OTEL_EXPORTER_OTLP_* itself
        self.interval = interval

    def target(self) -> str:
        default = "localhost:4317" if self.protocol == "grpc" else "localhost:4318/v1/metrics"
        where = self.endpoint or _env_endpoint(self.protocol) or default
        return f"{where} ({self.protocol})"

    def describe(self) -> str:
        return f"{self.target()} every {self.interval:g} s"


def resolve_otlp(
    protocol: str | None,
    endpoint: str | None,
    interval: float | None,
    environ: Mapping[str, str] | None = None,
) -> OtlpSettings:
    env = os.environ if environ is None else environ
    chosen = (
        (
            protocol
            or env.get("OTEL_EXPORTER_OTLP_METRICS_PROTOCOL")
            or env.get("OTEL_EXPORTER_OTLP_PROTOCOL")
            or "http/protobuf"
        )
        .strip()
        .lower()
    )
    if chosen not in PROTOCOLS:
        raise ScenarioError(f"OTLP protocol {chosen!r} is not supported: use http/protobuf or grpc")
    if interval is None:
        raw = env.get("OTEL_METRIC_EXPORT_INTERVAL", "").strip()
        try:
            interval = float(raw) / 1000 if raw else DEFAULT_INTERVAL
        except ValueError:
            raise ScenarioError(
                f"OTEL_METRIC_EXPORT_INTERVAL must be milliseconds, not {raw!r}"
            ) from None
        if interval <= 0:
            raise ScenarioError("OTEL_METRIC_EXPORT_INTERVAL must be more than 0")
    if endpoint and chosen == "http/protobuf" and urlsplit(endpoint).path in ("", "/"):
        endpoint = endpoint.rstrip("/") + "/v1/metrics"  # a base URL, as the variables give
    return OtlpSettings(chosen, endpoint, interval)


def _env_endpoint(protocol: str) -> str | None:
    specific = os.environ.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
    if specific:
        return specific
    base = os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT")
    if base and protocol == "http/protobuf":
        return base.rstrip("/") + "/v1/metrics"
    return base


class OtlpExport:
    """Exports the run's families every ``settings.interval`` seconds while the loop runs."""

    def __init__(self, environment: Environment, run: RunInfo, settings: OtlpSettings) -> None:
        try:
            from opentelemetry.sdk.metrics.export import MetricExportResult
        except ImportError:
            raise ScenarioError(INSTALL_HINT) from None
        self.environment = environment
        self.run = run
        self.settings = settings
        self._ok = MetricExportResult.SUCCESS
        self._exporter = _exporter(settings)
        self._resource = _resource(run)
        if not log.isEnabledFor(logging.DEBUG):
            logging.getLogger("opentelemetry.exporter.otlp").setLevel(logging.CRITICAL)
        self._task: asyncio.Task[None] | None = None
        self._failing = False
        self.exports = 0  # successful exports, for the tests and the log

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._every_interval())

    async def _every_interval(self) -> None:
        while True:
            await asyncio.sleep(self.settings.interval)
            await self.export_now()

    async def export_now(self) -> bool:
        """Read the families on the loop, send them from the export thread."""
        data = self.metrics_data(collect(self.environment, self.run))
        result = await _in_daemon_thread(self._exporter.export, data)
        ok: bool = result is self._ok
        if ok:
            self.exports += 1
            if self._failing:
                log.warning("OTLP export to %s works again", self.settings.target())
        elif not self._failing:
            log.warning(
                "OTLP export to %s failed (the collector is down or refused it); horde "
                "keeps trying every interval",
                self.settings.target(),
            )
        self._failing = not ok
        return ok

    async def close(self) -> None:
        """One last export (the run's final figures), then stop the exporter."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        try:
            await asyncio.wait_for(self.export_now(), FINAL_EXPORT_TIMEOUT)
        except TimeoutError:
            log.warning(
                "the last OTLP export to %s did not finish in %g s: the run's last figures "
                "may be missing there",
                self.settings.target(),
                FINAL_EXPORT_TIMEOUT,
            )
        self._exporter.shutdown()  # also cuts short the retries of an export still running

    # The SDK's data model ------------------------------------------------------------------------
    def metrics_data(self, families: Sequence[Family]) -> Any:
        from opentelemetry.sdk.metrics.export import (
            AggregationTemporality,
            Gauge,
            Histogram,
            HistogramDataPoint,
            Metric,
            MetricsData,
            NumberDataPoint,
            ResourceMetrics,
            ScopeMetrics,
            Sum,
        )
        from opentelemetry.sdk.util.instrumentation import InstrumentationScope

        now = time.time_ns()
        cumulative = AggregationTemporality.CUMULATIVE
        metrics = []
        for family in families:
            if not family.series:
                continue
            start = int((family.start or self.run.started) * 1e9)
            data: Any
            if family.kind == "histogram":
                points = [
                    HistogramDataPoint(
                        attributes=dict(s.labels), start_time_unix_nano=start,
                        time_unix_nano=now, count=s.count, sum=s.sum,
                        bucket_counts=list(s.counts), explicit_bounds=list(BOUNDS_SECONDS),
                        min=s.min, max=s.max,
                    )
                    for s in family.series
                    if isinstance(s, HistogramSeries)
                ]  # fmt: skip
                data = Histogram(data_points=points, aggregation_temporality=cumulative)
            else:
                numbers = [
                    NumberDataPoint(
                        attributes=dict(s.labels),
                        start_time_unix_nano=start if family.kind == "counter" else 0,
                        time_unix_nano=now,
                        value=s.value,
                    )
                    for s in family.series
                    if isinstance(s, Series)
                ]
                if family.kind == "counter":
                    data = Sum(
                        data_points=numbers, aggregation_temporality=cumulative, is_monotonic=True
                    )
                else:
                    data = Gauge(data_points=numbers)
            metrics.append(
                Metric(name=family.otel_name, description=family.help, unit=family.unit, data=data)
            )
        scope = InstrumentationScope("horde", self.run.version)
        return MetricsData(
            resource_metrics=[
                ResourceMetrics(
                    resource=self._resource,
                    scope_metrics=[ScopeMetrics(scope=scope, metrics=metrics, schema_url="")],
                    schema_url="",
                )
            ]
        )


def _in_daemon_thread(call: Callable[..., Any], *args: Any) -> asyncio.Future[Any]:
    """``call(*args)`` on a daemon thread: a collector that hangs cannot keep horde from exiting."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(result: Any, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    def run() -> None:
        try:
            result, error = call(*args), None
        except Exception as exc:  # handed to the awaiting coroutine
            result, error = None, exc
        try:
            loop.call_soon_threadsafe(settle, result, error)
        except RuntimeError:
            pass  # the loop is closed: the run is over

    threading.Thread(target=run, name="horde-otlp", daemon=True).start()
    return future


def _exporter(settings: OtlpSettings) -> Any:
    try:
        if settings.protocol == "grpc":
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
                OTLPMetricExporter as GrpcExporter,
            )

            return GrpcExporter(endpoint=settings.endpoint)
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter as HttpExporter,
        )

        return HttpExporter(endpoint=settings.endpoint)
    except ImportError:
        raise ScenarioError(INSTALL_HINT) from None


def _resource(run: RunInfo) -> Any:
    """The SDK's resource (its own attributes and the OTEL_* variables) plus the run's."""
    from opentelemetry.sdk.resources import Resource

    attributes: dict[str, str] = {
        "service.version": run.version,
        "service.instance.id": run.run_id,
        "horde.run.id": run.run_id,
        "horde.mode": run.mode,
    }
    if run.scenario_name:
        attributes["horde.scenario"] = run.scenario_name
    detected = Resource.create({})
    given = dict(Resource.create(attributes).attributes)
    # OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES name the service when set; else horde.
    if str(detected.attributes.get("service.name", "")).startswith("unknown_service"):
        given["service.name"] = "horde"
    return Resource(given)
