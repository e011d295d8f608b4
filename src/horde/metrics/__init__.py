"""The run's figures for monitoring systems: Prometheus (``/metrics``) and OpenTelemetry (OTLP).

Everything is read from the stats at the moment a scraper or an export asks (``collect``): the
request path records nothing for them. ``families`` is the one list of what is exported, which
``prometheus`` renders as text and ``otel`` turns into OTLP through the OpenTelemetry SDK.
"""

from horde.metrics.families import Family, HistogramSeries, Series, collect
from horde.metrics.run_info import RunInfo

__all__ = ["Family", "HistogramSeries", "RunInfo", "Series", "collect"]
