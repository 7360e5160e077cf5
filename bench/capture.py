"""The SQL jixiao emits, captured from jixiao itself by an SQLAlchemy event hook, turned into a
program the floor replays: each statement in asyncpg's `$n` style, each parameter bound to a request
input, to a value of an earlier statement's first row, to the time of the request, or a constant.

Nothing here is copied by hand: run jixiao on a request, record what its cursor executed (and the
first row each statement answered, read from the psycopg result without consuming it), and
explain every parameter value by where it came from.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import re
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

_PARAM = re.compile(r"%\(([^)]+)\)s")


@dataclass
class Executed:
    sql: str  # as sent to psycopg (pyformat)
    params: dict[str, Any]
    executemany: bool
    first_row: list[str | None]  # text form of the first row answered, [] when none
    rows: list[list[str | None]] = field(default_factory=list)  # every row, when there are few
    columns: list[str] = field(default_factory=list)  # the names of the row's columns


@contextmanager
def recording():
    """Every statement any engine executes while inside, with the first row it answered."""
    seen: list[Executed] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        seen.append(
            Executed(statement, dict(parameters or {}) if not executemany else {"_many": parameters}, executemany, [])
        )

    def after(conn, cursor, statement, parameters, context, executemany):
        result = getattr(cursor, "pgresult", None)
        if result is not None and result.ntuples > 0 and seen:

            def text(i: int, j: int) -> str | None:
                v = result.get_value(i, j)
                return None if v is None else bytes(v).decode()

            rows = [[text(i, j) for j in range(result.nfields)] for i in range(min(result.ntuples, 500))]
            seen[-1].first_row, seen[-1].rows = rows[0], rows
            seen[-1].columns = [(result.fname(j) or b"").decode() for j in range(result.nfields)]

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", before)
    sa.event.listen(sa.engine.Engine, "after_cursor_execute", after)
    try:
        yield seen
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", before)
        sa.event.remove(sa.engine.Engine, "after_cursor_execute", after)


# --- programs ---------------------------------------------------------------------------------------


@dataclass
class Bind:
    kind: str  # input | row | now | const
    name: str | None = None  # input name
    step: int | None = None  # row: which earlier statement
    column: int | None = None  # row: which column of its first row
    type: str = "str"  # int | str | bool | decimal | datetime | date | json | none
    value: Any = None  # const (JSON-encoded by _encode); format: a template such as "self_evaluation:{id}"
    add: int = 0  # row: the value plus this (a sequence number taken as the last one + 1); 0 when no row


@dataclass
class Step:
    sql: str  # asyncpg style ($1, $2, ...)
    binds: list[Bind] = field(default_factory=list)
    writes: bool = False
    many_from: int | None = None  # executemany: once per row of that earlier step ("row" binds read that row)


def _is_json(v: Any) -> bool:
    return type(v).__name__ in ("Json", "Jsonb")


def _json(v: Any) -> Any:
    """psycopg's Json/Jsonb wrapper's object, else None."""
    return v.obj if _is_json(v) else None


def _type(v: Any) -> str:
    if _is_json(v):
        return "json"
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, Decimal):
        return "decimal"
    if isinstance(v, dt.datetime):
        return "datetime"
    if isinstance(v, dt.date):
        return "date"
    if isinstance(v, bytes):
        return "bytes"
    return "str"


def _encode(v: Any) -> Any:
    if _is_json(v):
        return _json(v)
    if isinstance(v, (Decimal, dt.date, dt.datetime)):
        return str(v) if not isinstance(v, (dt.date, dt.datetime)) else v.isoformat()
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    return v


def convert(value: Any, type_: str) -> Any:
    """A value (from a query string, a row's text or JSON) as the Python type asyncpg expects."""
    if value is None or type_ == "none":
        return None
    if type_ == "int":
        return int(value)
    if type_ == "bool":
        return value if isinstance(value, bool) else str(value).lower() in ("t", "true", "1")
    if type_ == "decimal":
        return Decimal(str(value))
    if type_ == "datetime":
        return value if isinstance(value, dt.datetime) else dt.datetime.fromisoformat(str(value))
    if type_ == "date":
        return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))
    if type_ == "bytes":
        return base64.b64decode(value)
    if type_ == "json":
        return value
    return str(value)


