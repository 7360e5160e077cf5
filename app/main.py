"""The app factory: routers, middleware, and the one place mapping errors to responses."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import sqlalchemy as sa
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.staticfiles import StaticFiles
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from app.db import DatabaseGate, make_engine, make_read_engine
from app.security import SAFE_METHODS, cross_site_reason
from app.services.errors import DomainError, NotAuthenticated, NotFound, PermissionDenied, TooLarge, Unavailable
from app.services.imports import IMPORT_ROLES
from app.settings import ROOT, Settings, get_settings
from app.sqltypes import utcnow
from app.uploads import FORM_ALLOWANCE, LIMIT_SETTINGS, route_limit_name, route_upload_limit

log = logging.getLogger("jixiao")

# No inline script or style anywhere: behaviour lives in vendored static files.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


# Pages, API answers and downloads carry a user's data: no browser, proxy or shared computer keeps a
# copy (the back button after logout shows nothing). Only the vendored static files may be cached.
NO_STORE = (b"cache-control", b"no-store")
STATIC_PREFIX = "/static/"


class SecurityMiddleware:
    """Refuses cross-site unsafe requests and adds the security headers to every response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        reason = None
        if scope["method"] not in SAFE_METHODS:  # a safe method is never refused: no headers to read
            headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
            host = headers.get("host", "")
            reason = cross_site_reason(scope["method"], headers, scope.get("scheme", "http"), host)
        if reason is not None:
            if scope["path"].startswith("/api/"):
                response = JSONResponse({"error": "csrf", "message": reason}, status_code=403)
            else:
                response = PlainTextResponse(reason, status_code=403)
            await self._send_with_headers(response, scope, receive, send)
            return

        cacheable = scope["path"].startswith(STATIC_PREFIX)

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                existing = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in SECURITY_HEADERS if k not in existing]
                if not cacheable and b"cache-control" not in existing:
                    extra.append(NO_STORE)
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(scope, receive, send_wrapper)

    async def _send_with_headers(self, response, scope, receive, send):
        for key, value in [*SECURITY_HEADERS, NO_STORE]:
            response.raw_headers.append((key, value))
        await response(scope, receive, send)


# Bodies anyone may send: the login form (and logging out with an expired session).
ANONYMOUS_BODIES = {("POST", "/login"), ("POST", "/logout")}
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# Uploads and the roles that may make them, judged before the file is received (the routes check too).
UPLOAD_ROLES = {("POST", "/api/v1/imports"): IMPORT_ROLES, ("POST", "/admin/imports"): IMPORT_ROLES}


def _size(n: int) -> str:
    return f"{n / 1048576:.0f} MB" if n >= 1048576 else f"{n / 1024:.0f} KB"


def too_large(limit: int, *, upload: bool, own: int | None = None, setting: str | None = None) -> TooLarge:
    if own is not None:
        return TooLarge(
            f"上传的文件过大：此处每个文件最多 {_size(limit - FORM_ALLOWANCE)}"
            f"（设置 {setting or 'JIXIAO_REPORT_CHECK_MAX_BYTES'}）。"
        )
    if upload:
        return TooLarge(
            f"上传的内容过大：每次请求最多 {_size(limit)}（设置 JIXIAO_MAX_REQUEST_BYTES）。"
            "请拆分文件后分批导入，或请管理员调大上限。"
        )
    return TooLarge(
        f"提交的内容过大：JSON 或表单请求最多 {_size(limit)}（设置 JIXIAO_MAX_JSON_BYTES）。请减少一次提交的内容。"
    )


SERVER_BUSY = Unavailable("服务繁忙：同时处理的请求已满，排队等候超时，本次操作未完成，请稍后重试")
DATABASE_UNAVAILABLE = Unavailable("数据库暂时无法响应（连接或查询超时），本次操作未完成，请稍后重试")


