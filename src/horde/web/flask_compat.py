"""Flask's API, as far as locustfiles use it to extend Locust's web UI, over horde's aiohttp UI.

Locust's web UI is a Flask app, and locustfiles extend it through ``environment.web_ui.app``:
``@app.route("/my-page")``, ``app.add_url_rule``, ``Blueprint`` and
``app.register_blueprint``, ``@app.after_request`` (to add fields to ``/stats/requests``), with
Flask's ``request``, ``jsonify``, ``make_response``, ``redirect``, ``url_for``, ``session`` and
templates. horde's UI is aiohttp, so under ``horde run`` ``import flask`` (and ``flask_login``)
gives this module's objects instead (``horde.compat.aliases``): the same calls, served by
horde's UI.

How a request reaches a scenario's route: horde's own routes come first; a request none of
them answers (aiohttp's 404) is matched against the routes the scenario added, Flask's way
(``/items/<int:item_id>``, methods, 405 for a known path with another method). The view runs
in a greenlet, as under Locust's gevent server: a view that sleeps or calls a backend waits
without holding up the UI or the load. Every request has passed the UI's security checks first
(Host allowlist, basic auth); a scenario route that changes state (any method but GET, HEAD and
OPTIONS) also needs what horde's own controls need (the page's token from a browser, loopback
or the script token from a script: ``horde.web.security``).

Templates (``render_template``, ``render_template_string``) need jinja2, an optional
dependency (``pip install 'horde[templates]'``).

Not provided: Flask's application object outside horde's UI (``Flask(__name__).run()``),
``flask.g``, signals, the CLI, streaming responses. Locust's own template ``index.html`` renders
horde's page (its extra tabs, ``extended_tabs``, are not drawn).
"""

from __future__ import annotations

import json as json_module
import logging
import mimetypes
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlencode

from aiohttp import web
from greenlet import getcurrent
from multidict import CIMultiDict, MultiDict, MultiDictProxy, MultiMapping

from horde.bridge import run_blocking
from horde.web.security import WebSecurity, control_refusal

__all__ = [
    "Blueprint",
    "Flask",
    "HTTPException",
    "Response",
    "abort",
    "current_app",
    "jsonify",
    "make_response",
    "redirect",
    "render_template",
    "render_template_string",
    "request",
    "send_from_directory",
    "session",
    "url_for",
]

log = logging.getLogger("horde.web")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SESSION_COOKIE = "horde_session"
# horde's own pages under the endpoint names Locust's examples redirect to.
BUILT_IN_ENDPOINTS = {"index": "/", "locust.index": "/", "locust.login": "/", "static": "/assets"}
TEMPLATES_MISSING = (
    "templates need jinja2, which horde installs only on request: pip install 'horde[templates]'"
)


class HTTPException(Exception):
    """``abort(code)``: the view ends with this status (Flask's ``werkzeug`` exception)."""

    def __init__(self, code: int, description: str | None = None) -> None:
        super().__init__(description or "")
        self.code = code
        self.description = description


def abort(code: int, description: str | None = None) -> NoReturn:
    raise HTTPException(code, description)


# Request ---------------------------------------------------------------------------------------
class Args:
    """Flask's ``MultiDict`` of query or form values: ``get(key, default, type=)``,
    ``getlist``, ``to_dict``."""

    def __init__(self, values: MultiMapping[Any] | None = None) -> None:
        self._values: MultiDict[Any] = MultiDict(values or {})

    def get(self, key: str, default: Any = None, type: Callable[[Any], Any] | None = None) -> Any:
        if key not in self._values:
            return default
        value = self._values[key]
        if type is None:
            return value
        try:
            return type(value)
        except (TypeError, ValueError):
            return default

    def getlist(self, key: str) -> list[Any]:
        return list(self._values.getall(key, []))

    def to_dict(self, flat: bool = True) -> dict[str, Any]:
        if flat:
            return {k: self._values[k] for k in self._values}
        return {k: self.getlist(k) for k in self._values}

    def __getitem__(self, key: str) -> Any:
        if key not in self._values:
            abort(400, f"missing {key!r}")
        return self._values[key]

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(self._values))

    def __len__(self) -> int:
        return len(self._values)

    def keys(self) -> list[str]:
        return list(dict.fromkeys(self._values))

    def items(self) -> list[tuple[str, Any]]:
        return [(k, self._values[k]) for k in self.keys()]

    def values(self) -> list[Any]:
        return [self._values[k] for k in self.keys()]

    def __repr__(self) -> str:
        return f"Args({list(self._values.items())!r})"


