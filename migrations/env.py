"""Alembic environment: the URL comes from app.settings; the schema from app.models."""

from alembic import context
from sqlmodel import SQLModel

import app.models  # noqa: F401  (registers every table)
from app.db import make_engine
from app.settings import load_settings

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    # Tests and the CLI pass the URL explicitly; otherwise it comes from the settings.
    return config.attributes.get("database_url") or load_settings().database_url


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # batch: a migration over a province's rows gets the long statement timeout, not a page's.
    engine = make_engine(load_settings(DATABASE_URL=_url(), DB_POOL_SIZE=1), batch=True)
    with engine.connect() as connection:
        _run(connection)
    engine.dispose()


def _app_role() -> tuple[str | None, str | None]:
    # Tests and the CLI may pass them explicitly; otherwise JIXIAO_DB_APP_ROLE / _PASSWORD.
    if "app_role" in config.attributes:
        return config.attributes["app_role"], config.attributes.get("app_password")
    settings = load_settings()
    return settings.db_app_role, settings.db_app_password


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=True,  # SQLite can only ALTER through table copies
    )
    with context.begin_transaction():
        context.run_migrations()
        # The application's PostgreSQL role is granted after every migration (not in one
        # migration): tables added later are covered, and a role created after the schema is
        # granted at the next `jixiao migrate`. On the audit table it gets SELECT and INSERT only.
        role, password = _app_role()
        if role and connection.dialect.name == "postgresql":
            from app.services.audit import ensure_app_role, grant_app_role

            ensure_app_role(connection, role, password)
            grant_app_role(connection, role)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
