"""Server-side sessions: logout, a password change, disabling and an administrator end them; idle and
absolute timeouts (measured on an injected clock, no sleeping); a login always gets a new session;
last-seen is written at most once a minute; two app instances on one database agree."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.models import FilingWindow, LoginSession, User
from app.security import SESSION_COOKIE
from app.services import accounts
from app.sqltypes import utcnow
from tests import factories


class Clock:
    """A clock the test moves by hand."""

    def __init__(self):
        self.now = utcnow()

    def __call__(self):
        return self.now

    def advance(self, **kw):
        self.now += timedelta(**kw)


@pytest.fixture
def clock(app) -> Clock:
    clock = Clock()
    app.state.clock = clock
    return clock


@pytest.fixture
def people(session):
    dept = factories.department(session)
    unit = factories.unit(session, "广州市无线电监测站", dept)
    return {
        "unit": factories.user(session, "jcz", "unit", unit_row=unit),
        "admin": factories.user(session, "root", "admin"),
        "finance": factories.user(session, "czj", "finance"),
    }


def _logged_in(app, username: str) -> tuple[TestClient, str]:
    client = TestClient(app, base_url="http://testserver")
    factories.login(client, username)
    return client, client.cookies[SESSION_COOKIE]


def _with_cookie(app, cookie: str) -> TestClient:
    client = TestClient(app, base_url="http://testserver")
    client.cookies.set(SESSION_COOKIE, cookie, domain="testserver.local")
    return client


def _signed_in(client: TestClient) -> bool:
    response = client.get("/", follow_redirects=False)
    assert response.status_code in (200, 303), response.status_code
    return response.status_code == 200


def test_the_cookie_after_logout_is_refused_for_reads_and_writes(app, people, session):
    client, cookie = _logged_in(app, "root")
    assert client.get("/admin/windows").status_code == 200
    client.post("/logout")

    stolen = _with_cookie(app, cookie)  # the same cookie, kept by someone (or a back button) after logout
    page = stolen.get("/admin/windows", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    write = stolen.post("/admin/windows", data={"year": "2025", "opens_date": "2025-01-01"}, follow_redirects=False)
    assert write.status_code == 303 and write.headers["location"].startswith("/login")
    htmx = stolen.post("/admin/windows", data={"year": "2025"}, headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and "请先登录" in htmx.text
    assert stolen.get("/api/v1/units").status_code == 401
    assert session.exec(select(FilingWindow)).first() is None  # nothing was written
    row = session.exec(select(LoginSession)).one()
    assert row.ended_at is not None and row.end_reason == "logout"


def test_every_login_gets_a_new_session_and_the_old_one_ends(app, people):
    client, first = _logged_in(app, "jcz")
    factories.login(client, "jcz")  # logging in again from the same browser
    second = client.cookies[SESSION_COOKIE]
    assert second != first
    assert not _signed_in(_with_cookie(app, first))
    assert _signed_in(_with_cookie(app, second))
    assert first not in str(second) and len(second) >= 40


def test_a_planted_cookie_is_not_adopted_at_login(app, people):
    """Session fixation: a value set before login never becomes the session."""
    client = _with_cookie(app, "planted-by-an-attacker-0123456789")
    factories.login(client, "jcz")
    assert client.cookies[SESSION_COOKIE] != "planted-by-an-attacker-0123456789"
    assert not _signed_in(_with_cookie(app, "planted-by-an-attacker-0123456789"))


def test_idle_timeout_ends_an_unused_session_and_use_keeps_it(app, people, clock):
    client, _ = _logged_in(app, "jcz")
    clock.advance(minutes=29)
    assert _signed_in(client)  # used after 29 minutes: still live, and seen now
    clock.advance(minutes=29)
    assert _signed_in(client)  # 58 minutes after login, 29 after last use
    clock.advance(minutes=30)
    assert not _signed_in(client)  # 30 minutes unused: ended
    clock.advance(seconds=1)
    assert not _signed_in(client)  # and stays ended


def test_idle_timeout_is_a_setting(app, people, clock):
    app.state.settings = app.state.settings.model_copy(update={"session_idle_minutes": 5})
    client, _ = _logged_in(app, "jcz")
    clock.advance(minutes=4)
    assert _signed_in(client)
    clock.advance(minutes=5)
    assert not _signed_in(client)


def test_absolute_timeout_ends_even_a_busy_session(app, people, clock, session):
    client, _ = _logged_in(app, "jcz")
    for _ in range(35):  # used every 20 minutes for 11 h 40 min
        clock.advance(minutes=20)
        assert _signed_in(client)
    clock.advance(minutes=20)  # 12 h after login
    assert not _signed_in(client)
    assert session.exec(select(LoginSession)).one().end_reason == "absolute"


def test_last_seen_is_written_at_most_once_a_minute(app, people, clock, session):
    client, _ = _logged_in(app, "jcz")
    login_time = clock.now
    for _ in range(5):
        clock.advance(seconds=10)
        assert _signed_in(client)
    session.expire_all()
    assert session.exec(select(LoginSession)).one().last_seen_at == login_time  # 50 s: not written
    clock.advance(seconds=15)
    assert _signed_in(client)
    session.expire_all()
    assert session.exec(select(LoginSession)).one().last_seen_at == clock.now


def test_a_password_change_ends_the_other_sessions(app, people, session):
    here, here_cookie = _logged_in(app, "jcz")
    elsewhere, _ = _logged_in(app, "jcz")
    accounts.change_password(session=session, username="jcz", password="a-new-password-1", keep_session=here_cookie)
    assert _signed_in(here)  # the browser that changed it stays
    assert not _signed_in(elsewhere)
    accounts.change_password(session=session, username="jcz", password="a-newer-password-2")  # e.g. the CLI
    assert not _signed_in(here)


def test_disabling_a_user_ends_their_sessions(app, people, session):
    client, _ = _logged_in(app, "jcz")
    accounts.disable_user(session=session, username="jcz")
    assert not _signed_in(client)
    reasons = {row.end_reason for row in session.exec(select(LoginSession))}
    assert reasons == {"disabled"}


def test_an_admin_ends_a_users_sessions_from_the_page(app, people, session):
    unit_a, _ = _logged_in(app, "jcz")
    unit_b, _ = _logged_in(app, "jcz")
    admin, _ = _logged_in(app, "root")
    page = admin.get("/admin/users")
    assert page.status_code == 200 and "jcz" in page.text and "结束全部会话" in page.text
    user = session.exec(select(User).where(User.username == "jcz")).one()
    done = admin.post(f"/admin/users/{user.id}/end-sessions")
    assert done.status_code == 200 and "已结束 jcz 的 2 个登录会话" in done.text
    assert not _signed_in(unit_a) and not _signed_in(unit_b)
    assert _signed_in(admin)
    from app.models import AuditEvent

    event = session.exec(select(AuditEvent).where(AuditEvent.action == "session.end_all")).one()
    assert event.actor == "root" and event.entity_id == user.id


def test_only_an_admin_may_end_sessions(app, people, session):
    victim, _ = _logged_in(app, "root")
    finance, _ = _logged_in(app, "czj")
    admin_id = session.exec(select(User).where(User.username == "root")).one().id
    assert finance.get("/admin/users").status_code == 403
    assert finance.post(f"/admin/users/{admin_id}/end-sessions").status_code == 403
    assert _signed_in(victim)


def test_cli_ends_a_users_sessions(app, people, settings):
    client, _ = _logged_in(app, "jcz")
    env = dict(os.environ, DATABASE_URL=settings.database_url, JIXIAO_ENV="test")
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "users", "end-sessions", "jcz"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "已结束 jcz 的 1 个登录会话" in done.stdout
    assert not _signed_in(client)


def test_two_app_instances_on_one_database_share_the_sessions(app, people, settings):
    """The app keeps no session state in memory: a replica sees a login and a logout at once."""
    from app.main import create_app

    other = create_app(settings)
    try:
        client, cookie = _logged_in(app, "jcz")
        assert _signed_in(_with_cookie(other, cookie))
        _with_cookie(other, cookie).post("/logout")
        assert not _signed_in(client)
        assert not _signed_in(_with_cookie(other, cookie))
    finally:
        other.state.engine.dispose()


def test_sessions_long_over_are_removed_at_a_later_login(app, people, clock, session):
    _logged_in(app, "jcz")
    clock.advance(hours=1)
    _logged_in(app, "root")
    assert len(session.exec(select(LoginSession)).all()) == 2  # both kept: neither is a month past its lifetime
    clock.advance(days=31)
    _logged_in(app, "czj")
    session.expire_all()
    rows = session.exec(select(LoginSession)).all()
    assert len(rows) == 1 and rows[0].user_id == people["finance"].id