class RequestView:
    """One request as a view sees it (Flask's ``request``), read before the view runs."""

    def __init__(
        self,
        raw: web.Request,
        body: bytes,
        form: MultiDictProxy[Any] | None,
        view_args: dict[str, Any] | None = None,
        endpoint: str | None = None,
    ) -> None:
        self._raw = raw
        self.method = raw.method
        self.path = raw.path
        self.full_path = raw.path_qs if raw.query_string else f"{raw.path}?"
        self.url = str(raw.url)
        self.base_url = str(raw.url.with_query(None))
        self.url_root = f"{raw.scheme}://{raw.host}/"
        self.host = raw.host
        self.scheme = raw.scheme
        self.headers = raw.headers
        self.cookies = dict(raw.cookies)
        self.args = Args(raw.query)
        self.data = body
        self.content_type = raw.content_type
        self.mimetype = raw.content_type
        self.remote_addr = raw.remote
        self.view_args = view_args or {}
        self.endpoint = endpoint
        self.blueprint = endpoint.rpartition(".")[0] or None if endpoint else None
        self.form = Args(form)
        self.files = Args()
        self.session: dict[str, Any] = {}
        self.session_id: str | None = None
        self.app: Flask | None = None

    @property
    def values(self) -> Args:
        merged: MultiDict[Any] = MultiDict(self.args._values)
        merged.extend(self.form._values)
        return Args(merged)

    @property
    def is_json(self) -> bool:
        return self.mimetype == "application/json" or self.mimetype.endswith("+json")

    @property
    def json(self) -> Any:
        return self.get_json(silent=True) if self.is_json else None

    def get_json(self, force: bool = False, silent: bool = False, cache: bool = True) -> Any:
        if not (force or self.is_json):
            if silent:
                return None
            abort(415, "the request body is not JSON (Content-Type: application/json)")
        try:
            return json_module.loads(self.data or b"null")
        except ValueError:
            if silent:
                return None
            abort(400, "the request body is not valid JSON")

    def get_data(self, as_text: bool = False) -> bytes | str:
        return self.data.decode("utf-8", "replace") if as_text else self.data


_requests: dict[Any, RequestView] = {}  # greenlet -> the request its view serves


def _current_request() -> RequestView:
    found = _requests.get(getcurrent())
    if found is None:
        raise RuntimeError(
            "Working outside of request context: flask.request is only available in a view "
            "(or an after_request/before_request hook) of horde's web UI"
        )
    return found


class _Proxy:
    """A name that stands for an object of the request being served (Flask's proxies)."""

    def __init__(self, resolve: Callable[[], Any], name: str) -> None:
        object.__setattr__(self, "_resolve", resolve)
        object.__setattr__(self, "_name", name)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._resolve(), name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._resolve(), name, value)

    def __getitem__(self, key: Any) -> Any:
        return self._resolve()[key]

    def __setitem__(self, key: Any, value: Any) -> None:
        self._resolve()[key] = value

    def __delitem__(self, key: Any) -> None:
        del self._resolve()[key]

    def __contains__(self, key: Any) -> bool:
        return key in self._resolve()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._resolve())

    def __bool__(self) -> bool:
        try:
            return bool(self._resolve())
        except RuntimeError:
            return False

    def __repr__(self) -> str:
        return f"<horde's flask.{self._name} proxy>"


request: Any = _Proxy(_current_request, "request")
session: Any = _Proxy(lambda: _current_request().session, "session")


