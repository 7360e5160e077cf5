"""A list's CSV written by PostgreSQL itself: `COPY (the list's query) TO STDOUT`, streamed through
the response in large chunks, every cell already formatted in the query.

The Python path (app/api/export.py: keyset pages → row models → csv.writer) costs ~0.3 ms a row; a
full year of indicators (a million rows) took five minutes. Here the server formats each cell the
way `spreadsheet.csv_row` does, so the file reads the same through any CSV reader:

- text cells are quoted (FORCE_QUOTE) and neutralised in the query — a leading = + - @ tab or CR
  gets a single quote, as `spreadsheet.csv_text` does (OWASP's rule);
- numbers (ids, and the decimal strings of the number columns) are bare;
- an empty cell, text or number, is a quoted empty string (`""`), as Python's QUOTE_NONNUMERIC
  writes it: COPY quotes a non-NULL empty string to tell it from NULL, so every cell is coalesced.

Lines end in LF (COPY's) rather than csv.writer's CRLF; a CSV reader and a spreadsheet read both.
The SQLite database keeps the Python path (streamed as well, page by page).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlmodel import Session

from app import timeouts
from app.services import spreadsheet

CHUNK = 256 * 1024  # bytes handed to the response at a time (each is one hop out of the thread pool)


@dataclass(frozen=True)
class Cell:
    """One column of the CSV as an SQL expression, and whether COPY quotes it (text) or not (a number)."""

    expr: sa.ColumnElement
    quoted: bool


class first_code(sa.sql.functions.GenericFunction):
    """The code point of a text's first character (NULL or 0 for an empty text): PostgreSQL's
    ascii(), SQLite's unicode(). An integer comparison per cell instead of a substring compared
    with six strings: the full-year CSV spends a third of its time neutralising its 18 text cells."""

    type = sa.Integer()
    inherit_cache = True


@compiles(first_code)
def _first_code(element, compiler, **kw):
    return f"ascii({compiler.process(element.clauses, **kw)})"


@compiles(first_code, "sqlite")
def _first_code_sqlite(element, compiler, **kw):
    return f"unicode({compiler.process(element.clauses, **kw)})"


def neutral(expr) -> sa.ColumnElement:
    """`spreadsheet.csv_text` in SQL: a leading single quote before = + - @ tab or CR (the same SQL
    runs on SQLite, where the test compares it with csv_text)."""
    leads = [ord(c) for c in spreadsheet.FORMULA_LEADS]
    return sa.case((first_code(expr).in_(leads), sa.literal("'", sa.Text) + expr), else_=expr)


def text(expr) -> Cell:
    return Cell(sa.func.coalesce(neutral(sa.cast(expr, sa.Text)), sa.literal("", sa.Text)), True)


def number(expr) -> Cell:
    """An integer or a number column's decimal string, bare."""
    return Cell(sa.func.coalesce(sa.cast(expr, sa.Text), sa.literal("", sa.Text)), False)


def yes_no(expr, yes: str = "是", no: str = "否") -> Cell:
    """A boolean as export._cell writes it."""
    return Cell(sa.case((expr.is_(True), yes), (expr.is_(False), no), else_=""), True)


def score(value, places) -> sa.ColumnElement:
    """`app.domain.scoring.score_text` in SQL: at the template's precision when that loses nothing,
    otherwise every digit it has (trailing zeros dropped); NULL stays NULL."""
    places = sa.func.coalesce(places, 2)
    rounded = sa.func.round(value, places)
    return sa.case(
        (rounded == value, sa.cast(rounded, sa.Text)),
        else_=sa.cast(sa.func.trim_scale(value), sa.Text),
    )


def plain_decimal(value) -> sa.ColumnElement:
    """`format(d.normalize(), "f")` in SQL."""
    return sa.cast(sa.func.trim_scale(value), sa.Text)


def codes(json_array, sep: str = "；") -> Cell:
    """A JSONB array of machine codes (a result's flags: [a-z_] only, written by the scoring engine,
    never typed by a user) joined by `sep`, as `joined` writes it but without a subquery per row:
    its JSON text with the brackets and quotes dropped. Nothing to neutralise: a code starts with a
    letter."""
    bare = sa.func.translate(sa.cast(json_array, sa.Text), sa.literal('[]"', sa.Text), sa.literal("", sa.Text))
    return Cell(sa.func.coalesce(sa.func.replace(bare, sa.literal(", ", sa.Text), sa.literal(sep, sa.Text)), ""), True)


def _header(titles: Sequence[str]) -> bytes:
    buffer = io.StringIO()
    buffer.write("\ufeff")  # Excel opens UTF-8 Chinese text correctly only with the BOM
    csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerow(spreadsheet.csv_row(titles))
    return buffer.getvalue().encode("utf-8")


def copy_sql(session: Session, stmt: sa.Select, cells: Sequence[tuple[str, Cell]]) -> str:
    """The COPY statement of `stmt` with its columns replaced by `cells`, parameters bound as literals
    (COPY takes none) after SQLAlchemy's own type processing."""
    import psycopg

    labelled = [cell.expr.label(f"c{n}") for n, (_, cell) in enumerate(cells)]
    query = stmt.with_only_columns(*labelled, maintain_column_froms=False).limit(None)
    dialect = session.get_bind().dialect
    compiled = query.compile(dialect=dialect, compile_kwargs={"render_postcompile": True})
    processors = compiled._bind_processors  # what SQLAlchemy applies before handing values to psycopg
    params = {k: processors[k](v) if k in processors else v for k, v in compiled.construct_params().items()}
    driver = session.connection().connection.driver_connection
    select_sql = psycopg.ClientCursor(driver).mogrify(str(compiled), params)
    quoted = ", ".join(f"c{n}" for n, (_, cell) in enumerate(cells) if cell.quoted)
    force = f", FORCE_QUOTE ({quoted})" if quoted else ""
    return f"COPY ({select_sql}) TO STDOUT WITH (FORMAT csv{force})"


def stream(engine: sa.Engine, build, titles: Sequence[str]) -> Iterator[bytes]:
    """The CSV: header, then COPY's rows in chunks of about CHUNK bytes. `build(session)` returns
    (select, cells); it runs in the stream's own session, inside one read transaction."""
    yield _header(titles)
    with Session(engine) as session:
        timeouts.allow_long(session)
        stmt, cells = build(session)
        sql = copy_sql(session, stmt, cells)
        timeouts.allow_long(session)  # the transaction has begun: its own SET LOCAL
        driver = session.connection().connection.driver_connection
        buffer = bytearray()
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for data in copy:
                buffer += data
                if len(buffer) >= CHUNK:
                    yield bytes(buffer)
                    buffer.clear()
        if buffer:
            yield bytes(buffer)
        session.rollback()
