"""Login throttling: growing delays per account-from-address, per address and per account; a waiting
attempt costs no password check; the real user is never locked out; every attempt is audited; the
address is the peer's, or the one a trusted proxy forwards."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlmodel import select

from app.models import AuditEvent, LoginThrottle
from app.services import accounts
from app.sqltypes import utcnow
from tests import factories

WRONG = "wrong-password-1"


@pytest.fixture
def users(session):
    dept = factories.department(session)
    unit = factories.unit(session, "单位甲", dept)
    factories.user(session, "jcz", "unit", unit_row=unit)
    factories.user(session, "zx", "unit", unit_row=unit)


@pytest.fixture
def checks(monkeypatch):
    """How many argon2 password checks the login ran."""
    count = {"n": 0}
    verify, burn = accounts.verify_password, accounts.burn_password_check

    def counted_verify(*args):
        count["n"] += 1
        return verify(*args)

    def counted_burn(*args):
        count["n"] += 1
        return burn(*args)

    monkeypatch.setattr(accounts, "verify_password", counted_verify)
    monkeypatch.setattr(accounts, "burn_password_check", counted_burn)
    return count


def from_address(app, address: str) -> TestClient:
    return TestClient(app, client=(address, 50000), follow_redirects=False)


def attempt(client, username: str, password: str = WRONG):
    return client.post("/login", data={"username": username, "password": password}, follow_redirects=False)


def let_time_pass(session) -> None:
    """Every current wait is over (the counts stay)."""
    session.execute(sa.update(LoginThrottle).values(blocked_until=None))
    session.commit()


def row(session, scope: str, key: str) -> LoginThrottle:
    session.expire_all()
    return session.exec(select(LoginThrottle).where(LoginThrottle.scope == scope, LoginThrottle.key == key)).one()


def test_after_five_failures_the_account_waits_and_no_password_is_checked(app, users, session, checks):
    client = from_address(app, "10.0.0.5")
    for _ in range(5):
        assert attempt(client, "jcz").status_code == 422
    assert attempt(client, "jcz").status_code == 422  # the sixth failure: a wait of 1 s begins
    before = checks["n"]
    refused = attempt(client, "jcz", factories.PASSWORD)  # even the right password waits
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) in (1, 2)
    assert "登录失败次数过多" in refused.text and "账号不会被锁定" in refused.text
    assert checks["n"] == before  # refused before any argon2 work
    let_time_pass(session)
    assert attempt(client, "jcz", factories.PASSWORD).status_code == 303
    assert row(session, "pair", "jcz\n10.0.0.5").failures == 0


def test_delays_double_up_to_the_longest(app, users, session, settings):
    app.state.settings = settings.model_copy(update={"login_max_delay_seconds": 8})
    client = from_address(app, "10.0.0.6")
    delays = []
    for _ in range(10):
        attempt(client, "jcz")
        pair = row(session, "pair", "jcz\n10.0.0.6")
        delays.append(
            None if pair.blocked_until is None else round((pair.blocked_until - pair.last_failure_at).total_seconds())
        )
        let_time_pass(session)
    assert delays == [None] * 5 + [1, 2, 4, 8, 8]


def test_an_attacker_elsewhere_cannot_lock_the_real_user_out(app, users, session, monkeypatch):
    # The clock stands still: the account's first wait is one second, which a loaded machine's 22
    # password checks (argon2) can outlast, letting the stranger in after it ran out.
    from app.services import logins

    frozen = utcnow()
    monkeypatch.setattr(logins, "utcnow", lambda: frozen)
    home = from_address(app, "10.1.1.1")
    assert attempt(home, "jcz", factories.PASSWORD).status_code == 303  # the user's usual machine
    for n in range(21):  # a guesser spread over 21 machines, one try each: the account now waits
        assert attempt(from_address(app, f"172.16.0.{n}"), "jcz").status_code == 422
    stranger = attempt(from_address(app, "172.16.1.1"), "jcz", factories.PASSWORD)
    assert stranger.status_code == 429 and int(stranger.headers["retry-after"]) <= 60
    home.cookies.clear()
    assert attempt(home, "jcz", factories.PASSWORD).status_code == 303  # the known machine goes in


def test_one_address_guessing_many_accounts_slows_down(app, users, session):
    client = from_address(app, "10.0.0.7")
    for n in range(30):
        assert attempt(client, f"user{n}").status_code == 422
    assert attempt(client, "user-x").status_code == 422  # the 31st: the address waits from now
    assert attempt(client, "zx", factories.PASSWORD).status_code == 429
    assert attempt(from_address(app, "10.0.0.8"), "zx", factories.PASSWORD).status_code == 303


def test_counts_are_forgotten_after_an_hour_without_failure(app, users, session):
    client = from_address(app, "10.0.0.9")
    for _ in range(6):
        attempt(client, "jcz")
    let_time_pass(session)
    session.execute(sa.update(LoginThrottle).values(last_failure_at=utcnow() - timedelta(hours=2)))
    session.commit()
    attempt(client, "jcz")
    assert row(session, "pair", "jcz\n10.0.0.9").failures == 1


def test_every_attempt_is_in_the_audit_with_its_address(app, users, session):
    client = from_address(app, "10.0.0.10")
    for _ in range(6):
        attempt(client, "jcz")
    attempt(client, "jcz")  # refused while waiting
    let_time_pass(session)
    attempt(client, "jcz", factories.PASSWORD)
    events = session.exec(select(AuditEvent).where(AuditEvent.action.startswith("login."))).all()
    assert [e.action for e in events] == ["login.failure"] * 6 + ["login.throttled", "login.success"]
    assert all(e.after == {"address": "10.0.0.10"} for e in events)
    assert events[-1].user_id is not None and events[0].actor == "jcz"


def test_the_address_is_the_peer_unless_a_trusted_proxy_forwards_it(app, users, session):
    from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

    forged = from_address(app, "10.0.0.11")
    attempt(forged, "jcz").status_code  # noqa: B018
    forged.post("/login", data={"username": "jcz", "password": WRONG}, headers={"X-Forwarded-For": "1.2.3.4"})
    addresses = [e.after["address"] for e in session.exec(select(AuditEvent).order_by(AuditEvent.id))]
    assert addresses == ["10.0.0.11", "10.0.0.11"]  # a header from an untrusted peer changes nothing

    proxied = TestClient(ProxyHeadersMiddleware(app, trusted_hosts=["10.0.0.1"]), client=("10.0.0.1", 1))
    proxied.post("/login", data={"username": "jcz", "password": WRONG}, headers={"X-Forwarded-For": "192.0.2.7"})
    last = session.exec(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert last.after == {"address": "192.0.2.7"}