# Responses -------------------------------------------------------------------------------------
class Response:
    """Flask's ``Response``: a body, a status and headers that views and hooks may change."""

    default_mimetype = "text/html"

    def __init__(
        self,
        response: str | bytes | Iterable[str | bytes] | None = None,
        status: int | str | None = None,
        headers: Mapping[str, str] | Iterable[tuple[str, str]] | None = None,
        mimetype: str | None = None,
        content_type: str | None = None,
    ) -> None:
        self.headers: CIMultiDict[str] = CIMultiDict(headers or {})
        if content_type is None:
            content_type = mimetype or self.default_mimetype
            if content_type.startswith("text/") and "charset" not in content_type:
                content_type += "; charset=utf-8"
        self.headers.setdefault("Content-Type", content_type)
        self.status_code = 200
        if status is not None:
            self.status = status
        self._data = b""
        if response is not None:
            self.set_data(
                response
                if isinstance(response, str | bytes)
                else b"".join(_bytes(p) for p in response)
            )
        self._cookies: list[tuple[str, str, dict[str, Any]]] = []

    @property
    def status(self) -> str:
        from http import HTTPStatus

        try:
            return f"{self.status_code} {HTTPStatus(self.status_code).phrase}"
        except ValueError:
            return str(self.status_code)

    @status.setter
    def status(self, value: int | str) -> None:
        self.status_code = int(str(value).split()[0])

    @property
    def data(self) -> bytes:
        return self._data

    @data.setter
    def data(self, value: str | bytes) -> None:
        self.set_data(value)

    def get_data(self, as_text: bool = False) -> bytes | str:
        return self._data.decode("utf-8", "replace") if as_text else self._data

    def set_data(self, value: str | bytes) -> None:
        self._data = _bytes(value)

    @property
    def mimetype(self) -> str:
        return self.headers.get("Content-Type", "").split(";")[0].strip()

    @mimetype.setter
    def mimetype(self, value: str) -> None:
        self.headers["Content-Type"] = value

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    @content_type.setter
    def content_type(self, value: str) -> None:
        self.headers["Content-Type"] = value

    @property
    def is_json(self) -> bool:
        return self.mimetype == "application/json" or self.mimetype.endswith("+json")

    @property
    def json(self) -> Any:
        return self.get_json()

    def get_json(self, force: bool = False, silent: bool = True) -> Any:
        if not (force or self.is_json):
            return None
        try:
            return json_module.loads(self._data or b"null")
        except ValueError:
            if silent:
                return None
            raise

    def set_cookie(self, key: str, value: str = "", **options: Any) -> None:
        self._cookies.append((key, value, options))

    def delete_cookie(self, key: str, path: str = "/", domain: str | None = None) -> None:
        self._cookies.append((key, "", {"max_age": 0, "path": path, "domain": domain}))

    def to_aiohttp(self) -> web.Response:
        headers = CIMultiDict(self.headers)
        content_type = headers.pop("Content-Type", None)
        answer = web.Response(body=self._data, status=self.status_code, headers=headers)
        if content_type is not None:
            answer.headers["Content-Type"] = content_type
        for key, value, options in self._cookies:
            answer.set_cookie(key, value, **{k: v for k, v in options.items() if v is not None})
        return answer

    @classmethod
    def from_aiohttp(cls, answer: web.Response) -> Response:
        body = answer.body
        data = body if isinstance(body, bytes) else (answer.text or "").encode()
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() not in _FRAMING]
        return cls(data, answer.status, headers=headers)

    def __repr__(self) -> str:
        return f"<Response {len(self._data)} bytes [{self.status_code}]>"


_FRAMING = ("content-length", "transfer-encoding", "content-encoding")


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else bytes(value)


def jsonify(*args: Any, **kwargs: Any) -> Response:
    """A JSON response of ``jsonify(obj)``, ``jsonify(a, b)`` (a list) or ``jsonify(k=v)``."""
    if args and kwargs:
        raise TypeError("jsonify() takes either arguments or keywords, not both")
    value: Any = kwargs if kwargs else (args[0] if len(args) == 1 else list(args))
    return Response(json_module.dumps(value, default=str) + "\n", mimetype="application/json")


