"""The monitoring (双监控) pages: the bureau opens and closes a round, the unit's form saves field by field
(out-of-band lights, 422 beside the field, the version), the overview with its chart, the reds, the xlsx,
and tenancy (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import re
from decimal import Decimal

from openpyxl import load_workbook

from app.services import monitoring
from tests import factories
from tests.services.evaluation_data import YEAR
from tests.services.monitoring_data import CUTOFF, PLANTED, indicator_of, planted

HX = {"HX-Request": "true"}


def _version(client, project_id: int) -> int:
    page = client.get(f"/monitoring/projects/{project_id}")
    return int(re.search(r'id="ev-version" name="version" value="(\d+)"', page.text).group(1))


def test_the_bureau_opens_moves_and_closes_a_round(client, session):
    w = planted(session, fill=False)
    factories.login(client, "czj")
    page = client.get(f"/monitoring?year={YEAR}")
    assert page.status_code == 200 and "6月30日" in page.text and "监控填报中" in page.text
    # a cut-off outside the year: 422, the message beside the field, nothing moved
    bad = client.post("/monitoring/rounds", data={"year": str(YEAR), "cutoff_date": f"{YEAR + 1}-01-31"})
    assert bad.status_code == 422 and f"监控截止日期须在 {YEAR} 年内" in bad.text
    assert monitoring.round_of(session=session, year=YEAR).cutoff_date == CUTOFF
    moved = client.post(
        "/monitoring/rounds", data={"year": str(YEAR), "cutoff_date": f"{YEAR}-07-31"}, follow_redirects=False
    )
    assert moved.status_code == 303 and moved.headers["location"] == f"/monitoring?year={YEAR}"
    session.expire_all()
    rnd = monitoring.round_of(session=session, year=YEAR)
    assert rnd.cutoff_date.month == 7
    assert client.post(f"/monitoring/rounds/{rnd.id}/close", follow_redirects=False).status_code == 303
    session.expire_all()
    assert monitoring.round_of(session=session, year=YEAR).status == "closed"
    # the unit's form is read-only now, and a save is refused
    client.cookies.clear()
    factories.login(client, "jcz")
    project = w["projects"]["设备运维"]
    form = client.get(f"/monitoring/projects/{project.id}")
    assert "已结束，不能再修改" in form.text and "data-autosave" not in form.text
    # a unit cannot open a round
    assert (
        client.post("/monitoring/rounds", data={"year": str(YEAR), "cutoff_date": f"{YEAR}-06-30"}).status_code == 403
    )


def test_the_unit_fills_in_and_sees_the_light_out_of_band(client, session):
    w = planted(session, fill=False)
    factories.login(client, "jcz")
    project = w["projects"]["业务培训"]
    ind = indicator_of(session, project.id)
    form = client.get(f"/monitoring/projects/{project.id}")
    assert (
        form.status_code == 200
        and "未亮灯" in form.text
        and f'data-autosave="/monitoring/projects/{project.id}/indicators/{ind.id}"' in form.text
    )
    v = _version(client, project.id)
    saved = client.post(
        f"/monitoring/projects/{project.id}/indicators/{ind.id}",
        data={"version": str(v), "progress": "20人次"},
        headers=HX,
    )
    assert saved.status_code == 200, saved.text
    # only computed cells, out of band: never the input the user is typing in
    assert 'name="progress"' not in saved.text and 'id="progress-' not in saved.text.replace(
        "stored-progress", ""
    ).replace("msg-progress", "")
    assert f'id="light-{ind.id}"' in saved.text and 'hx-swap-oob="true"' in saved.text
    assert 'data-light="red"' in saved.text and "红灯" in saved.text and "落后 29.73 个百分点" in saved.text
    assert f'id="ev-version" name="version" value="{v + 1}"' in saved.text
    assert "红灯：请填写偏差原因和纠偏措施" in saved.text  # asked for at the row until both are written
    explained = client.post(
        f"/monitoring/projects/{project.id}/indicators/{ind.id}",
        data={"version": str(v + 1), "reason": "培训安排在下半年", "measure": "九月集中开班"},
        headers=HX,
    )
    assert (
        explained.status_code == 200
        and "data-needs-reason" not in explained.text
        and 'data-light="red"' in explained.text
    )

    # spending: 执行数 exact; 50 of 100 against 49.73: green
    money = client.post(
        f"/monitoring/projects/{project.id}/spent", data={"version": str(v + 2), "spent": "50.0000"}, headers=HX
    )
    assert money.status_code == 200 and 'id="spending-light"' in money.text and 'data-light="green"' in money.text
    # a bad value: 422, the message at the field, nothing stored
    bad = client.post(
        f"/monitoring/projects/{project.id}/indicators/{ind.id}",
        data={"version": str(v + 3), "progress": "很多"},
        headers=HX,
    )
    assert bad.status_code == 422 and f'id="msg-progress-{ind.id}"' in bad.text and "请填写数字" in bad.text
    # a stale version: 409 in the toast
    stale = client.post(
        f"/monitoring/projects/{project.id}/indicators/{ind.id}",
        data={"version": str(v), "progress": "30人次"},
        headers=HX,
    )
    assert stale.status_code == 409 and stale.headers.get("HX-Retarget") == "#toast"
    line = monitoring.report_line(session=session, principal=w["unit"], project_id=project.id)
    assert line.indicators[0].entry.progress == "20人次" and line.report.spent == Decimal("50")


def test_tenancy_another_unit_can_neither_see_nor_write(client, session):
    w = planted(session)
    factories.login(client, "zx")
    mine = w["projects"]["设备运维"]
    ind = indicator_of(session, mine.id)
    assert client.get(f"/monitoring/projects/{mine.id}").status_code == 404
    wrote = client.post(f"/monitoring/projects/{mine.id}/indicators/{ind.id}", data={"version": "2", "progress": "1次"})
    assert wrote.status_code == 404
    overview = client.get(f"/monitoring?year={YEAR}")
    assert overview.status_code == 200 and "设备运维" not in overview.text and "别人的项目" in overview.text


def test_the_overview_counts_lights_draws_the_chart_filters_reds_and_downloads(client, session):
    planted(session)
    factories.login(client, "gxj")
    page = client.get(f"/monitoring?year={YEAR}")
    assert page.status_code == 200
    for name, (_, _, _, light) in PLANTED.items():
        assert re.search(rf'data-project="{name}" data-light="{light}"', page.text), name
    assert "<svg" in page.text and "各单位目标进度亮灯" in page.text and "时间进度 49.73%" in page.text
    assert 'data-count="red">1<' in page.text
    reds = client.get(f"/monitoring?year={YEAR}&light=red")
    assert 'data-project="业务培训"' in reds.text and 'data-project="设备运维"' not in reds.text
    xlsx = client.get(f"/monitoring/export.xlsx?year={YEAR}&light=red")
    assert xlsx.status_code == 200
    book = load_workbook(io.BytesIO(xlsx.content))
    projects = [row for row in book["项目"].iter_rows(min_row=2, values_only=True)]
    assert [r[3] for r in projects] == ["业务培训"] and projects[0][4] == "红灯"
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row]
    assert not [c for c in cells if c.data_type in ("f", "e")]
    assert client.get(f"/monitoring?year={YEAR}&light=purple").status_code == 422


def test_the_self_evaluation_shows_the_monitoring_value_beside_the_actual(client, session):
    w = planted(session)
    factories.login(client, "jcz")
    from sqlmodel import select

    from app.models import SelfEvaluation

    project = w["projects"]["监测报告编制"]
    ev = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()
    page = client.get(f"/evaluations/{ev.id}")
    assert page.status_code == 200
    assert "运行监控（截至 6月30日）：38份" in page.text and 'data-light="yellow"' in page.text


def test_fragment_or_full_page_and_read_only_for_reviewers(client, session):
    w = planted(session)
    factories.login(client, "gxj")
    project = w["projects"]["监测报告编制"]
    full = client.get(f"/monitoring/projects/{project.id}")
    fragment = client.get(f"/monitoring/projects/{project.id}", headers=HX)
    assert full.status_code == fragment.status_code == 200
    assert "<html" in full.text and "<html" not in fragment.text and 'id="monitoring"' in fragment.text
    assert full.headers["vary"] == "HX-Request"
    # the department reads the unit's figures and lights, and cannot write them
    assert "data-autosave" not in full.text and "38份" in full.text and 'data-light="yellow"' in full.text
    ind = indicator_of(session, project.id)
    refused = client.post(
        f"/monitoring/projects/{project.id}/indicators/{ind.id}", data={"version": "2", "progress": "90份"}
    )
    assert refused.status_code == 403


def test_the_download_keeps_money_exact_and_numeric(client, session):
    w = planted(session, fill=False)
    project = w["projects"]["设备运维"]
    line = monitoring.report_line(session=session, principal=w["unit"], project_id=project.id)
    monitoring.save(
        session=session, principal=w["unit"], project_id=project.id, version=line.version, spent="56.022398"
    )
    factories.login(client, "czj")
    book = load_workbook(io.BytesIO(client.get(f"/monitoring/export.xlsx?year={YEAR}").content))
    header = [c.value for c in book["项目"][1]]
    row = next(r for r in book["项目"].iter_rows(min_row=2) if r[3].value == "设备运维")
    spent = row[header.index("执行数（万元）")]
    assert spent.data_type == "n" and Decimal(str(spent.value)) == Decimal("56.022398")
    share = row[header.index("支出进度")]
    assert (
        share.data_type == "n" and share.number_format == "0.00%" and Decimal(str(share.value)) == Decimal("0.560224")
    )
