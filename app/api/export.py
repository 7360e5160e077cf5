"""Streamed CSV / xlsx export of any list endpoint, in constant memory.

The generator pages through the same keyset query the JSON list uses, one page of rows at a
time, in its own session (the request's session may be closed before the body is sent).
CSV starts with a UTF-8 BOM so Excel opens the Chinese text correctly. xlsx is written by
openpyxl in write-only mode to a temporary file (a zip's directory comes last, so the file
is complete only at the end) and then streamed from disk.
"""

from __future__ import annotations

import dataclasses
import io
import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, get_args, get_origin
from urllib.parse import quote

import orjson
from fastapi import Request
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel
from sqlmodel import Session

from app import timeouts
from app.api.deps import decode_cursor, model_response, page
from app.db import release
from app.services import audit, csv_copy, spreadsheet

PAGE_SIZE = 1000
CHUNK = 64 * 1024
CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Column:
    path: tuple[str, ...]  # field names from the row model down to the value
    title: str  # Chinese header
    decimal: bool  # a decimal string, written as a number in xlsx


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not None and get_origin(annotation) is not list:
        for arg in get_args(annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                return arg
    return None


def columns(model: type[BaseModel], prefix: tuple[str, ...] = (), title_prefix: str = "") -> list[Column]:
    """The export columns of a row model: one per field, nested models flattened."""
    result = []
    for name, info in model.model_fields.items():
        title = f"{title_prefix}{info.title or name}"
        nested = _model_of(info.annotation)
        if nested is not None:
            result += columns(nested, prefix + (name,), f"{title}·")
            continue
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        result.append(Column(prefix + (name,), title, extra.get("format") == "decimal"))
    return result


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, list):
        return "；".join(_text(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, default=str)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _text(item: Any) -> str:
    if isinstance(item, BaseModel):
        return str(item)
    if isinstance(item, dict | list):
        return json.dumps(item, ensure_ascii=False, default=str)
    return str(item)


def cells(row: BaseModel, cols: Sequence[Column]) -> list[Any]:
    out = []
    for col in cols:
        value: Any = row
        for name in col.path:
            value = getattr(value, name) if value is not None else None
        out.append(_cell(value))
    return out


def reads_of(request: Request):
    """The engine a streamed export reads with: the read replica when the route reads from it
    (app.db.ReadSessionDep), else the primary."""
    return getattr(request.state, "read_engine", None) or request.app.state.engine


def _rows(
    engine,
    fetch: Callable[[Session, int | None, int], list],
    key: Callable[[Any], int],
    to_public: Callable[[Any], BaseModel],
) -> Iterator[BaseModel]:
    after = None
    with Session(engine) as session:
        timeouts.allow_long(session)
        while True:
            batch = fetch(session, after, PAGE_SIZE)
            session.rollback()  # end the read transaction between pages: no long-lived snapshot
            for item in batch:
                yield to_public(item)
            if len(batch) < PAGE_SIZE:
                return
            after = key(batch[-1])


def csv_stream(rows: Iterator[BaseModel], cols: Sequence[Column]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = spreadsheet.csv_writer(buffer)
    buffer.write("\ufeff")
    writer.writerow(spreadsheet.csv_row([c.title for c in cols]))
    numeric = [c.decimal for c in cols]
    for count, row in enumerate(rows, 1):
        writer.writerow(spreadsheet.csv_row(cells(row, cols), numeric))
        if count % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def xlsx_stream(rows: Iterator[BaseModel], cols: Sequence[Column], sheet: str) -> Iterator[bytes]:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet)
    worksheet.append(spreadsheet.xlsx_row([c.title for c in cols], worksheet))
    numeric = [c.decimal for c in cols]
    for row in rows:
        worksheet.append(spreadsheet.xlsx_row(cells(row, cols), worksheet, numeric))
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        while chunk := handle.read(CHUNK):
            yield chunk


def export_response(
    request: Request,
    *,
    fmt: str,
    model: type[BaseModel],
    filename: str,
    sheet: str,
    fetch: Callable[[Session, int | None, int], list],
    key: Callable[[Any], int],
    to_public: Callable[[Any], BaseModel],
) -> StreamingResponse:
    """A streamed download of every row `fetch` yields, paged by keyset."""
    cols = columns(model)
    rows = _rows(reads_of(request), fetch, key, to_public)
    if fmt == "csv":
        body, media, suffix = csv_stream(rows, cols), CSV_TYPE, "csv"
    else:
        body, media, suffix = xlsx_stream(rows, cols, sheet), XLSX_TYPE, "xlsx"
    name = f"{filename}.{suffix}"
    disposition = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    return StreamingResponse(body, media_type=media, headers={"Content-Disposition": disposition})


def _attachment(name: str) -> dict[str, str]:
    return {"Content-Disposition": f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"}


def copy_response(request: Request, listing: Listing, principal: Any, filters: Any, filename: str) -> StreamingResponse:
    """The list's CSV as PostgreSQL's COPY writes it, streamed (see services.csv_copy)."""
    cols = columns(listing.item)
    source = listing.csv
    assert source is not None

    def build(session: Session):
        stmt, cells = source(session=session, principal=principal, filters=filters)
        by_name = dict(cells)
        # the model's columns, in its order: a field without a cell is a mistake caught by the tests
        return stmt, [(c.path[-1], by_name[c.path[-1]]) for c in cols]

    body = csv_copy.stream(reads_of(request), build, [c.title for c in cols])
    return StreamingResponse(body, media_type=CSV_TYPE, headers=_attachment(f"{filename}.csv"))


def filters_of(cls: type) -> Callable[[Any], Any]:
    """The service's filter dataclass from a list's query model: the fields they share by name."""
    names = [f.name for f in dataclasses.fields(cls)]
    return lambda query: cls(**{name: getattr(query, name) for name in names})


@dataclass(frozen=True)
class Listing:
    """What one list endpoint pages and exports: its cursor scope, models, row mapping and sheet name."""

    route: str
    item: type[BaseModel]
    envelope: type[BaseModel]
    to_public: Callable[[Any], BaseModel]
    sheet: str
    # the query model → the service's filters, and the service query that lists them
    filters: Callable[[Any], Any]
    source: Callable[..., list]
    key: Callable[[Any], int] = field(default=lambda row: row["id"])
    # The item's fields from a row, in the model's order, with values already of the JSON's types: the
    # JSON page is then written by orjson straight from them, without building and validating a model
    # per row (~1.2 ms a page of 100). The bytes are those pydantic writes for the model
    # (tests/api/test_list_json.py); the route's response_model still documents it.
    fields: Callable[[Any], dict] | None = None
    filename: Callable[[Any], str] | None = None  # the download's name from the query (default: route)
    # On PostgreSQL, the CSV written by the database (services.csv_copy): the list's query and one
    # formatted cell per field of `item`, by name. Without it, the Python path below.
    csv: Callable[..., tuple[Any, list]] | None = None


def list_response(request: Request, session: Session, principal: Any, listing: Listing, query: Any) -> Any:
    """One page of a keyset list (with its `next` link), or the whole list streamed as csv/xlsx."""
    filters = listing.filters(query)

    def fetch(s: Session, after: int | None, n: int) -> list:
        return listing.source(session=s, principal=principal, filters=filters, after=after, limit=n)

    fmt, cursor, limit = query.format, query.cursor, query.limit
    filename = listing.filename(query) if listing.filename else None
    if fmt != "json":
        # The filters are checked now, not when the first page streams: a refused filter is a 422,
        # never an error after the download has begun (schemathesis found level1=… as a broken 500).
        fetch(session, None, 1)
        session.rollback()
        # The audit row is a write: on the primary, even when this list reads from a replica.
        primary = request.app.state.engine
        with Session(primary) if session.get_bind() is not primary else nullcontext(session) as writes:
            audit.exported(
                session=writes,
                actor=principal,
                what=request.url.path,
                fmt=fmt,
                filters=dataclasses.asdict(filters) if dataclasses.is_dataclass(filters) else {},
            )
        if fmt == "csv" and listing.csv is not None and reads_of(request).dialect.name == "postgresql":
            return copy_response(request, listing, principal, filters, filename or listing.route)
        return export_response(
            request,
            fmt=fmt,
            model=listing.item,
            filename=filename or listing.route,
            sheet=listing.sheet,
            fetch=fetch,
            key=listing.key,
            to_public=listing.to_public,
        )
    after = decode_cursor(request, route=listing.route, cursor=cursor)
    found = fetch(session, after, limit + 1)
    release(session)  # the rows are plain values: the connection goes back now, in this thread
    rows, next_cursor, next_url = page(request, route=listing.route, rows=found, limit=limit, key=listing.key)
    if listing.fields is not None:
        # the envelope's fields in _Page's order, then items
        items = [listing.fields(r) for r in rows]
        body = {"next": next_url, "next_cursor": next_cursor, "limit": limit, "items": items}
        return Response(orjson.dumps(body), media_type="application/json")
    return model_response(
        listing.envelope(
            items=[listing.to_public(r) for r in rows], next=next_url, next_cursor=next_cursor, limit=limit
        )
    )