def make_response(*args: Any) -> Response:
    """A ``Response`` from what a view may return (Flask's rules), to change before returning."""
    if not args:
        return Response()
    return to_response(args[0] if len(args) == 1 else tuple(args))


def redirect(location: str, code: int = 302) -> Response:
    response = Response(f'<a href="{location}">{location}</a>', status=code)
    response.headers["Location"] = location
    return response


def to_response(value: Any) -> Response:
    """What a view returned, as a ``Response`` (Flask's rules: str, bytes, dict, list,
    Response, or a tuple of one of those with a status and/or headers)."""
    status: Any = None
    headers: Any = None
    if isinstance(value, tuple):
        if len(value) == 3:
            value, status, headers = value
        elif len(value) == 2:
            value, extra = value
            if isinstance(extra, Mapping | list):
                headers = extra
            else:
                status = extra
        else:
            raise TypeError("a view's tuple must be (body, status), (body, headers) or all three")
    if isinstance(value, Response):
        response = value
    elif isinstance(value, str | bytes):
        response = Response(value)
    elif isinstance(value, dict | list):
        response = jsonify(value)
    elif isinstance(value, web.Response):
        response = Response.from_aiohttp(value)
    elif value is None:
        raise TypeError("the view function did not return a valid response (it returned None)")
    else:
        raise TypeError(f"the view function returned {type(value).__name__}, not a response")
    if status is not None:
        response.status = status
    if headers:
        items = headers.items() if isinstance(headers, Mapping) else headers
        for key, header_value in items:
            response.headers[key] = header_value
    return response


# Routes ----------------------------------------------------------------------------------------
_CONVERTERS = {
    "string": r"[^/]+",
    "int": r"\d+",
    "float": r"\d+\.\d+",
    "path": r".+",
    "uuid": r"[0-9a-fA-F-]{36}",
    "any": r"[^/]+",
}
_VARIABLE = re.compile(r"<(?:(?P<conv>[a-z]+)(?:\([^)]*\))?:)?(?P<name>[A-Za-z_][A-Za-z0-9_]*)>")


class Rule:
    """One route: a Flask rule (``/items/<int:item_id>``) compiled to a pattern."""

    def __init__(self, rule: str, endpoint: str, view: Callable[..., Any], methods: set[str]):
        self.rule = rule
        self.endpoint = endpoint
        self.view = view
        self.methods = methods | ({"HEAD"} if "GET" in methods else set()) | {"OPTIONS"}
        pattern, position, self.converters = "", 0, {}
        for match in _VARIABLE.finditer(rule):
            pattern += re.escape(rule[position : match.start()])
            kind = match["conv"] or "string"
            self.converters[match["name"]] = kind
            pattern += f"(?P<{match['name']}>{_CONVERTERS.get(kind, _CONVERTERS['string'])})"
            position = match.end()
        pattern += re.escape(rule[position:])
        self.pattern = re.compile(f"^{pattern}$")

    def match(self, path: str) -> dict[str, Any] | None:
        found = self.pattern.match(path)
        if found is None:
            return None
        values: dict[str, Any] = {}
        for name, text in found.groupdict().items():
            kind = self.converters[name]
            values[name] = int(text) if kind == "int" else float(text) if kind == "float" else text
        return values

    def build(self, values: dict[str, Any]) -> str:
        """The path of this rule for ``values`` (the rest goes to the query string)."""
        used: set[str] = set()

        def fill(match: re.Match[str]) -> str:
            used.add(match["name"])
            return str(values[match["name"]])

        path = _VARIABLE.sub(fill, self.rule)
        rest = {k: v for k, v in values.items() if k not in used and v is not None}
        return path + ("?" + urlencode(rest, doseq=True) if rest else "")


def _join(prefix: str | None, rule: str) -> str:
    if not prefix:
        return rule
    return prefix.rstrip("/") + "/" + rule.lstrip("/") if rule else prefix