def _why_refused(request: Request) -> DomainError | None:
    """Why the body may not be read: not signed in (the route dependencies' own check and message),
    or an upload from a role that may not make it; None when it may."""
    from sqlmodel import Session

    from app.auth import RESOLVED, look_up_principal
    from app.services.scope import require_role

    with Session(request.app.state.engine) as session:
        try:
            principal = look_up_principal(request, session)
        except NotAuthenticated as exc:
            return exc
        except (sa.exc.OperationalError, sa.exc.TimeoutError) as exc:
            log.warning("database unavailable while authenticating %s: %s", request.url.path, exc)
            return DATABASE_UNAVAILABLE
    if principal is None:
        return NotAuthenticated("请先登录")
    request.scope[RESOLVED] = principal  # the route's dependency takes it from here
    roles = UPLOAD_ROLES.get((request.method, request.url.path))
    try:
        if roles is not None:
            require_role(principal, *roles)
    except PermissionDenied as exc:
        return exc
    return None


class RequestLimitMiddleware:
    """Judges a request body before anything reads it, so no one can make the server swallow a large one.

    FastAPI parses a route's body before its dependencies run, so authentication there comes too late:
    an anonymous 1 GB upload used to be read whole before the 401. Here an unsafe request with a body is
    refused with 401 unless it is signed in (the login form aside), with 413 when Content-Length is over
    the limit, and with 413 as soon as a body without one (chunked) streams past it. Multipart uploads
    get JIXIAO_MAX_REQUEST_BYTES; everything else (JSON, plain forms, parsed in memory) JIXIAO_MAX_JSON_BYTES.
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not any(key in BODY_HEADERS for key, _ in scope["headers"]):
            await self.app(scope, receive, send)  # no body announced (a GET): nothing to judge
            return
        headers = Headers(scope=scope)
        if not _has_body(headers):
            await self.app(scope, receive, send)
            return
        settings = scope["app"].state.settings
        upload = headers.get("content-type", "").lower().startswith("multipart/")
        limit = settings.max_request_bytes if upload else settings.max_json_bytes
        own = route_upload_limit(settings, scope["method"], scope["path"]) if upload else None
        setting = LIMIT_SETTINGS.get(route_limit_name(scope["method"], scope["path"]) or "")
        if own is not None:
            limit = min(limit, own)
        request = Request(scope)
        declared = _content_length(headers)
        if declared is not None and declared > limit:
            await domain_error_response(request, too_large(limit, upload=upload, own=own, setting=setting))(
                scope, receive, send
            )
            return
        method = scope["method"]
        if method in UNSAFE_METHODS and (method, scope["path"]) not in ANONYMOUS_BODIES:
            refusal = await run_in_threadpool(_why_refused, request)
            if refusal is not None:
                await domain_error_response(request, refusal)(scope, receive, send)
                return

        received, exceeded, started = 0, False, False

        async def limited_receive():
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise too_large(limit, upload=upload, own=own, setting=setting)
            return message

        async def guarded_send(message):
            nonlocal started
            if exceeded:
                return  # whatever the app made of the interrupted body: the 413 below answers instead
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except Exception:
            if not exceeded or started:
                raise
        if exceeded and not started:
            await domain_error_response(request, too_large(limit, upload=upload, own=own, setting=setting))(
                scope, receive, send
            )


# The headers that announce a body (ASGI header names are lower case).
BODY_HEADERS = (b"content-length", b"transfer-encoding")


def _content_length(headers: Headers) -> int | None:
    try:
        return int(headers["content-length"])
    except (KeyError, ValueError):
        return None


def _has_body(headers: Headers) -> bool:
    return "chunked" in headers.get("transfer-encoding", "").lower() or bool(_content_length(headers))


# The largest value of the integer key columns (BIGINT on PostgreSQL, INTEGER on SQLite).
MAX_ID = 2**63 - 1


async def ids_in_range(request: Request) -> None:
    """An id in the path that no key column can hold names nothing: 404 before any query is built.

    SQLite cannot bind it (OverflowError) and PostgreSQL refuses it (out of range): both were 500s.
    One app-wide dependency, so a route added later is covered too. async: it does no I/O, so it
    runs on the event loop instead of costing every request a hop to the threadpool.
    """
    for value in request.path_params.values():
        if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
            if int(value) > MAX_ID:
                raise NotFound("编号超出范围：没有这样的记录，请检查地址中的编号")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def domain_error_response(request: Request, exc: DomainError):
    """A domain error as a JSON problem body for /api, an error page or fragment for the pages."""
    from app.web.errors import error_page

    if _is_api(request):
        body = {"error": exc.code, "message": exc.message}
        if exc.errors:
            body["errors"] = [
                {"field": e.field, "message": e.message, "indicator_id": e.indicator_id} for e in exc.errors
            ]
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse(body, status_code=exc.status, headers=headers)
    return error_page(request, exc.status, exc.message)


def _install_error_handlers(app: FastAPI) -> None:
    from app.web.errors import error_page

    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError):
        return domain_error_response(request, exc)

    @app.exception_handler(sa.exc.OperationalError)
    @app.exception_handler(sa.exc.TimeoutError)
    async def database_unavailable(request: Request, exc: Exception):
        # Connect, checkout or statement timeout, or a lost connection: the client may retry later.
        log.warning("database unavailable on %s %s: %s", request.method, request.url.path, exc)
        response = domain_error_response(request, DATABASE_UNAVAILABLE)
        response.headers["Retry-After"] = "10"
        return response

    @app.exception_handler(ClientDisconnect)
    async def client_left(request: Request, exc: ClientDisconnect):
        # A user who closes the tab while a save is read: nothing was saved, nobody is waiting.
        log.info("client left before its request was read: %s %s", request.method, request.url.path)
        return Response(status_code=400)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        errors = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "query", "path")]
            if err.get("type") == "json_invalid":
                loc = []  # its "location" is a character offset, not a field
            errors.append({"field": ".".join(loc), "message": _chinese_validation_message(err)})
        if _is_api(request):
            return JSONResponse(
                {"error": "validation_failed", "message": "请求参数有误", "errors": errors}, status_code=422
            )
        named = [f"{PAGE_FIELD_NAMES.get(e['field'], e['field'])}：{e['message']}" for e in errors]
        return error_page(request, 422, "；".join(named))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        # The framework's own details are English ("There was an error parsing the body"): never shown.
        message = _http_message(exc.status_code)
        if _is_api(request):
            text = "接口不存在" if exc.status_code == 404 else message
            return JSONResponse({"error": f"http_{exc.status_code}", "message": text}, status_code=exc.status_code)
        return error_page(request, exc.status_code, message)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        if _is_api(request):
            return JSONResponse({"error": "internal", "message": "服务器内部错误，请稍后再试"}, status_code=500)
        return error_page(request, 500, "服务器内部错误，请稍后再试或联系管理员")


# pydantic's error types in Chinese; its English `msg` is never shown (the README promises Chinese).
VALIDATION_MESSAGES = {
    "missing": "必填",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "float_parsing": "应为数字",
    "float_type": "应为数字",
    "decimal_parsing": "应为数字",
    "decimal_type": "应为数字",
    "string_type": "应为文字（字符串）",
    "string_too_long": "内容过长",
    "string_too_short": "内容过短",
    "string_pattern_mismatch": "格式不正确",
    "greater_than_equal": "数值过小",
    "greater_than": "数值过小",
    "less_than_equal": "数值过大",
    "less_than": "数值过大",
    "enum": "取值不在允许范围内",
    "literal_error": "取值不在允许范围内",
    "bool_parsing": "应为 true 或 false",
    "bool_type": "应为 true 或 false",
    "json_invalid": "JSON 格式错误",
    "json_type": "应为 JSON",
    "list_type": "应为列表（数组）",
    "too_long": "条目过多",
    "too_short": "条目过少",
    "dict_type": "应为 JSON 对象",
    "model_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "extra_forbidden": "不认识的字段",
    "date_parsing": "日期应写作 YYYY-MM-DD",
    "date_type": "日期应写作 YYYY-MM-DD",
    "date_from_datetime_parsing": "日期应写作 YYYY-MM-DD",
    "date_from_datetime_inexact": "日期不应带时间",
    "datetime_parsing": "时间应写作 YYYY-MM-DDTHH:MM:SS",
    "datetime_type": "时间应写作 YYYY-MM-DDTHH:MM:SS",
    "datetime_from_date_parsing": "时间应写作 YYYY-MM-DDTHH:MM:SS",
}
# The pages' parameters as a reader calls them (the API keeps its field names: they are its contract).
PAGE_FIELD_NAMES = {
    "year": "年度",
    "username": "用户名",
    "password": "密码",
    "next": "登录后前往的页面",
    "evaluation_id": "自评编号",
    "indicator_id": "指标编号",
    "run_id": "导入编号",
    "file": "文件",
}
# Statuses raised by the framework itself (body parsing, routing), with Chinese words.
HTTP_MESSAGES = {
    400: "请求格式有误，无法解析：请检查请求体及其 Content-Type",
    404: "页面不存在",
    405: "不支持该请求方法",
    406: "无法提供所要求的格式",
    413: "请求内容过大",
    415: "不支持该内容类型（Content-Type）",
}


def _chinese_validation_message(err: dict) -> str:
    kind = err.get("type", "")
    if kind in VALIDATION_MESSAGES:
        return VALIDATION_MESSAGES[kind]
    msg = str(err.get("msg", "")).removeprefix("Value error, ")
    # A validator of ours speaks Chinese already; anything else gets a Chinese word, never English.
    return msg if re.search(r"[\u4e00-\u9fff]", msg) else "格式不正确"


def _http_message(status: int) -> str:
    return HTTP_MESSAGES.get(status, f"请求未能处理（HTTP {status}）")


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """A worker's start: its routes are resolved and its templates compiled before its first request."""
    from app.web.render import compile_templates

    await _resolve_routes(app)
    await run_in_threadpool(compile_templates)
    yield


