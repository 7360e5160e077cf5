"""The floor of the 自评表 page (issue 14: "the floor renders the same template from the same rows"):
jixiao's own Jinja2 template, rendered from the rows that jixiao's captured statements answered on
asyncpg, with as little in between as there can be — no FastAPI, no ORM, no session: each statement's
columns become plain objects (one per table of its select list), the session row becomes the caller,
and jixiao's pure functions turn them into the page's context (scoring the rows, as the page shows
computed scores; the view; the template's words). What jixiao spends on top of this is its
machinery: routing, middleware, dependencies, the ORM's entities, the session.

bench/floor.py calls `page(program, answered)` for the scenarios in PAGES.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

from app.security import principal_for_user
from app.services import attachments, engine, evaluations
from app.services.sessions import Timeouts
from app.services.templates import settings_of
from app.settings import Settings
from app.web import evaluations as page_words
from app.web.attachments import listing_context
from app.web.render import templates

_COLUMN = re.compile(r"(\w+)\.(\w+)(?: AS \w+)?")


@lru_cache(maxsize=64)
def layout(sql: str) -> tuple[tuple[str, str], ...]:
    """(table, attribute) of each column of a statement's top-level select list; an expression is
    ("", its label)."""
    body = sql[len("SELECT ") :]
    items, depth, start = [], 0, 0
    for i, ch in enumerate(body):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif depth == 0 and ch == ",":
            items.append(body[start:i])
            start = i + 1
        elif depth == 0 and ch == "F" and body[i - 1] in " \n" and body.startswith("FROM ", i):
            items.append(body[start:i])
            break
    out = []
    for item in items:
        item = item.strip()
        m = _COLUMN.fullmatch(item)
        out.append((m[1], m[2]) if m else ("", item.rsplit(" AS ", 1)[-1]))
    return tuple(out)


def objects(sql: str, record) -> dict[str, Any]:
    """A row as {table: an object with its columns as attributes (None for an outer join's missing
    row)}, and each labelled expression's value under its label."""
    by_table: dict[str, dict[str, Any]] = {}
    out: dict[str, Any] = {}
    for (table, name), value in zip(layout(sql), record, strict=True):
        if table:
            by_table.setdefault(table, {})[name] = value
        else:
            out[name] = value
    for table, columns in by_table.items():
        out[table] = SimpleNamespace(**columns) if columns.get("id", True) is not None else None
    return out


def _find(program, answered, table: str) -> tuple[str, list] | None:
    for step, rows in zip(program, answered, strict=True):
        if step.sql.startswith("SELECT ") and layout(step.sql) and layout(step.sql)[0][0] == table:
            return step.sql, rows
    return None


def _default(name: str) -> Any:
    """A setting's default (the bench starts jixiao without setting it)."""
    return Settings.model_fields[name].default


class Refused(Exception):
    """The session is not live: jixiao answers 401/redirect, the floor 401."""


def page(program, answered, evaluation_id: int, now: dt.datetime) -> str:
    """The 自评表 page as jixiao renders it for GET /evaluations/{id}, from the program's rows."""
    sql, rows = _find(program, answered, "login_session")
    if not rows:
        raise Refused
    found = objects(sql, rows[0])
    row, user = found["login_session"], found["app_user"]
    timeouts = Timeouts(
        idle=dt.timedelta(minutes=_default("session_idle_minutes")),
        absolute=dt.timedelta(hours=_default("session_hours")),
    )
    if row.ended_at is not None or now - row.created_at >= timeouts.absolute or now - row.last_seen_at >= timeouts.idle:
        raise Refused
    if user is None or not user.is_active:
        raise Refused
    principal = principal_for_user(user)

    sql, rows = _find(program, answered, "self_evaluation")
    if not rows:
        raise LookupError(evaluation_id)
    parts_row = objects(sql, rows[0])
    evaluation, project, template = parts_row["self_evaluation"], parts_row["project"], parts_row["scoring_template"]
    unit, department = parts_row["unit"], parts_row.get("department")
    window, monitoring_round = parts_row.get("filing_window"), parts_row.get("monitoring_round")
    if monitoring_round is not None or project.target_version > 1:
        raise NotImplementedError("a monitoring round or an adjusted table reads more rows than captured")

    sql, rows = _find(program, answered, "indicator")
    indicators, results = [], {}
    for r in rows:
        o = objects(sql, r)
        indicators.append(o["indicator"])
        if o.get("indicator_result") is not None:
            results[o["indicator"].id] = o["indicator_result"]
    parts = engine.Parts(evaluation, project, indicators, results, template, settings_of(template))
    ev = evaluations.view_of(
        principal,
        evaluation,
        parts,
        engine.score(parts),
        unit=unit,
        department_name=department.name if department else "",
        window=window,
        originals={},
    )
    attached = bool(parts_row.get("attached"))
    ev.has_attachments = attached
    found_attachments = _find(program, answered, "attachment")
    listing = attachments.listing_of_visible(
        session=None,  # type: ignore[arg-type]
        principal=principal,
        evaluation=evaluation,
        unit_id=project.unit_id,
        indicators=indicators,
        none_attached=True,
    )
    if attached and found_attachments is not None:
        sql, rows = found_attachments
        listing.rows = [objects(sql, r)["attachment"] for r in rows]
    att = listing_context(listing, f"/evaluations/{evaluation_id}/attachments", _default("attachment_max_bytes"))
    ctx = page_words.context(ev, notice=None, monitoring_note=None, **att)
    return templates.env.get_template(page_words.FORM).render({"request": None, "principal": principal, **ctx})
