"""Twenty clients save one project's monitoring report at once against a real uvicorn, on SQLite and
PostgreSQL: the first report of the project (created by whichever save comes first) and then an update.
Each time one save wins with 200, the others answer 409 (somebody changed it since), none 5xx, none
left waiting, and the database holds exactly the winner's words ("a conflict is a 409, never a 500").
Each round's words differ from what is stored: a client repeating the stored words is no change (200)."""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import httpx
from sqlmodel import select

from app.models import MonitoringEntry, MonitoringReport
from app.services import tokens
from tests.clients import at_once
from tests.services.monitoring_data import indicator_of, planted

CLIENTS = 20


def _race(live_server: str, secret: str, url: str, version: int, ind_id: int, rnd: int) -> dict[int, object]:
    def save(c: httpx.Client, n: int) -> object:
        body = {
            "version": version,
            "spent": f"{rnd}{n + 1}.0001",
            "indicators": [
                {
                    "indicator_id": ind_id,
                    "progress": "20人次",
                    "reason": f"第{rnd}轮第{n}个客户的原因",
                    "measure": f"措施{n}",
                }
            ],
        }
        r = c.put(url, json=body)
        return r.status_code if r.status_code != 200 else (200, r.json()["version"])

    return dict(enumerate(at_once(live_server, {"Authorization": f"Bearer {secret}"}, CLIENTS, save)))


def test_twenty_clients_saving_one_monitoring_report_get_one_200_and_409s(session, live_server):
    w = planted(session, fill=False)
    project = w["projects"]["业务培训"]
    ind = indicator_of(session, project.id)
    _, secret = tokens.create_token(
        session=session, role="unit", name="并发", unit="广州市无线电监测站", scope="read write"
    )
    url = f"/api/v1/monitoring/projects/{project.id}"
    with httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {secret}"}) as c:
        version = c.get(url).json()["version"]
    for rnd in (1, 2):  # the first report of the project, then an update of it
        answers = _race(live_server, secret, url, version, ind.id, rnd)
        won = [n for n, a in answers.items() if isinstance(a, tuple)]
        counts = Counter(a if not isinstance(a, tuple) else 200 for a in answers.values())
        assert len(answers) == CLIENTS and len(won) == 1 and set(counts) <= {200, 409}, counts
        n = won[0]
        session.expire_all()
        report = session.exec(select(MonitoringReport).where(MonitoringReport.project_id == project.id)).one()
        entries = session.exec(select(MonitoringEntry).where(MonitoringEntry.report_id == report.id)).all()
        assert report.spent == Decimal(f"{rnd}{n + 1}.0001")  # exact, the winner's
        assert [(e.reason, e.measure) for e in entries] == [(f"第{rnd}轮第{n}个客户的原因", f"措施{n}")]
        version = answers[n][1]


def test_saving_what_is_stored_again_is_not_a_change(session, live_server):
    """A client that sends again exactly what is stored (an autosave resent, a second tab) at the current
    version changes nothing and gets 200 with the same version; at a stale version it is a 409 like any save.
    This is why a race's bodies must differ from what is stored: the repeat of the stored words is no conflict."""
    w = planted(session, fill=False)
    project = w["projects"]["业务培训"]
    ind = indicator_of(session, project.id)
    _, secret = tokens.create_token(
        session=session, role="unit", name="重发", unit="广州市无线电监测站", scope="read write"
    )
    url = f"/api/v1/monitoring/projects/{project.id}"
    body = {"spent": "12.3400", "indicators": [{"indicator_id": ind.id, "progress": "20人次", "reason": "原因"}]}
    with httpx.Client(base_url=live_server, headers={"Authorization": f"Bearer {secret}"}) as c:
        v0 = c.get(url).json()["version"]
        first = c.put(url, json={**body, "version": v0})
        assert first.status_code == 200, first.text
        v1 = first.json()["version"]
        assert v1 == v0 + 1
        again = c.put(url, json={**body, "version": v1})
        assert again.status_code == 200 and again.json()["version"] == v1, again.text
        stale = c.put(url, json={**body, "version": v0})
        assert stale.status_code == 409, stale.text
        changed = c.put(url, json={**body, "spent": "12.3500", "version": v1})
        assert changed.status_code == 200 and changed.json()["version"] == v1 + 1, changed.text
