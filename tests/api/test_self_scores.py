"""A unit enters its own score on a row through the API (issue 10 item 10): validated, stored,
counted, shown beside the computed one in the API, the catalog, the form, the print and the export."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlmodel import select

from app.models import Indicator, SelfEvaluation
from app.services import templates
from tests import factories
from tests.services.evaluation_data import project_with, two_units

TARGETS = [
    ("output", "预算执行率", "100%"),  # actual 83.5% → 83.5/100 × 50 = 41.75
    ("outcome", "大厅运行正常率", "100%"),
    ("satisfaction", "服务对象满意度", "≥90%"),
]


@pytest.fixture
def setup(client, session):
    _, mine, _ = two_units(session)
    project = project_with(session, mine, TARGETS)
    factories.login(client, "jcz")
    evaluation = session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()
    ids = {i.name: i.id for i in session.exec(select(Indicator).where(Indicator.project_id == project.id))}
    return client, evaluation.id, ids


def put(client, eid, results, **extra):
    version = client.get(f"/api/v1/self-evaluations/{eid}").json()["version"]
    return client.put(f"/api/v1/self-evaluations/{eid}", json={"version": version, "results": results, **extra})


def fill(client, eid, ids, **row):
    return put(
        client,
        eid,
        [
            {"indicator_id": ids["预算执行率"], "actual": "83.5%", "deviation_reason": "尾款未付", **row},
            {"indicator_id": ids["大厅运行正常率"], "actual": "100%"},
            {"indicator_id": ids["服务对象满意度"], "actual": "95%"},
        ],
        spent="100",
    )


def test_a_self_score_counts_and_the_computed_one_is_kept_beside_it(setup):
    client, eid, ids = setup
    got = fill(client, eid, ids, self_score="45", self_score_reason="按合同进度支付，视同完成")
    assert got.status_code == 200, got.text
    row = next(i for i in got.json()["indicators"] if i["name"] == "预算执行率")
    assert (row["score"], row["self_score"]) == ("41.75", "45.00")
    assert row["self_score_reason"] == "按合同进度支付，视同完成"
    assert "self_scored" in row["flags"] and "self_score_differs" in row["flags"]
    assert got.json()["total_score"] == "95.00"  # 10 + 45 + 30 + 10, not 91.75
    catalog = client.get("/api/v1/indicators?year=2024").json()["items"]
    cat = next(i for i in catalog if i["name"] == "预算执行率")
    assert (cat["score"], cat["self_score"], cat["effective_score"]) == ("41.75", "45.00", "45.00")
    # cleared: back to the computed score
    got = fill(client, eid, ids, self_score="", self_score_reason="")
    row = next(i for i in got.json()["indicators"] if i["name"] == "预算执行率")
    assert row["self_score"] is None and got.json()["total_score"] == "91.75"


@pytest.mark.parametrize(
    "row, field, words",
    [
        ({"self_score": "45"}, "self_score_reason", "说明理由"),
        ({"self_score": "51", "self_score_reason": "r"}, "self_score", "0 至 50.00 分之间"),
        ({"self_score": "-1", "self_score_reason": "r"}, "self_score", "0 至 50.00 分之间"),
        ({"self_score": "四十", "self_score_reason": "r"}, "self_score", "应为数字"),
        ({"self_score": "45.125", "self_score_reason": "r"}, "self_score", "2 位小数"),
    ],
)
def test_a_bad_self_score_is_refused_at_its_field_and_nothing_is_written(setup, session, row, field, words):
    client, eid, ids = setup
    got = fill(client, eid, ids, **row)
    assert got.status_code == 422, got.text
    errors = got.json()["errors"]
    assert any(e["field"].endswith(field) and words in e["message"] for e in errors), errors
    assert client.get(f"/api/v1/self-evaluations/{eid}").json()["status"] == "not_started"


def test_a_template_can_forbid_self_scores(setup, session):
    client, eid, ids = setup
    templates.new_version(session=session, name="national-2020", changes={"allow_self_scores": False})
    from app.services import evaluations

    evaluations.rescore(session=session, evaluation_id=eid)
    got = fill(client, eid, ids, self_score="45", self_score_reason="r")
    assert got.status_code == 422
    assert "不允许单位自评得分" in got.text


def test_the_form_the_print_and_the_export_show_both(setup):
    client, eid, ids = setup
    assert fill(client, eid, ids, self_score="45", self_score_reason="视同完成").status_code == 200
    form = client.get(f"/evaluations/{eid}").text
    assert "单位自评（计算得分 41.75）" in form and 'name="self_score"' in form
    sheet = client.get(f"/evaluations/{eid}/print").text
    assert "（单位自评；计算 41.75）" in sheet and "自评理由：视同完成" in sheet
    book = load_workbook(io.BytesIO(client.get(f"/evaluations/{eid}/export.xlsx").content))
    cells = [str(c.value) for row in book.active.iter_rows() for c in row if c.value is not None]
    assert any("单位自评得分 45.00，计算得分 41.75；自评理由：视同完成" in c for c in cells)
    row = next(r for r in book.active.iter_rows() if r[2].value == "预算执行率")
    assert Decimal(str(row[6].value)) == 45  # 得分 column: the score that counts
