"""The token lookup runs on the driver (app/services/tokens.py), but the engine's statement listeners see it
as they see any statement: after the execute and before the row is fetched, so a listener can read what
the statement answered (the benchmark's capture of jixiao's SQL reads the first row there, and binds a
unit's rows to the unit its token row names)."""

from __future__ import annotations

import sqlalchemy as sa

from app.services import tokens


def test_listeners_see_the_token_row_before_it_is_fetched(session):
    _, secret = tokens.create_token(session=session, role="finance", name="监听", scope="read")
    session.commit()
    engine = session.get_bind()
    seen: list = []

    def after(conn, cursor, statement, parameters, context, executemany):
        if "FROM api_token" in statement and "token_hash" in statement:
            result = getattr(cursor, "pgresult", None)
            if engine.dialect.name == "postgresql":
                seen.append(None if result is None else result.ntuples)
            else:
                seen.append(len(cursor.description or ()))

    sa.event.listen(engine, "after_cursor_execute", after)
    try:
        principal = tokens.authenticate(session=session, token=secret)
    finally:
        sa.event.remove(engine, "after_cursor_execute", after)
    assert principal is not None and principal.role == "finance"
    # PostgreSQL: the result still holds its one row; SQLite: the open cursor describes the row's 9 columns
    assert seen == ([1] if engine.dialect.name == "postgresql" else [9]), seen
