"""OTLP receivers for the tests: the protocol's two transports, decoding the real messages.

Each keeps every ``ExportMetricsServiceRequest`` it was sent (opentelemetry-proto's generated
classes), as a collector would receive them.
"""

from __future__ import annotations

import gzip
import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import grpc
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2, metrics_service_pb2_grpc
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
    ExportMetricsServiceResponse,
)


class HttpReceiver:
    """OTLP/HTTP (binary protobuf) at POST /v1/metrics, on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self.requests: list[ExportMetricsServiceRequest] = []
        self.paths: list[str] = []
        self.content_types: list[str] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver.paths.append(self.path)
                receiver.content_types.append(self.headers.get("Content-Type", ""))
                receiver.requests.append(ExportMetricsServiceRequest.FromString(body))
                answer = ExportMetricsServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class GrpcReceiver(metrics_service_pb2_grpc.MetricsServiceServicer):
    """OTLP/gRPC's MetricsService/Export, on a free port of 127.0.0.1."""

    def __init__(self) -> None:
        self.requests: list[ExportMetricsServiceRequest] = []
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
        metrics_service_pb2_grpc.add_MetricsServiceServicer_to_server(self, self.server)
        port = self.server.add_insecure_port("127.0.0.1:0")
        self.url = f"http://127.0.0.1:{port}"
        self.server.start()

    def Export(
        self, request: ExportMetricsServiceRequest, context: Any
    ) -> metrics_service_pb2.ExportMetricsServiceResponse:
        self.requests.append(request)
        return metrics_service_pb2.ExportMetricsServiceResponse()

    def stop(self) -> None:
        self.server.stop(grace=None)


def attributes(pairs: Any) -> dict[str, Any]:
    """OTLP KeyValue list as a dict (string, int, double and bool values)."""
    out: dict[str, Any] = {}
    for kv in pairs:
        kind = kv.value.WhichOneof("value")
        out[kv.key] = getattr(kv.value, kind) if kind else None
    return out


def metrics_by_name(request: ExportMetricsServiceRequest) -> dict[str, Any]:
    return {
        m.name: m for rm in request.resource_metrics for sm in rm.scope_metrics for m in sm.metrics
    }
