"""Shared parameters of the /api/v1 lists: limit, opaque signed cursor, export format, filters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, Literal, TypeVar

from fastapi import Request
from fastapi.responses import Response
from itsdangerous import BadData, URLSafeSerializer
from pydantic import BaseModel, Field

from app.domain.evaluation import MAX_YEAR, MIN_YEAR
from app.services.errors import DomainError, FieldError

T = TypeVar("T")

MAX_LIMIT = 1000
# --- the lists' declared query models -------------------------------------------------------
# Each list endpoint takes one model (FastAPI expands it into the same documented query
# parameters); the shared part is declared once here.


class ListQuery(BaseModel):
    """What every list accepts: the scope (year, department, unit), paging and the export format."""

    year: int | None = Field(None, ge=MIN_YEAR, le=MAX_YEAR, description="预算年度，如 2025", examples=[2025])
    department: str | None = Field(
        None, max_length=200, description="主管部门：ID、编码或名称", examples=["示例市工业和信息化局"]
    )
    unit: str | None = Field(None, max_length=200, description="单位：ID、编码或名称", examples=["示例市无线电监测站"])
    limit: int = Field(100, ge=1, le=MAX_LIMIT, description=f"每页条数，1–{MAX_LIMIT}，默认 100", examples=[100])
    cursor: str | None = Field(
        None, max_length=500, description="分页游标：上一页返回的 next_cursor，原样传回；第一页不传"
    )
    format: Literal["json", "csv", "xlsx"] = Field(
        "json",
        description="json（默认，分页）；csv 或 xlsx 则以流式下载全部符合条件的记录"
        "（忽略 limit 与 cursor；csv 为带 BOM 的 UTF-8，Excel 可直接打开）",
    )


class YearListQuery(ListQuery):
    """A list of one year's figures: the year is required."""

    year: int = Field(ge=MIN_YEAR, le=MAX_YEAR, description="统计年度（必填），如 2025", examples=[2025])


ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "分页游标无效"},
    401: {"description": "未提供令牌，或令牌无效、已吊销"},
    422: {"description": "参数不合法（如 limit 超出 1–1000）"},
}
EXPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "JSON 分页列表；format=csv / xlsx 时为文件下载",
        "content": {
            "text/csv": {"schema": {"type": "string"}},
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                "schema": {"type": "string", "format": "binary"}
            },
        },
    },
}


def model_response(model: BaseModel) -> Response:
    """A response model already built (and so validated) by the endpoint, serialised once, as FastAPI
    would (pydantic's JSON, by alias). Returned as a Response, FastAPI does not validate the model a second
    time in a threadpool hop before serialising it; the route's declared response_model still documents
    it (the OpenAPI schema is unchanged)."""
    return Response(model.__pydantic_serializer__.to_json(model, by_alias=True), media_type="application/json")


def _serializer(request: Request) -> URLSafeSerializer:
    return _serializer_for(request.app.state.settings.secret_key)


@lru_cache(maxsize=8)
def _serializer_for(secret_key: str) -> URLSafeSerializer:
    # built once per key: its signer and JSON setup cost more than signing one small cursor
    return URLSafeSerializer(secret_key, salt="jixiao-api-cursor")


def encode_cursor(request: Request, *, route: str, after: int) -> str:
    """The last key of a page, signed and bound to its list, so a client cannot forge one."""
    return _signed_cursor(request.app.state.settings.secret_key, route, after)


@lru_cache(maxsize=1024)
def _signed_cursor(secret_key: str, route: str, after: int) -> str:
    # the same page's cursor is the same text (no timestamp in it): signed once, the next asks find it
    return _serializer_for(secret_key).dumps({"r": route, "a": after})


def decode_cursor(request: Request, *, route: str, cursor: str | None) -> int | None:
    """The keyset position of a cursor; a tampered or foreign cursor is a 400 with a JSON body."""
    if not cursor:
        return None
    try:
        data = _serializer(request).loads(cursor)
    except BadData:
        data = None
    after = data.get("a") if isinstance(data, dict) and data.get("r") == route else None
    if not isinstance(after, int) or isinstance(after, bool) or after < 0:
        raise DomainError(
            "分页游标无效或已被改动：请不带 cursor 重新请求第一页",
            errors=[FieldError("cursor", "游标无效，请原样使用上一页返回的 next_cursor")],
        )
    return after


def page(
    request: Request, *, route: str, rows: Sequence[T], limit: int, key: Callable[[T], int]
) -> tuple[Sequence[T], str | None, str | None]:
    """(the rows of this page, next cursor, next URL) from rows fetched with limit + 1."""
    if len(rows) <= limit:
        return rows, None, None
    rows = rows[:limit]
    cursor = encode_cursor(request, route=route, after=key(rows[-1]))
    return rows, cursor, str(request.url.include_query_params(cursor=cursor))
