"""Scores kept, shown, printed and exported at the template's precision (issue 10 item 11).

廊坊市食品工程学校's 2019 form (tests/data/real/published_self_evaluations.json) prints integer
scores: 执行率 86.20% is scored 9, a row at 8.62 is printed 9, the total 98.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from openpyxl import load_workbook
from sqlmodel import select

from app.models import IndicatorResult, Project, ScoringTemplate, SelfEvaluation, Unit
from app.services import imports, templates
from tests import factories
from tests.services.test_published_self_evaluations import form_csv

DATA = Path(__file__).resolve().parents[1] / "data" / "real" / "published_self_evaluations.json"
LANGFANG = next(f for f in json.loads(DATA.read_text(encoding="utf-8"))["forms"] if f["id"] == "he-langfang-2019")


def filled(client, session, places: int | None = 0):
    if places is not None:
        templates.new_version(session=session, name="national-2020", changes={"rounding_places": places})
    report = imports.import_file(session=session, data=form_csv(LANGFANG), filename="lf.csv", year=2019)
    assert report.ok, report.errors
    unit = session.exec(select(Unit)).one()
    factories.user(session, "lf", "unit", unit_row=unit)
    factories.login(client, "lf")
    eid = session.exec(select(SelfEvaluation.id)).one()
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    results = [
        {"indicator_id": i["id"], "actual": row["actual"], "deviation_reason": row.get("reason")}
        for i, row in zip(body["indicators"], LANGFANG["rows"], strict=True)
    ]
    got = client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={"version": body["version"], "spent": LANGFANG["spent"], "results": results},
    )
    assert got.status_code == 200, got.text
    return eid, got.json()


def test_the_unit_api_shows_scores_at_the_templates_precision(client, session):
    eid, data = filled(client, session)
    # scores at the template's precision; the rate is a percentage, in the API's one rate format
    # (exact, at least two places: the same as /api/v1/projects gives)
    assert (data["execution_rate"], data["execution_score"], data["total_score"]) == ("86.00", "9", "98")
    first = data["indicators"][0]
    assert (first["weight"], first["score"]) == ("10", "9")
    # stored at that precision, and the evaluation says which
    evaluation = session.get(SelfEvaluation, eid)
    session.refresh(evaluation)
    assert evaluation.score_places == 0 and evaluation.total_score == 98
    assert {r.score_places for r in session.exec(select(IndicatorResult))} == {0}


def test_the_catalog_lists_and_their_exports_follow_the_precision(client, session):
    filled(client, session)
    factories.user(session, "cz", "finance")
    factories.login(client, "cz")
    projects = client.get("/api/v1/projects?year=2019").json()["items"]
    assert projects[0]["total_score"] == "98"
    rows = client.get("/api/v1/indicators?year=2019").json()["items"]
    assert [(r["weight"], r["score"], r["effective_score"]) for r in rows][:2] == [("10", "9", "9"), ("10", "10", "10")]
    text = client.get("/api/v1/indicators?year=2019&format=csv").content.decode("utf-8-sig")
    first = next(r for r in csv.DictReader(io.StringIO(text)) if r["三级指标"] == "工程资金金额")
    assert (first["分值"], first["计算得分"]) == ("10", "9")
    detail = client.get(f"/api/v1/projects/{session.exec(select(Project.id)).one()}").json()
    assert detail["execution_score"] == "9" and detail["indicators"][0]["score"] == "9"


def test_two_places_stay_the_default(client, session):
    _, data = filled(client, session, places=None)
    assert (data["execution_score"], data["total_score"]) == ("8.62", "97.24")
    assert data["indicators"][0]["score"] == "8.62" and data["indicators"][0]["weight"] == "10.00"


def test_the_form_the_print_and_the_export_follow_the_precision(client, session):
    eid, _ = filled(client, session)
    sheet = client.get(f"/evaluations/{eid}/print").text
    assert '<td class="num strong">98</td>' in sheet and "9.00" not in sheet and "86%" in sheet
    form = client.get(f"/evaluations/{eid}").text
    assert '<strong id="total-score">98</strong>' in form
    book = load_workbook(io.BytesIO(client.get(f"/evaluations/{eid}/export.xlsx").content))
    ws = book.active
    assert ws["I6"].number_format == "0"
    row = next(r for r in ws.iter_rows() if r[2].value == "工程资金金额")
    assert row[6].number_format == "0" and float(row[6].value) == 9


def test_the_template_page_sets_the_precision_as_a_new_version(client, session):
    factories.user(session, "adm", "admin")
    factories.login(client, "adm")
    page = client.get("/admin/scoring")
    assert page.status_code == 200 and "national-2020@1" in page.text and "得分保留的小数位数" in page.text
    refused = client.post("/admin/scoring", data={"rounding_places": "3"})
    assert refused.status_code == 422 and "0 至 2" in refused.text
    saved = client.post(
        "/admin/scoring",
        data={"rounding_places": "0", "given_weights_absolute": "on", "allow_self_scores": "on"},
        follow_redirects=False,
    )
    assert saved.status_code == 303 and "national-2020@2" in saved.headers["location"]
    current = session.exec(select(ScoringTemplate).where(ScoringTemplate.is_current)).one()
    assert current.version == 2 and current.settings["rounding_places"] == 0
    unit_user = factories.user(session, "u1", "unit", unit_row=factories.unit(session, "某单位"))
    assert unit_user is not None
    factories.login(client, "u1")
    assert client.get("/admin/scoring").status_code in (403, 404)
