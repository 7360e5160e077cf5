"""Batch work on the pages: a reviewer approves several evaluations with one opinion, a unit submits
all its complete evaluations at once. Each item is its own transaction: those that may proceed do,
each refused one is listed with its reason and left exactly as it was. Both databases."""

from __future__ import annotations

import re

from sqlmodel import select

from app.models import SelfEvaluation
from tests import factories
from tests.api.test_reviews import _fill_and_submit, as_user
from tests.services.evaluation_data import STANDARD, YEAR, project_with, two_units


def _eid(session, project) -> int:
    return session.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()


def _status(session, eid: int) -> tuple[str, int]:
    session.expire_all()
    ev = session.get(SelfEvaluation, eid)
    return ev.status, ev.version


def _fill(client, eid: int) -> None:
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    ind = {i["name"]: i["id"] for i in body["indicators"]}
    saved = client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={
            "version": body["version"],
            "spent": "95",
            "results": [
                {"indicator_id": ind["监测报告"], "actual": "12份"},
                {"indicator_id": ind["监测能力"], "qualitative_level": "achieved"},
                {"indicator_id": ind["服务对象满意度"], "actual": "96%"},
            ],
        },
    )
    assert saved.status_code == 200, saved.text


def test_batch_approval_goes_item_by_item(client, session):
    dept, mine, other = two_units(session)
    factories.user(session, "gxj", "department", dept=dept)
    a = _eid(session, project_with(session, mine, STANDARD, name="甲项目"))
    b = _eid(session, project_with(session, mine, STANDARD, name="乙项目"))
    c = _eid(session, project_with(session, other, STANDARD, name="丙项目"))
    as_user(client, "jcz")
    _fill_and_submit(client, a)
    _fill_and_submit(client, b)
    as_user(client, "zx")
    _fill_and_submit(client, c)
    as_user(client, "gxj")
    queue = client.get(f"/reviews?year={YEAR}").text
    assert 'id="batch-approve"' in queue
    picks = dict(re.findall(r'value="(\d+):(\d+)" form="batch"', queue))
    assert set(map(int, picks)) == {a, b, c}
    # c changed since the page was read (the unit withdrew and resubmitted): its stale pick is refused
    as_user(client, "zx")
    assert client.post(f"/api/v1/self-evaluations/{c}/withdraw").status_code == 200
    assert client.post(f"/api/v1/self-evaluations/{c}/submit").status_code == 200
    as_user(client, "gxj")
    form = {"pick": [f"{i}:{picks[str(i)]}" for i in (a, b, c)], "opinion": "材料齐全", "year": str(YEAR)}
    result = client.post("/reviews/batch", data=form)
    assert result.status_code == 200, result.text
    assert "已审核通过 2 份" in result.text and "1 份未通过" in result.text and "丙项目" in result.text
    assert _status(session, a)[0] == "approved" and _status(session, b)[0] == "approved"
    assert _status(session, c)[0] == "submitted"


def test_batch_names_nothing_a_reviewer_may_not_see_and_needs_a_pick(client, session):
    dept, mine, _ = two_units(session)
    factories.user(session, "fgw", "department", dept=factories.department(session, "广州市发展和改革委员会"))
    a = _eid(session, project_with(session, mine, STANDARD, name="甲项目"))
    as_user(client, "jcz")
    _fill_and_submit(client, a)
    as_user(client, "fgw")
    version = _status(session, a)[1]
    result = client.post("/reviews/batch", data={"pick": f"{a}:{version}", "year": str(YEAR)})
    assert result.status_code == 200 and "甲项目" not in result.text and "1 份未通过" in result.text
    assert _status(session, a)[0] == "submitted"
    assert client.post("/reviews/batch", data={"year": str(YEAR)}).status_code == 422
    as_user(client, "jcz")
    assert client.post("/reviews/batch", data={"pick": f"{a}:{version}"}).status_code == 403


def test_a_unit_submits_all_its_complete_evaluations_at_once(client, session):
    _, mine, _ = two_units(session)
    done = _eid(session, project_with(session, mine, STANDARD, name="已填完"))
    empty = _eid(session, project_with(session, mine, STANDARD, name="未填写"))
    as_user(client, "jcz")
    _fill(client, done)
    before = _status(session, empty)
    home = client.get(f"/?year={YEAR}").text
    assert 'id="submit-all"' in home
    result = client.post("/evaluations/submit-all", data={"year": str(YEAR)})
    assert result.status_code == 200, result.text
    assert "已送审 1 份" in result.text and "未填写" in result.text
    assert _status(session, done)[0] == "submitted"
    assert _status(session, empty) == before  # refused, left exactly as it was


def test_a_reviewers_home_shows_what_waits_for_them(client, session):
    dept, mine, other = two_units(session)
    factories.user(session, "gxj", "department", dept=dept)
    a = _eid(session, project_with(session, mine, STANDARD, name="甲项目"))
    project_with(session, other, STANDARD, name="丙项目")
    as_user(client, "jcz")
    _fill_and_submit(client, a)
    as_user(client, "gxj")
    home = client.get("/").text
    assert f"{YEAR} 年度待办" in home
    assert re.search(r'id="todo-awaiting"><strong class="big">1</strong>', home)
    assert re.search(r'id="todo-sent-back"><strong class="big">0</strong>', home)
    assert "已送审 1 / 2 个项目" in home
    assert "广州市工业和信息化产业发展中心" in home  # the unit that has not handed in
    client.post(f"/api/v1/self-evaluations/{a}/return", json={"opinion": "请补充佐证材料"})
    home = client.get("/").text
    assert re.search(r'id="todo-awaiting"><strong class="big">0</strong>', home)
    assert re.search(r'id="todo-sent-back"><strong class="big">1</strong>', home)
