"""The OpenAPI description of the web API, served at /openapi.json (tests check every path)."""

from __future__ import annotations

from typing import Any

from horde.version import __version__

__all__ = ["openapi_document"]

_CONTROL = {
    "description": "Changes the run (POST only: a GET answers 405). A script on this machine "
    "that connects over loopback and sends no browser headers (Origin, Cookie, Sec-Fetch-*) "
    "needs nothing more; any other caller sends the token given with --web-token (or "
    "HORDE_WEB_TOKEN) as 'Authorization: Bearer TOKEN' or in X-Horde-Token, and a browser "
    "page must also be this UI's own (403 otherwise).",
    "parameters": [
        {"name": "X-Horde-Token", "in": "header", "required": False, "schema": {"type": "string"}}
    ],
    "security": [{}, {"bearer": []}, {"token": []}],
}
_RESULT = {
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"success": {"type": "boolean"}, "message": {"type": "string"}},
            }
        }
    }
}


def _get(summary: str, content_type: str = "application/json") -> dict[str, Any]:
    return {"get": {"summary": summary, "responses": {"200": {"description": "OK",
            "content": {content_type: {}}}}}}  # fmt: skip


def openapi_document() -> dict[str, Any]:
    control_result = {"200": {"description": "Done", **_RESULT}, "403": {"description": "Refused"}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "horde web API",
            "version": __version__,
            "description": "Locust-compatible endpoints to control a load test and read its "
            "statistics. Times are milliseconds, rates per second.",
        },
        "paths": {
            "/": _get("The dashboard", "text/html"),
            "/stats/requests": _get(
                "Statistics per request name and aggregated, errors, rates, user count, state"
            ),
            "/stats/history": {
                "get": {
                    "summary": "Per-second history rows newer than `since`",
                    "parameters": [{"name": "since", "in": "query", "schema": {"type": "number"}}],
                    "responses": {
                        "200": {"description": "OK", "content": {"application/json": {}}},
                        "400": {"description": "Bad input", **_RESULT},
                    },
                }
            },
            "/exceptions": _get("Exceptions raised by scenario code, with tracebacks"),
            "/stats/requests/csv": _get("Statistics as CSV (Locust's columns)", "text/csv"),
            "/stats/requests_full_history/csv": _get("Per-second history as CSV", "text/csv"),
            "/stats/failures/csv": _get("Failures grouped by request and error", "text/csv"),
            "/exceptions/csv": _get("Exceptions as CSV", "text/csv"),
            "/stats/json": _get("The whole run as one JSON document"),
            "/stats/report": _get("Self-contained HTML report", "text/html"),
            "/openapi.json": _get("This document"),
            "/metrics": _get(
                "The run's metrics for Prometheus (docs/metrics.md)",
                "text/plain; version=0.0.4",
            ),
            "/tasks": _get(
                "Users per class and each task's share of picks (Locust's per_class and total)"
            ),
            "/logs": _get("The run's last log lines (Locust's master and workers keys)"),
            "/swarm": {
                "post": {
                    **_CONTROL,
                    "summary": "Start a test, or change its user count and spawn rate (closed "
                    "model) or arrival rate (open model)",
                    "requestBody": {
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "description": "user_count and spawn_rate are required "
                                    "with load_model=users (the default), arrival_rate with "
                                    "arrival_rate, stages with stages. The scenario's own "
                                    "options (added with events.init_command_line_parser) "
                                    "are fields too, under their dest names.",
                                    "properties": {
                                        "load_model": {
                                            "type": "string",
                                            "enum": ["users", "arrival_rate", "stages"],
                                            "default": "users",
                                        },
                                        "arrival_rate": {"type": "string", "example": "200/s"},
                                        "max_concurrency": {"type": "integer", "minimum": 1},
                                        "stages": {
                                            "type": "string",
                                            "example": "30s:100,1m:100,30s:0",
                                        },
                                        "user_count": {"type": "integer", "minimum": 0},
                                        "spawn_rate": {"type": "number", "exclusiveMinimum": 0},
                                        "host": {"type": "string", "format": "uri"},
                                        "run_time": {"type": "string", "example": "5m"},
                                    },
                                }
                            }
                        }
                    },
                    "responses": {**control_result, "400": {"description": "Bad input", **_RESULT}},
                }
            },
            "/stop": {
                "post": {**_CONTROL, "summary": "Stop the test", "responses": control_result},
            },
            "/stats/reset": {
                "post": {
                    **_CONTROL,
                    "summary": "Count afresh within the test (the charts keep their history, "
                    "with the reset marked)",
                    "responses": control_result,
                },
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "token": {"type": "apiKey", "in": "header", "name": "X-Horde-Token"},
            }
        },
    }