async def _resolve_routes(app: FastAPI) -> None:
    """Route one request that matches no route: FastAPI works out each included router's routes (their
    dependencies, from every endpoint's signature) on the first request that passes through it, ~0.4 s
    of CPU for this app, paid by the first page or call of each worker and every request queued behind
    it. The request goes to the router alone (no middleware, no database) and is answered 404."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/\u0000",  # no route has it
        "raw_path": b"/%00",
        "root_path": "",
        "query_string": b"",
        "headers": [],
        "client": ("127.0.0.1", 0),
        "server": ("127.0.0.1", 0),
    }

    async def receive() -> dict:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict) -> None:
        pass

    await app.router(scope, receive, send)


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the application for the given settings (default: from the environment)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="jixiao 绩效目标与自评服务 API",
        version="1",
        description="财政局、主管部门与资金使用单位的 JSON 接口。所有字段说明见各接口。",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
        dependencies=[Depends(ids_in_range)],
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = make_engine(settings)
    app.state.read_engine = make_read_engine(settings, app.state.engine)
    app.state.clock = utcnow  # what the session timeouts measure against; tests put their own clock here

    from app.api.router import api_router
    from app.web.router import web_router

    app.include_router(api_router)
    app.include_router(web_router)
    app.mount("/static", StaticFiles(directory=str(ROOT / "app" / "static")), name="static")
    app.add_middleware(RequestLimitMiddleware)
    # before anything that touches the database (the request limits read the session): app/db.py
    app.add_middleware(
        DatabaseGate,
        limit=settings.db_pool_size,
        running=settings.request_concurrency,
        long_seconds=settings.request_long_seconds,
        wait_seconds=settings.request_queue_seconds,
        busy=lambda scope: domain_error_response(Request(scope), SERVER_BUSY),
    )
    app.add_middleware(SecurityMiddleware)  # outermost: cross-site requests go before anything else
    _install_error_handlers(app)
    return app
