"""Partitioning `indicator` and `indicator_result` by year (PostgreSQL declarative partitioning),
an operator's step (`jixiao db partition`), and its undoing (`jixiao db unpartition`).

A partitioned table's primary key and unique keys must contain the partition key, and a foreign
key can only reference such a key. So, in one transaction holding the tables' locks:

- `indicator.project_id` keeps its foreign key to project (id): project is not partitioned. (A
  composite key (project_id, year) -> project (id, year) was tried: an import of 50,000
  indicators then took 16.6-27.5 s instead of 3.7 s, each COPY batch slower than the last,
  550 ms to 2.8 s; the cause, probably the check query's plan, was not pinned down.) An indicator's year stays the
  application's copy of its project's, as on an unpartitioned database;
- `indicator` and `indicator_result` are rebuilt as tables partitioned BY LIST (year): one partition
  per year present, one for the year after the last, and a DEFAULT partition that catches any other
  year (a new year's rows are never refused); the rows are copied, the names swapped, the id
  sequences handed over, the indexes, triggers (the maintained statistics) and grants recreated;
- primary and unique keys gain `year` ((id, year); indicator_result (indicator_id, year)), and the
  result's foreign key becomes (indicator_id, year) → indicator (id, year): a result's year is its
  indicator's, so (indicator_id, year) unique is indicator_id unique;
- a table referencing a partitioned one from outside (monitoring_entry.indicator_id) gains a column
  `<name>_year` that a trigger fills from the referenced row, and the foreign key becomes composite:
  the application does not know the column, and integrity is kept as before.

The step is an Alembic line of its own (migrations/partition, version table alembic_version_partition:
`alembic -n partition upgrade head`, which `jixiao db partition` runs), beside the main line that
every database takes with `alembic upgrade head` (SQLite has no partitions, and every test migrates
with it); later main migrations' ALTER TABLE statements work on partitioned tables too.
Running it again on a partitioned database adds the partitions for the years present and the next;
a year whose rows came into the DEFAULT partition meanwhile gets its partition with the rows moved
into it (_split_default).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

TABLES = ("indicator", "indicator_result")  # referenced before referencing
KEY = "year"


@dataclass
class Outcome:
    done: str  # "partitioned", "already", "unpartitioned", "not partitioned"
    years: list[int] = field(default_factory=list)  # partitions created now
    rows: dict[str, int] = field(default_factory=dict)


def _q(conn: sa.Connection, sql: str, **params) -> list:
    return list(conn.execute(sa.text(sql), params))


def _x(conn: sa.Connection, sql: str) -> None:
    conn.exec_driver_sql(sql)  # DDL as written (no bind parameters: ':' in definitions stays)


def _require_postgresql(conn: sa.Connection) -> None:
    if conn.dialect.name != "postgresql":
        raise RuntimeError("按年度分区只用于 PostgreSQL（SQLite 没有分区）")


VERSION_TABLE = "alembic_version_partition"  # migrations/partition/env.py: the step as an Alembic line


def recorded(conn: sa.Connection) -> bool:
    """Whether the step is recorded on the database as taken (`alembic -n partition current` not empty)."""
    if not _q(conn, "SELECT to_regclass(:t)", t=f"public.{VERSION_TABLE}")[0][0]:
        return False
    return bool(_q(conn, f"SELECT 1 FROM {VERSION_TABLE}"))


def is_partitioned(conn: sa.Connection, table: str) -> bool:
    kind = _q(conn, "SELECT relkind FROM pg_class WHERE oid = to_regclass(:t)", t=f"public.{table}")
    return bool(kind) and kind[0][0] == "p"


def partitions(conn: sa.Connection, table: str) -> dict[str, str]:
    """Partition name → its bound (FOR VALUES IN (2024) / DEFAULT)."""
    rows = _q(
        conn,
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i JOIN pg_class c "
        "ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(:t) ORDER BY c.relname",
        t=f"public.{table}",
    )
    return {name: bound for name, bound in rows}


def _years(conn: sa.Connection) -> list[int]:
    present = {
        y for (y,) in _q(conn, "SELECT DISTINCT year FROM indicator UNION SELECT DISTINCT year FROM indicator_result")
    }
    present |= {y for (y,) in _q(conn, "SELECT year FROM fiscal_year")}
    if not present:
        present = {y for (y,) in _q(conn, "SELECT extract(year FROM now())::int")}
    return sorted(present | {max(present) + 1})


def _grants(conn: sa.Connection, table: str) -> list:
    """The table's privileges granted to other roles than its owner (the application's role)."""
    owner = _q(conn, "SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass(:t)", t=f"public.{table}")
    return _q(
        conn,
        "SELECT grantee, privilege_type FROM information_schema.role_table_grants "
        "WHERE table_schema = 'public' AND table_name = :n AND grantee <> :o",
        n=table,
        o=owner[0][0],
    )


def _grant(conn: sa.Connection, grants: list, table: str) -> None:
    """Partitions are granted like their table: reading through the table needs only the table's,
    but pg_dump (jixiao backup, run as the application's role) locks each partition itself."""
    for grantee, privilege in grants:
        _x(conn, f'GRANT {privilege} ON {table} TO "{grantee}"')


def _add_year_partitions(conn: sa.Connection, table: str, years: list[int]) -> list[int]:
    have = set(partitions(conn, table))
    held = set(_held_by_default(conn, table))  # given their partitions by _split_default, before this
    made = []
    for y in years:
        name = f"{table}_y{y}"
        if name in have or y in held:
            continue
        _x(conn, f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES IN ({int(y)})")
        _grant(conn, _grants(conn, table), name)
        made.append(y)
    return made


def _held_by_default(conn: sa.Connection, table: str) -> list[int]:
    """The years whose rows the DEFAULT partition holds (a year that had no partition when they came)."""
    if f"{table}_default" not in partitions(conn, table):
        return []
    return [y for (y,) in _q(conn, f"SELECT DISTINCT {KEY} FROM {table}_default ORDER BY 1")]


def _columns(conn: sa.Connection, table: str) -> str:
    return _q(
        conn,
        "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute "
        "WHERE attrelid = to_regclass(:t) AND attnum > 0 AND NOT attisdropped",
        t=f"public.{table}",
    )[0][0]


def _split_default(conn: sa.Connection) -> list[int]:
    """Give each year whose rows came into the DEFAULT partition a partition of its own, the rows moved.

    PostgreSQL refuses a new partition for values the DEFAULT partition holds, so, under the tables'
    locks: the foreign keys to the two tables are dropped (a referenced partition cannot be detached),
    DEFAULT is detached, each year's rows are copied into a plain table attached as that year's
    partition, the other rows into a new DEFAULT, and the keys are put back (and checked). The rows
    only change tables: no row trigger fires (the maintained statistics stay as they are), and the
    indexes, keys and triggers of the parent are given to the attached tables by PostgreSQL itself.
    """
    moving = {t: _held_by_default(conn, t) for t in TABLES}
    if not any(moving.values()):
        return []
    _lock(conn)
    fks = [
        tuple(r)
        for r in _q(
            conn,
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.contype = 'f' AND c.confrelid = ANY(CAST(:t AS regclass[])) AND c.conparentid = 0",
            t=[f"public.{t}" for t in TABLES],
        )
    ]
    for table, name, _ in fks:
        _x(conn, f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    for table, years in moving.items():
        if not years:
            continue
        grants, columns = _grants(conn, table), _columns(conn, table)
        default, old = f"{table}_default", f"{table}__old_default"
        like = f"LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE"
        _x(conn, f"ALTER TABLE {table} DETACH PARTITION {default}")
        _x(conn, f"ALTER TABLE {default} RENAME TO {old}")
        for y in years:
            _x(conn, f"CREATE TABLE {table}_y{int(y)} ({like})")
            _x(conn, f"INSERT INTO {table}_y{int(y)} ({columns}) SELECT {columns} FROM {old} WHERE {KEY} = {int(y)}")
            _x(conn, f"ALTER TABLE {table} ATTACH PARTITION {table}_y{int(y)} FOR VALUES IN ({int(y)})")
        _x(conn, f"CREATE TABLE {default} ({like})")
        listed = ", ".join(str(int(y)) for y in years)
        _x(conn, f"INSERT INTO {default} ({columns}) SELECT {columns} FROM {old} WHERE {KEY} NOT IN ({listed})")
        _x(conn, f"DROP TABLE {old}")
        _x(conn, f"ALTER TABLE {table} ATTACH PARTITION {default} DEFAULT")
        for name in (*(f"{table}_y{int(y)}" for y in years), default):
            _grant(conn, grants, name)
    for table, name, definition in fks:
        _x(conn, f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for t in TABLES:
        _x(conn, f"ANALYZE {t}")
    return sorted({y for years in moving.values() for y in years})


def _external_fks(conn: sa.Connection, tables: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(table, constraint name, definition) of the foreign keys from other tables to these."""
    return [
        tuple(r)
        for r in _q(
            conn,
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.contype = 'f' AND c.confrelid = ANY(CAST(:t AS regclass[])) "
            "AND NOT (c.conrelid = ANY(CAST(:t AS regclass[]))) AND c.conparentid = 0",
            t=[f"public.{t}" for t in tables],
        )
    ]


def _shape(conn: sa.Connection, table: str) -> dict:
    reg = f"public.{table}"
    keys = _q(
        conn,
        "SELECT c.conname, c.contype, ARRAY(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, o) "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.o) "
        "FROM pg_constraint c WHERE c.conrelid = to_regclass(:t) AND c.contype IN ('p', 'u') AND c.conparentid = 0",
        t=reg,
    )
    fks = _q(
        conn,
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = to_regclass(:t) "
        "AND contype = 'f' AND conparentid = 0",
        t=reg,
    )
    indexes = _q(
        conn,
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid), i.indisunique FROM pg_index i "
        "WHERE i.indrelid = to_regclass(:t) AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
        "WHERE c.conindid = i.indexrelid AND c.conrelid = i.indrelid)",
        t=reg,
    )
    triggers = _q(
        conn,
        "SELECT pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = to_regclass(:t) AND NOT tgisinternal "
        "AND tgparentid = 0",
        t=reg,
    )
    grants = _grants(conn, table)
    sequences = _q(
        conn,
        "SELECT a.attname, pg_get_serial_sequence(:t, a.attname) FROM pg_attribute a "
        "WHERE a.attrelid = to_regclass(:t) AND a.attnum > 0 AND NOT a.attisdropped "
        "AND pg_get_serial_sequence(:t, a.attname) IS NOT NULL",
        t=reg,
    )
    return {
        "keys": keys,
        "fks": fks,
        "indexes": indexes,
        "triggers": triggers,
        "grants": grants,
        "sequences": sequences,
    }


def _with_year(columns: list[str], partitioned: bool) -> list[str]:
    if partitioned:
        return columns if KEY in columns else [*columns, KEY]
    return [c for c in columns if c != KEY] if len(columns) > 1 and columns[-1] == KEY else columns


def _fk(definition: str, partitioned: bool, composite_targets: set[str]) -> str:
    """FOREIGN KEY (x_id) REFERENCES t(id) ↔ FOREIGN KEY (x_id, year) REFERENCES t(id, year) for the
    year-keyed targets."""
    head, _, tail = definition.partition(" REFERENCES ")
    target = tail.split("(", 1)[0].strip()
    if target.split(".")[-1] not in composite_targets:
        return definition
    if partitioned:
        return head.replace(")", f", {KEY})", 1) + " REFERENCES " + tail.replace("(id)", f"(id, {KEY})", 1)
    return head.replace(f", {KEY})", ")", 1) + " REFERENCES " + tail.replace(f"(id, {KEY})", "(id)", 1)


def _rebuild(conn: sa.Connection, table: str, shape: dict, partitioned: bool, years: list[int]) -> None:
    new = f"{table}__new"
    like = f"LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS"
    if partitioned:
        _x(conn, f"CREATE TABLE {new} ({like}) PARTITION BY LIST ({KEY})")
        for y in years:
            _x(conn, f"CREATE TABLE {table}_y{int(y)} PARTITION OF {new} FOR VALUES IN ({int(y)})")
        _x(conn, f"CREATE TABLE {table}_default PARTITION OF {new} DEFAULT")
    else:
        _x(conn, f"CREATE TABLE {new} ({like})")
    _x(conn, f"INSERT INTO {new} SELECT * FROM {table}")
    for _, seq in shape["sequences"]:
        _x(conn, f"ALTER SEQUENCE {seq} OWNED BY NONE")
    _x(conn, f"DROP TABLE {table}")  # its partitions, indexes, triggers and foreign keys with it
    _x(conn, f"ALTER TABLE {new} RENAME TO {table}")
    for column, seq in shape["sequences"]:
        _x(conn, f"ALTER SEQUENCE {seq} OWNED BY {table}.{column}")
    for name, kind, columns in shape["keys"]:
        what = "PRIMARY KEY" if kind == "p" else "UNIQUE"
        _x(
            conn,
            f"ALTER TABLE {table} ADD CONSTRAINT {name} {what} ({', '.join(_with_year(list(columns), partitioned))})",
        )
    for _, definition, unique in shape["indexes"]:
        if unique:
            head, _, cols = definition.rpartition("(")
            columns = [c.strip() for c in cols.rstrip(")").split(",")]
            definition = f"{head}({', '.join(_with_year(columns, partitioned))})"
        _x(conn, definition)
    for name, definition in shape["fks"]:
        _x(conn, f"ALTER TABLE {table} ADD CONSTRAINT {name} {_fk(definition, partitioned, set(TABLES))}")
    for (definition,) in shape["triggers"]:
        _x(conn, definition)
    for name in [table, *partitions(conn, table)]:
        _grant(conn, shape["grants"], name)


def _year_column(column: str) -> str:
    return column.removesuffix("_id") + "_year"


def _external_up(conn: sa.Connection, table: str, name: str, definition: str) -> str:
    """Give the referencing table the year of the referenced row (a trigger keeps it) and the
    composite definition."""
    head, _, tail = definition.partition(" REFERENCES ")
    column = head.split("(", 1)[1].rstrip(")").strip()
    target = tail.split("(", 1)[0].strip()
    year = _year_column(column)
    function = f"{table}_{year}"
    _x(conn, f"ALTER TABLE {table} ADD COLUMN {year} integer")
    _x(conn, f"UPDATE {table} x SET {year} = t.{KEY} FROM {target} t WHERE t.id = x.{column}")
    _x(conn, f"ALTER TABLE {table} ALTER COLUMN {year} SET NOT NULL")
    _x(
        conn,
        f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"SELECT {KEY} INTO NEW.{year} FROM {target} WHERE id = NEW.{column}; RETURN NEW; END $$",
    )
    _x(
        conn,
        f"CREATE TRIGGER {function} BEFORE INSERT OR UPDATE OF {column} ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {function}()",
    )
    return f"FOREIGN KEY ({column}, {year}) REFERENCES {target}(id, {KEY}){tail.split(')', 1)[1]}"


def _external_down(conn: sa.Connection, table: str, definition: str) -> str:
    head, _, tail = definition.partition(" REFERENCES ")
    column, year = (c.strip() for c in head.split("(", 1)[1].rstrip(")").split(","))
    target = tail.split("(", 1)[0].strip()
    function = f"{table}_{year}"
    _x(conn, f"DROP TRIGGER {function} ON {table}")
    _x(conn, f"DROP FUNCTION {function}()")
    _x(conn, f"ALTER TABLE {table} DROP COLUMN {year}")
    return f"FOREIGN KEY ({column}) REFERENCES {target}(id){tail.split(')', 1)[1]}"


def _shapes_without_inner_keys(conn: sa.Connection) -> dict[str, dict]:
    """Every table's shape, taken before any is rebuilt; the foreign keys between them are dropped
    (each is re-added with its table), so that the old tables can be dropped without CASCADE."""
    shapes = {t: _shape(conn, t) for t in TABLES}
    for table, shape in shapes.items():
        for name, definition in shape["fks"]:
            target = definition.partition(" REFERENCES ")[2].split("(", 1)[0].strip().split(".")[-1]
            if target in TABLES:
                _x(conn, f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    return shapes


def _lock(conn: sa.Connection) -> None:
    referencing = sorted({t for t, _, _ in _external_fks(conn, TABLES)})
    for t in (*TABLES, *referencing):
        _x(conn, f"LOCK TABLE {t} IN ACCESS EXCLUSIVE MODE")


def partition_by_year(conn: sa.Connection) -> Outcome:
    """Partition indicator and indicator_result by year (in the caller's transaction)."""
    _require_postgresql(conn)
    if is_partitioned(conn, "indicator"):
        moved = _split_default(conn)
        years = _years(conn)
        made = _add_year_partitions(conn, "indicator", years)
        _add_year_partitions(conn, "indicator_result", years)
        return Outcome("already", sorted({*moved, *made}))
    _lock(conn)
    years = _years(conn)
    external = _external_fks(conn, TABLES)
    for table, name, _ in external:
        _x(conn, f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    shapes = _shapes_without_inner_keys(conn)
    for table in TABLES:
        _rebuild(conn, table, shapes[table], True, years)
    for table, name, definition in external:
        _x(conn, f"ALTER TABLE {table} ADD CONSTRAINT {name} {_external_up(conn, table, name, definition)}")
    rows = {t: _q(conn, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}
    for t in TABLES:
        _x(conn, f"ANALYZE {t}")
    return Outcome("partitioned", years, rows)


def unpartition(conn: sa.Connection) -> Outcome:
    """The way back: plain tables, single-column keys, the helper columns removed."""
    _require_postgresql(conn)
    if not is_partitioned(conn, "indicator"):
        return Outcome("not partitioned")
    _lock(conn)
    external = _external_fks(conn, TABLES)
    for table, name, _ in external:
        _x(conn, f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    shapes = _shapes_without_inner_keys(conn)
    for table in TABLES:
        _rebuild(conn, table, shapes[table], False, [])
    for table, name, definition in external:
        _x(conn, f"ALTER TABLE {table} ADD CONSTRAINT {name} {_external_down(conn, table, definition)}")
    rows = {t: _q(conn, f"SELECT count(*) FROM {t}")[0][0] for t in TABLES}
    return Outcome("unpartitioned", [], rows)