def to_asyncpg(sql: str) -> tuple[str, list[str]]:
    """psycopg's %(name)s placeholders as $1…$n (in order of first use), and %% as %."""
    names: list[str] = []

    def number(m: re.Match) -> str:
        if m.group(1) not in names:
            names.append(m.group(1))
        return f"${names.index(m.group(1)) + 1}"

    return _PARAM.sub(number, sql).replace("%%", "%"), names


# a parameter whose name says which columns it is compared with: the caller's unit or department
# (app/services/scope.py binds either as scope_id)
_ALIASES = {"scope_id": ("unit_id", "department_id")}
_GENERIC = ("id", "param")  # SQLAlchemy's names that tell nothing (id_1, param_1): matched by value only


def _named(param: str, column: str) -> bool:
    """Whether a parameter (SQLAlchemy's name, perhaps with a _1 suffix) names this column or input."""
    base, col = re.sub(r"_\d+$", "", param), re.sub(r"_\d+$", "", column)
    if base in _GENERIC:
        return False
    return col == base or col in _ALIASES.get(base, ())


def _same(a: Any, text: str | None) -> bool:
    if text is None or a is None or isinstance(a, (dt.date, dt.datetime, bytes)):
        return False
    if isinstance(a, bool):
        return text in (("t", "true") if a else ("f", "false"))
    return str(a) == text


def program(seen: list[Executed], inputs: dict[str, Any]) -> list[Step]:
    """Explain each parameter of each captured statement by where its value came from."""
    steps: list[Step] = []
    for n, ex in enumerate(seen):
        sql, names = to_asyncpg(ex.sql)
        if ex.executemany:
            steps.append(_many(n, sql, names, ex, seen, inputs))
            continue
        step = Step(sql=sql, writes=not sql.lstrip().upper().startswith(("SELECT", "WITH", "SHOW")))
        for name in names:
            v = ex.params[name]
            t = _type(v)
            bind: Bind | None = None
            # by name first (an input, then an earlier row's column named like the parameter), then by
            # value alone: the first earlier column with an equal value may only happen to be equal
            # (the page's scope_id equal to the session's id where sessions and units are made in step)
            if v is not None and not isinstance(v, bool):
                bind = next(
                    (Bind("input", name=k, type=t) for k, g in inputs.items() if _named(name, k) and str(v) == str(g)),
                    None,
                )
            if bind is None and v is not None and not isinstance(v, bool) and not (isinstance(v, int) and v < 10):
                for back in range(n - 1, -1, -1):
                    ex_back = seen[back]
                    col = next(
                        (
                            j
                            for j, text in enumerate(ex_back.first_row)
                            if j < len(ex_back.columns) and _named(name, ex_back.columns[j]) and _same(v, text)
                        ),
                        None,
                    )
                    if col is not None:
                        bind = Bind("row", step=back, column=col, type=t)
                        break
            for key, given in inputs.items():
                if bind is None and v is not None and not isinstance(v, bool) and str(v) == str(given):
                    bind = Bind("input", name=key, type=t)
                    break
            if bind is None and t == "datetime":
                bind = Bind("now", type=t)
            if bind is None and isinstance(v, str):
                bind = _embedded(v, inputs, seen[:n])
            if bind is None:
                for back in range(n - 1, -1, -1):
                    row = seen[back].first_row
                    col = next((j for j, text in enumerate(row) if _same(v, text)), None)
                    if col is not None and not isinstance(v, bool) and not (isinstance(v, int) and v < 10):
                        bind = Bind("row", step=back, column=col, type=t)
                        break
            if bind is None and t == "int" and v > 1:
                # a sequence number: the last one + 1, from a column named seq when an earlier row has
                # one (the audit stream's head, read with the evaluation), not any column that holds v - 1
                for back in range(n - 1, -1, -1):
                    ex_back = seen[back]
                    col = next(
                        (
                            j
                            for j, text in enumerate(ex_back.first_row)
                            if j < len(ex_back.columns) and ex_back.columns[j] == "seq" and _same(v - 1, text)
                        ),
                        None,
                    )
                    if col is not None:
                        bind = Bind("row", step=back, column=col, type=t, add=1)
                        break
            if bind is None and t == "int" and v > 1:
                for back in range(n - 1, -1, -1):
                    col = next((j for j, text in enumerate(seen[back].first_row) if _same(v - 1, text)), None)
                    if col is not None:
                        bind = Bind("row", step=back, column=col, type=t, add=1)
                        break
            step.binds.append(bind or Bind("const", type=t, value=_encode(v)))
        steps.append(step)
    return steps


