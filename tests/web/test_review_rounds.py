"""Review rounds (issue 9): after a return and a resubmission the review page shows each 送审 as a
round with its opinion, who and when, and what the unit changed between rounds; the queue marks
重新送审. Derived from the audit events only."""

from __future__ import annotations

import re

from tests.api.test_reviews import as_user
from tests.web.test_review_pages import setup  # noqa: F401  (the fixture)


def _version(client, eid):
    return client.get(f"/api/v1/self-evaluations/{eid}").json()["version"]


def _return_change_resubmit(client, eid):
    as_user(client, "gxj")
    back = client.post(
        f"/api/v1/self-evaluations/{eid}/return",
        json={"opinion": "满意度指标缺少佐证材料，请补充", "version": _version(client, eid)},
    )
    assert back.status_code == 200, back.text
    as_user(client, "jcz")
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    ind = {i["name"]: i["id"] for i in body["indicators"]}
    saved = client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={
            "version": body["version"],
            "spent": "98.5",
            "results": [{"indicator_id": ind["服务对象满意度"], "actual": "97%"}],
        },
    )
    assert saved.status_code == 200, saved.text
    assert client.post(f"/api/v1/self-evaluations/{eid}/submit").status_code == 200
    as_user(client, "gxj")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def test_a_resubmission_shows_the_rounds_and_not_the_old_opinion_as_current(setup):  # noqa: F811
    client, ids = setup
    eid = ids["监测设备运维"]
    _return_change_resubmit(client, eid)

    page = client.get(f"/reviews/{eid}")
    assert page.status_code == 200
    html = page.text
    # The old opinion is not shown as the current one: round 2 waits for a decision.
    assert 'id="current-opinion"' not in html
    assert "审核意见：满意度指标缺少佐证材料" not in _text(html.split('id="rounds"')[0])
    assert 'id="rounds"' in html
    rounds = html[html.index('id="rounds"') : html.index("</section>", html.index('id="rounds"'))]
    text = _text(rounds)
    assert "重新送审" in text and "第 2 轮（当前）" in text and "等待审核" in text
    first = _text(rounds[rounds.index('id="round-1"') :])
    assert "退回" in first and "满意度指标缺少佐证材料，请补充" in first
    second = _text(rounds[rounds.index('id="round-2"') : rounds.index('id="round-1"')])
    assert "全年执行数：95 → 98.5" in second
    assert "指标“服务对象满意度”的实际完成值：96% → 97%" in second

    queue = client.get("/reviews")
    row = queue.text[queue.text.index(f'id="queue-row-{eid}"') :]
    row = row[: row.index("</tr>")]
    assert "重新送审" in row
    other = queue.text[queue.text.index(f'id="queue-row-{ids["频谱监测"]}"') :]
    assert "重新送审" not in other[: other.index("</tr>")]

    # Approving ends round 2 with its own opinion, shown as the current one.
    form = client.get(f"/reviews/{eid}").text
    version = re.search(r'name="version" value="(\d+)"', form).group(1)
    done = client.post(f"/reviews/{eid}", data={"version": version, "action": "approve", "opinion": "材料已补充，同意"})
    assert done.status_code in (200, 303)
    html = client.get(f"/reviews/{eid}").text
    assert "第 2 轮审核意见：" in _text(html) and "材料已补充，同意" in _text(html)
    assert "满意度指标缺少佐证材料" in _text(html[html.index('id="round-1"') :])


def test_a_first_submission_has_no_rounds_section(setup):  # noqa: F811
    client, ids = setup
    html = client.get(f"/reviews/{ids['频谱监测']}").text
    assert 'id="rounds"' not in html and "重新送审" not in html.split('id="history"')[0]