class _Scaffold:
    """What Flask's app and blueprints share: routes and request hooks."""

    def __init__(self, name: str, template_folder: str | None = None) -> None:
        self.name = name
        self.template_folder = template_folder
        self.deferred: list[tuple[str, str, Callable[..., Any], set[str]]] = []
        self.after_request_funcs: list[Callable[[Response], Any]] = []
        self.before_request_funcs: list[Callable[[], Any]] = []

    def route(
        self, rule: str, **options: Any
    ) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
            self.add_url_rule(rule, options.pop("endpoint", None), view, **options)
            return view

        return decorate

    def get(self, rule: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self.route(rule, methods=["GET"], **options)

    def post(self, rule: str, **options: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        return self.route(rule, methods=["POST"], **options)

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        methods: Iterable[str] | None = None,
        **options: Any,
    ) -> None:
        if view_func is None:
            raise TypeError("add_url_rule() needs a view_func in horde")
        wanted = {m.upper() for m in (methods or getattr(view_func, "methods", None) or ["GET"])}
        self.deferred.append((rule, endpoint or view_func.__name__, view_func, wanted))

    def after_request(self, hook: Callable[[Response], Any]) -> Callable[[Response], Any]:
        self.after_request_funcs.append(hook)
        return hook

    def before_request(self, hook: Callable[[], Any]) -> Callable[[], Any]:
        self.before_request_funcs.append(hook)
        return hook


class Blueprint(_Scaffold):
    """A group of routes registered on the app together (``app.register_blueprint``)."""

    def __init__(
        self,
        name: str,
        import_name: str,
        static_folder: str | None = None,
        static_url_path: str | None = None,
        template_folder: str | None = None,
        url_prefix: str | None = None,
        **options: Any,
    ) -> None:
        super().__init__(name, template_folder)
        self.import_name = import_name
        self.static_folder = static_folder
        self.static_url_path = static_url_path
        self.url_prefix = url_prefix


class Flask(_Scaffold):
    """The app of ``environment.web_ui.app``: routes the scenario adds to horde's web UI."""

    def __init__(self, import_name: str = "horde", template_folder: str | None = None) -> None:
        super().__init__(import_name, template_folder)
        self.import_name = import_name
        self.config: dict[str, Any] = {}
        self.rules: list[Rule] = []
        self.blueprints: dict[str, Blueprint] = {}
        self.static: list[tuple[str, Path]] = []  # blueprints' static folders
        self.security: WebSecurity | None = None
        self.template_folders: list[str] = []
        self._sessions: dict[str, dict[str, Any]] = {}
        self.login_manager: Any = None
        _apps.append(self)

    @property
    def secret_key(self) -> Any:
        return self.config.get("SECRET_KEY")

    @secret_key.setter
    def secret_key(self, value: Any) -> None:
        self.config["SECRET_KEY"] = value

    @property
    def view_functions(self) -> dict[str, Callable[..., Any]]:
        return {rule.endpoint: rule.view for rule in self.rules}

    def add_url_rule(
        self,
        rule: str,
        endpoint: str | None = None,
        view_func: Callable[..., Any] | None = None,
        methods: Iterable[str] | None = None,
        **options: Any,
    ) -> None:
        super().add_url_rule(rule, endpoint, view_func, methods, **options)
        path, name, view, wanted = self.deferred.pop()
        self.rules.append(Rule(path, name, view, wanted))

    def register_blueprint(
        self, blueprint: Blueprint, url_prefix: str | None = None, **_: Any
    ) -> None:
        prefix = url_prefix if url_prefix is not None else blueprint.url_prefix
        self.blueprints[blueprint.name] = blueprint
        for path, name, view, wanted in blueprint.deferred:
            self.rules.append(Rule(_join(prefix, path), f"{blueprint.name}.{name}", view, wanted))
        self.after_request_funcs.extend(blueprint.after_request_funcs)
        self.before_request_funcs.extend(blueprint.before_request_funcs)
        if blueprint.template_folder:
            self.template_folders.append(blueprint.template_folder)
        if blueprint.static_folder and blueprint.static_url_path:
            self.static.append(
                (_join(prefix, blueprint.static_url_path), Path(blueprint.static_folder))
            )

    # Serving ---------------------------------------------------------------------------------
    def url_for(self, endpoint: str, **values: Any) -> str:
        anchor = values.pop("_anchor", None)
        values.pop("_external", None)
        for rule in self.rules:
            if rule.endpoint == endpoint or (
                endpoint.startswith(".") and rule.endpoint.endswith(endpoint)
            ):
                url = rule.build(values)
                break
        else:
            if endpoint not in BUILT_IN_ENDPOINTS:
                raise LookupError(f"url_for(): no route with the endpoint {endpoint!r}")
            url = BUILT_IN_ENDPOINTS[endpoint]
            if endpoint == "static" and "filename" in values:
                url += "/" + str(values.pop("filename"))
        return url + (f"#{anchor}" if anchor else "")

    def middleware(self) -> Callable[..., Awaitable[web.StreamResponse]]:
        """aiohttp middleware (inside the security checks): scenario routes for what horde's
        routes do not answer, and ``after_request`` hooks on every response."""

        @web.middleware
        async def extend(
            raw: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
        ) -> web.StreamResponse:
            exception = raw.match_info.http_exception
            if isinstance(exception, web.HTTPNotFound) and (self.rules or self.static):
                answer = await self.dispatch(raw)
                if answer is not None:
                    return answer
            response = await handler(raw)
            if self.after_request_funcs and isinstance(response, web.Response):
                return await self._after(raw, response)
            return response

        return extend

    async def dispatch(self, raw: web.Request) -> web.StreamResponse | None:
        """The answer of the scenario's routes to ``raw``; None when none has its path."""
        allowed: set[str] = set()
        for rule in self.rules:
            values = rule.match(raw.path)
            if values is None:
                continue
            if raw.method not in rule.methods:
                allowed |= rule.methods
                continue
            if raw.method not in SAFE_METHODS and self.security is not None:
                refusal = control_refusal(self.security.describe(raw))
                if refusal is not None:
                    return web.json_response({"success": False, "message": refusal}, status=403)
            if raw.method == "OPTIONS" and "OPTIONS" not in {m for m in rule.methods if m}:
                return web.Response(status=200, headers={"Allow": ", ".join(sorted(rule.methods))})
            return await self._serve(raw, rule, values)
        if allowed:
            return web.Response(
                status=405,
                text="405 Method Not Allowed\n",
                headers={"Allow": ", ".join(sorted(allowed))},
            )
        if raw.method in ("GET", "HEAD"):
            for prefix, folder in self.static:
                if raw.path.startswith(prefix.rstrip("/") + "/"):
                    name = raw.path[len(prefix.rstrip("/")) + 1 :]
                    target = (folder / name).resolve()
                    if folder.resolve() in target.parents and target.is_file():
                        return web.FileResponse(target)
        return None

    async def _serve(self, raw: web.Request, rule: Rule, values: dict[str, Any]) -> web.Response:
        body = await raw.read()
        form = await raw.post() if raw.content_type in _FORM_TYPES else None
        view = RequestView(raw, body, form, values, rule.endpoint)
        self._open_session(view)
        try:
            response = await run_blocking(self._call_view, view, rule, values)
        except HTTPException as exc:
            response = Response(f"{exc.code} {exc.description or ''}".strip() + "\n", exc.code)
        except Exception as exc:
            log.error(
                "the scenario's view %s failed: %s: %s", rule.endpoint, type(exc).__name__, exc,
                exc_info=exc,
            )  # fmt: skip
            response = Response("500 Internal Server Error\n", 500)
        self._close_session(view, response)
        return response.to_aiohttp()

    def _call_view(self, view: RequestView, rule: Rule, values: dict[str, Any]) -> Response:
        """In a greenlet: before_request hooks, the view, after_request hooks."""
        _requests[getcurrent()] = view
        try:
            for hook in self.before_request_funcs:
                early = hook()
                if early is not None:
                    return self._run_after(to_response(early))
            return self._run_after(to_response(rule.view(**values)))
        finally:
            _requests.pop(getcurrent(), None)

    def _run_after(self, response: Response) -> Response:
        for hook in self.after_request_funcs:
            changed = hook(response)
            if changed is not None:
                response = changed
        return response

    async def _after(self, raw: web.Request, answer: web.Response) -> web.StreamResponse:
        """``after_request`` hooks on one of horde's own responses."""
        view = RequestView(raw, b"", None, {}, None)
        self._open_session(view)

        def run() -> Response:
            _requests[getcurrent()] = view
            try:
                return self._run_after(Response.from_aiohttp(answer))
            finally:
                _requests.pop(getcurrent(), None)

        try:
            response = await run_blocking(run)
        except Exception as exc:
            log.error("an after_request hook failed: %s: %s", type(exc).__name__, exc, exc_info=exc)
            return answer
        self._close_session(view, response)
        rebuilt = response.to_aiohttp()
        for name in ("Content-Security-Policy", "Cache-Control"):
            if name in answer.headers and name not in rebuilt.headers:
                rebuilt.headers[name] = answer.headers[name]
        return rebuilt

    def _open_session(self, view: RequestView) -> None:
        view.app = self
        token = view.cookies.get(SESSION_COOKIE)
        if token and token in self._sessions:
            view.session_id = token
            view.session = self._sessions[token]

    def _close_session(self, view: RequestView, response: Response) -> None:
        if view.session_id is None and view.session:
            view.session_id = secrets.token_urlsafe(24)
            self._sessions[view.session_id] = view.session
            response.set_cookie(SESSION_COOKIE, view.session_id, httponly=True, samesite="Lax")


_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# Apps of horde's web UIs, the last made first (one per process, but tests make several).
_apps: list[Flask] = []


def _app() -> Flask:
    """The app of the request being served, else the last web UI's."""
    view = _requests.get(getcurrent())
    if view is not None and view.app is not None:
        return view.app
    if not _apps:
        raise RuntimeError("Working outside of application context: horde's web UI is not running")
    return _apps[-1]


current_app: Any = _Proxy(_app, "current_app")


def url_for(endpoint: str, **values: Any) -> str:
    return _app().url_for(endpoint, **values)


def send_from_directory(directory: str | Path, path: str, **_: Any) -> Response:
    folder = Path(directory).resolve()
    target = (folder / path).resolve()
    if folder not in target.parents or not target.is_file():
        abort(404)
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    return Response(target.read_bytes(), mimetype=kind)


# Templates -------------------------------------------------------------------------------------
def _jinja() -> Any:
    try:
        import jinja2
    except ModuleNotFoundError:
        raise ModuleNotFoundError(TEMPLATES_MISSING, name="jinja2") from None
    return jinja2


def _template_context(context: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {"url_for": url_for, "config": _app().config if _apps else {}}
    if getcurrent() in _requests:
        extra["request"] = _current_request()
        extra["session"] = _current_request().session
    return {**extra, **context}


def render_template_string(source: str, **context: Any) -> str:
    jinja2 = _jinja()
    environment = jinja2.Environment(autoescape=True)
    return str(environment.from_string(source).render(**_template_context(context)))


def render_template(template_name_or_list: str | list[str], **context: Any) -> str:
    jinja2 = _jinja()
    app = _app()
    folders = [*app.template_folders, *([app.template_folder] if app.template_folder else [])]
    names = (
        [template_name_or_list] if isinstance(template_name_or_list, str) else template_name_or_list
    )
    loader = jinja2.FileSystemLoader([f for f in folders if f and Path(f).is_dir()])
    environment = jinja2.Environment(loader=loader, autoescape=True)
    try:
        template = environment.select_template(names)
    except jinja2.TemplateNotFound:
        if "index.html" in names:
            abort(501, LOCUST_PAGE)
        raise
    return str(template.render(**_template_context(context)))


LOCUST_PAGE = (
    "Locust's own page template (index.html, with its extended_tabs) is not part of horde's web "
    "UI, which is its own page: horde's dashboard is at /"
)
