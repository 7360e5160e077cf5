"""Alembic environment of the year partitions (`jixiao db partition`, README 横向扩展): a line of its own,
recorded in its own version table, beside the main line that `alembic upgrade head` runs everywhere.

It is kept apart because it is an operator's choice for a PostgreSQL database past ~10 M rows a year,
not a step every database takes (SQLite has no partitions): `alembic -n partition upgrade head` (or
`jixiao db partition`) applies it, `alembic -n partition downgrade base` (`jixiao db unpartition`)
undoes it, and `alembic -n partition current` tells whether a database is partitioned.
"""

from alembic import context

from app.db import make_engine
from app.settings import load_settings

config = context.config
VERSION_TABLE = "alembic_version_partition"


def _run(connection) -> None:
    if connection.dialect.name != "postgresql":
        raise RuntimeError("按年度分区只用于 PostgreSQL（SQLite 没有分区）")
    context.configure(connection=connection, version_table=VERSION_TABLE, transactional_ddl=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    raise RuntimeError("按年度分区要读取数据库中已有的年度，不能离线生成 SQL")
connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = config.attributes.get("database_url") or load_settings().database_url
    # batch: the step rewrites two tables of a province's rows: the long statement timeout, not a page's
    engine = make_engine(load_settings(DATABASE_URL=url, DB_POOL_SIZE=1), batch=True)
    with engine.connect() as conn:
        _run(conn)
        conn.commit()
    engine.dispose()
