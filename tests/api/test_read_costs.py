"""What the hot reads of the JSON API (a list page, one project) cost, counted, never timed.

Threadpool hops: the caller's lookup and the endpoint, two. The request's session is made on the
event loop (no I/O) and the endpoint hands its connection back in its own thread, so the request's
end has nothing left to do on the database. Every hop is a call of anyio.to_thread.run_sync, which is
how FastAPI, Starlette and app/db.py reach the threadpool.

Statements: one project is read in four (the token; the project with its list row, its evaluation,
the evaluation's template, and the template in force, its name and its rules; the indicators; the
history, whose indicator names are the indicators just read), where it took ten, then six. Each is
built once: a second request emits the same SQL text."""

from __future__ import annotations

import anyio.to_thread
import pytest
import sqlalchemy as sa

from app.models import TemplateChoice
from app.security import Principal
from app.services import queries, templates, tokens
from tests.api.read_data import YEAR, build

READS = [
    f"/api/v1/indicators?year={YEAR}&limit=4",
    f"/api/v1/indicators?year={YEAR}&met=false&limit=2",
    "/api/v1/projects/{project}",
]


@pytest.fixture
def world(session):
    return build(session)


@pytest.fixture
def hops(monkeypatch):
    calls: list[str] = []
    real = anyio.to_thread.run_sync

    async def counted(func, *args, **kwargs):
        calls.append(getattr(func, "__qualname__", repr(func)))
        return await real(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return calls


@pytest.mark.parametrize("url", READS, ids=["indicators", "unmet", "project"])
def test_a_hot_read_takes_two_threadpool_hops(client, world, hops, url):
    url = url.format(project=world.projects["p1"].id)
    assert client.get(url, headers=world.auth("finance")).status_code == 200  # the token's minute recorded
    hops.clear()
    response = client.get(url, headers=world.auth("finance"))
    assert response.status_code == 200, response.text
    assert len(hops) == 2, hops


def test_a_revoked_token_is_refused_on_the_very_next_request(client, world, session):
    url = f"/api/v1/indicators?year={YEAR}&limit=4"
    for _ in range(2):
        assert client.get(url, headers=world.auth("finance")).status_code == 200
    tokens.revoke_token(session=session, token_id=world.token_ids["finance"])
    assert client.get(url, headers=world.auth("finance")).status_code == 401
    project = f"/api/v1/projects/{world.projects['p1'].id}"
    assert client.get(project, headers=world.auth("finance")).status_code == 401


@pytest.fixture
def statements(app):
    seen: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    sa.event.listen(app.state.engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(app.state.engine, "before_cursor_execute", record)


def _project_read(client, world, statements, project: str = "p1", who: str = "finance") -> list[str]:
    url = f"/api/v1/projects/{world.projects[project].id}"
    assert client.get(url, headers=world.auth(who)).status_code == 200  # the token's minute recorded
    statements.clear()
    assert client.get(url, headers=world.auth(who)).status_code == 200
    return list(statements)


@pytest.mark.parametrize("who", ["finance", "dept_a"])
def test_one_project_is_read_in_four_statements(client, world, statements, who):
    """The token, the project (with the template in force: no statement of its own, none for its
    settings), the indicators, the history (the names of the indicators it mentions are the
    indicators read: no statement of their own), whether or not the evaluation's history says anything."""
    for project in ("p1", "p2", "p3", "p4"):  # approved, submitted, draft, no evaluation
        seen = _project_read(client, world, statements, project, who)
        assert len(seen) == 4, "\n".join(seen)
        assert not any(s.lstrip().startswith("SELECT scoring_template.") for s in seen), seen


def test_one_projects_statements_are_built_once(client, world, statements):
    """The same SQL text for another project and another caller of the same shape: the statements are
    prebuilt, their values bound (building them anew cost more than the database's answer)."""
    first = _project_read(client, world, statements, "p1")
    second = _project_read(client, world, statements, "p3")
    assert first == second


@pytest.mark.parametrize(
    "choices",
    [{}, {None: "guideline-2021"}, {"a": "guideline-2021"}, {None: "guideline-2021", "b": "national-2020"}],
    ids=["none", "year-wide", "department", "both"],
)
def test_the_template_in_force_read_with_the_project_is_the_services(session, world, choices):
    for dept, name in choices.items():
        department_id = None if dept is None else getattr(world, f"dept_{dept}").id
        session.add(TemplateChoice(year=YEAR, department_id=department_id, template_name=name))
    session.commit()
    finance = Principal(role="finance", name="czj")
    for p in world.projects.values():
        detail = queries.project_detail(session=session, principal=finance, project_id=p.id)
        want = templates.template_name_for(session=session, year=p.year, department_id=detail.row["department_id"])
        assert detail.template_in_force == want, (p.name, choices)


def test_one_projects_statements_build_no_sqlalchemy_result(client, world, app, monkeypatch):
    """On PostgreSQL the project's three statements run on the driver (app/services/prebuilt.py): no
    SQLAlchemy result, whose metadata asked psycopg for a description of every column of every statement
    (a third of the read's time). The token is read on the driver too: the whole read makes none."""
    made: list[str] = []
    real = sa.engine.CursorResult.__init__

    def counted(self, context, *args, **kwargs):
        made.append(context.statement)
        real(self, context, *args, **kwargs)

    url = f"/api/v1/projects/{world.projects['p1'].id}"
    assert client.get(url, headers=world.auth("finance")).status_code == 200  # the token's minute recorded
    monkeypatch.setattr(sa.engine.CursorResult, "__init__", counted)
    r = client.get(url, headers=world.auth("finance"))
    assert r.status_code == 200 and r.json()["id"] == world.projects["p1"].id
    if app.state.engine.dialect.name == "postgresql":
        assert made == []
    else:  # SQLite runs them through SQLAlchemy: the same answer, from its results
        assert made and all(isinstance(s, str) and "SELECT" in s for s in made)


def test_a_project_read_again_is_not_checked_again(client, world, monkeypatch):
    """The quality check of the same rows by the same rules is kept (a report is immutable): a second
    read of an unchanged project checks nothing; a change of a checked column checks again."""
    from app.services import target_tables

    checked: list[int] = []
    real = target_tables.check_table

    def counted(indicators, **kwargs):
        checked.append(len(indicators))
        return real(indicators, **kwargs)

    monkeypatch.setattr(target_tables, "check_table", counted)
    url = f"/api/v1/projects/{world.projects['p1'].id}"
    first = client.get(url, headers=world.auth("finance"))
    second = client.get(url, headers=world.auth("finance"))
    assert first.status_code == second.status_code == 200
    assert first.json()["quality"] == second.json()["quality"]
    assert len(checked) <= 1  # none when an earlier test of this process read the same rows