def _many(n: int, sql: str, names: list[str], ex: Executed, seen: list[Executed], inputs: dict) -> Step:
    """An executemany: find the earlier statement whose rows, one by one, gave its parameter sets."""
    sets = list(ex.params["_many"])
    for back in range(n - 1, -1, -1):
        rows = seen[back].rows
        if len(rows) < len(sets) or not rows:
            continue
        binds = []
        for name in names:
            values = [p[name] for p in sets]
            t = _type(values[0])
            # every set's value found in one column of those rows (jixiao may skip a row it wrote
            # separately: the floor then writes that one row twice, a little more work than jixiao)
            col = next(
                (j for j in range(len(rows[0])) if all(any(_same(v, r[j]) for r in rows) for v in values)),
                None,
            )
            if col is not None:
                binds.append(Bind("row", step=back, column=col, type=t))
            elif t == "datetime":
                binds.append(Bind("now", type=t))
            elif any(str(values[0]) == str(g) for g in inputs.values()):
                binds.append(Bind("input", name=next(k for k, g in inputs.items() if str(g) == str(values[0])), type=t))
            else:
                binds.append(Bind("const", type=t, value=_encode(values[0])))
        if any(b.kind == "row" for b in binds):
            return Step(sql=sql, binds=binds, writes=True, many_from=back)
    raise ValueError(f"statement {n} ran as executemany and no earlier statement's rows explain its parameters")


def _embedded(v: str, inputs: dict, earlier: list[Executed]) -> Bind | None:
    """A string made of an input or an earlier row's value (a stream name such as "api_token:50")."""
    escaped = v.replace("{", "{{").replace("}", "}}")
    for key, given in inputs.items():
        pattern = rf"(?<![0-9A-Za-z]){re.escape(str(given))}(?![0-9A-Za-z])"
        if len(str(given)) >= 3 and re.search(pattern, v):
            return Bind("format", type="str", value=re.sub(pattern, "{" + key + "}", escaped))
    m = re.fullmatch(r"([a-z_]+:)(\d+)", v)
    if m:
        for back in range(len(earlier) - 1, -1, -1):
            col = next((j for j, text in enumerate(earlier[back].first_row) if text == m.group(2)), None)
            if col is not None:
                return Bind("format", type="str", value=m.group(1) + "{_row}", step=back, column=col)
    return None


def defaults(program_: list[Step], without_rows: list[Step]) -> list[Step]:
    """Where a statement's earlier row was missing in another capture (a new audit stream has no head),
    the constant used then is the default when the floor finds no row either."""
    if [s.sql for s in program_] != [s.sql for s in without_rows]:
        return program_
    for step, other in zip(program_, without_rows, strict=True):
        for b, o in zip(step.binds, other.binds, strict=True):
            if b.kind == "row" and not b.add and o.kind == "const":
                b.value = o.value
    return program_


def agree(a: list[Step], b: list[Step]) -> list[Step]:
    """Two captures of one scenario merged: a bind that is not the same in both is a constant."""
    if [s.sql for s in a] != [s.sql for s in b]:
        # the statements differ between requests (a branch taken once): keep the later one
        return b
    out = []
    for sa_, sb in zip(a, b, strict=True):
        binds = []
        for x, y in zip(sa_.binds, sb.binds, strict=True):
            same = (x.kind, x.name, x.step, x.column) == (y.kind, y.name, y.step, y.column)
            binds.append(x if same else (x if x.kind == "const" else y if y.kind == "const" else x))
        out.append(Step(sql=sb.sql, binds=binds, writes=sb.writes, many_from=sb.many_from))
    return out


def dump(programs: dict[str, list[Step]]) -> str:
    return json.dumps({k: [asdict(s) for s in v] for k, v in programs.items()}, ensure_ascii=False, indent=1)


def load(text: str) -> dict[str, list[Step]]:
    return {
        k: [Step(s["sql"], [Bind(**b) for b in s["binds"]], s["writes"]) for s in v]
        for k, v in json.loads(text).items()
    }
