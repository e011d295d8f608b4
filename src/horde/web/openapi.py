"""The OpenAPI description of the web API, served at /openapi.json (tests check every path)."""

from __future__ import annotations

from typing import Any

from horde import __version__

__all__ = ["openapi_document"]

_CONTROL = {
    "description": "Changes the run: needs the page's token in X-Horde-Token and a same-origin "
    "request (403 otherwise).",
    "parameters": [
        {"name": "X-Horde-Token", "in": "header", "required": True, "schema": {"type": "string"}}
    ],
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
                                    "arrival_rate, stages with stages.",
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
                "get": {**_CONTROL, "summary": "Stop the test", "responses": control_result},
                "post": {**_CONTROL, "summary": "Stop the test", "responses": control_result},
            },
            "/stats/reset": {
                "get": {**_CONTROL, "summary": "Reset statistics", "responses": control_result},
                "post": {**_CONTROL, "summary": "Reset statistics", "responses": control_result},
            },
        },
    }
