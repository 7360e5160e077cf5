"""Statements built once and run on the driver's cursor: plain rows, without SQLAlchemy's execution.

For the hottest reads (one project: its row, its indicators, its history), SQLAlchemy's execution
(the compiled cache, the parameters, the result's metadata, which asks psycopg for the cursor's
description, a column object for each column) cost more than the database's answer. A Prebuilt
statement is compiled once per dialect; on PostgreSQL it runs on the connection's psycopg cursor, its
rows read as tuples and each column converted as SQLAlchemy would (its type's result processor, for
the type the server answers), the engine's statement listeners (app/timeouts.py's watchdog) called
as SQLAlchemy calls them. On SQLite it runs through SQLAlchemy, as any statement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa


class Prebuilt:
    """A select built once, run with the given values bound (its other values as built)."""

    def __init__(self, statement: sa.Select):
        self.statement = statement
        self._dialect: sa.Dialect | None = None
        self._sql = ""
        self._defaults: dict[str, Any] = {}
        self._binds: Mapping[str, Callable[[Any], Any]] = {}
        self._types: list[sa.types.TypeEngine] = []
        self._keys: tuple[str, ...] = ()
        self._convert: list[tuple[int, Callable[[Any], Any]]] | None = None

    def rows(self, connection: sa.Connection, params: dict[str, Any]) -> tuple[tuple[str, ...], list]:
        """The column names and the rows (sequences in their order, values as SQLAlchemy reads them)."""
        if connection.dialect.name != "postgresql":
            result = connection.execute(self.statement, params)
            return tuple(result.keys()), result.all()
        if self._dialect is not connection.dialect:
            self._compile(connection.dialect)
        values = {**self._defaults, **params}
        for name in params.keys() & self._binds.keys():
            values[name] = self._binds[name](values[name])
        sql = self._sql
        cursor = connection.connection.dbapi_connection.cursor()
        dispatch = connection.dispatch
        dispatch.before_cursor_execute(connection, cursor, sql, values, None, False)
        try:
            cursor.execute(sql, values)
            # before the rows are fetched, as SQLAlchemy calls it: a listener may read the cursor's result
            dispatch.after_cursor_execute(connection, cursor, sql, values, None, False)
            if self._convert is None:
                self._convert = self._converters(connection.dialect, cursor.description)
            rows = cursor.fetchall()
        except Exception as exc:
            # as SQLAlchemy would: wrapped (an OperationalError is a 503), the connection invalidated when lost
            connection._handle_dbapi_exception(exc, sql, values, cursor, None)
            raise
        finally:
            cursor.close()
        convert = self._convert
        if convert and rows:
            converted = []
            for row in rows:
                row = list(row)
                for i, process in convert:
                    row[i] = process(row[i])
                converted.append(row)
            rows = converted
        return self._keys, rows

    def _compile(self, dialect: sa.Dialect) -> None:
        compiled = self.statement.compile(dialect=dialect)
        if compiled.escaped_bind_names or compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a prebuilt statement binds its values by their plain names")
        binds = compiled._bind_processors
        self._sql = compiled.string
        self._defaults = {
            name: binds[name](value) if name in binds else value for name, value in compiled.params.items()
        }
        self._binds = binds
        self._types = [entry.type for entry in compiled._result_columns]
        self._keys = tuple(entry.keyname for entry in compiled._result_columns)
        self._convert = None
        self._dialect = dialect

    def _converters(self, dialect: sa.Dialect, description) -> list[tuple[int, Callable[[Any], Any]]]:
        """Each column's result processor (SQLAlchemy's, for the type code the server answered), where one is."""
        processors = (
            t._cached_result_processor(dialect, column.type_code)
            for t, column in zip(self._types, description, strict=True)
        )
        return [(i, process) for i, process in enumerate(processors) if process is not None]
