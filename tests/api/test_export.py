"""format=csv|xlsx on every list endpoint: streamed by keyset pages, scoped, exact, Excel-friendly."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from app.api import export
from tests.api.read_data import SECRET_MARK, YEAR, build

LISTS = [
    "/api/v1/units",
    "/api/v1/projects",
    "/api/v1/indicators",
    f"/api/v1/stats/units?year={YEAR}",
    f"/api/v1/stats/departments?year={YEAR}",
]


@pytest.fixture
def world(session):
    return build(session)


def with_format(url: str, fmt: str) -> str:
    return f"{url}{'&' if '?' in url else '?'}format={fmt}"


def read_csv(response) -> list[list[str]]:
    assert response.content.startswith("\ufeff".encode()), "CSV needs a UTF-8 BOM for Excel"
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_every_list_exports_csv_with_the_same_rows_as_json(client, world, monkeypatch):
    monkeypatch.setattr(export, "PAGE_SIZE", 2)  # several keyset pages even for this small data set
    for url in LISTS:
        items = client.get(url, headers=world.auth("finance")).json()["items"]
        response = client.get(with_format(url, "csv"), headers=world.auth("finance"))
        assert response.status_code == 200, url
        assert response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        header, *rows = read_csv(response)
        assert len(rows) == len(items), url
        assert [int(r[0]) for r in rows] == [next(iter(i.values())) for i in items], url
        assert header[0].endswith("ID") and "主管部门" in header, url


def test_project_csv_is_exact_and_chinese(client, world):
    response = client.get("/api/v1/projects?format=csv&year=2025", headers=world.auth("finance"))
    header, first, *_ = read_csv(response)
    row = dict(zip(header, first, strict=True))
    assert row["项目名称"] == "无线电监测设备购置经费" and row["单位名称"] == "广州市无线电监测站"
    assert row["全年预算数（万元）"] == "57550.00" and row["全年执行数（万元）"] == "56022.2398"
    assert row["预算执行率（%）"] == "97.35" and row["总分"] == "96.80" and row["等级"] == "优"


def test_export_follows_filters_and_scope(client, world):
    rows = read_csv(client.get("/api/v1/projects?format=csv&department=402", headers=world.auth("finance")))[1:]
    assert len(rows) == 2 and all(SECRET_MARK in r[3] for r in rows)
    for url in LISTS:
        response = client.get(with_format(url, "csv"), headers=world.auth("unit_a1"))
        assert response.status_code == 200 and SECRET_MARK not in response.content.decode("utf-8-sig"), url
    rows = read_csv(client.get("/api/v1/indicators?format=csv", headers=world.auth("unit_a1")))[1:]
    assert len(rows) == 3


def test_stats_csv_flattens_counts_into_columns(client, world):
    header, *rows = read_csv(client.get(f"/api/v1/stats/units?year={YEAR}&format=csv", headers=world.auth("finance")))
    assert header[:3] == ["单位ID", "单位编码", "单位名称"]
    assert "等级·优" in header and "按状态·草稿" in header
    first = dict(zip(header, rows[0], strict=True))
    assert first["等级·优"] == "1" and first["平均分"] == "86.15" and first["全年执行数合计（万元）"] == "56102.2398"


def test_xlsx_export_opens_with_numbers_as_numbers(client, world):
    response = client.get("/api/v1/projects?format=xlsx&year=2025", headers=world.auth("finance"))
    assert response.status_code == 200
    assert response.headers["content-type"] == export.XLSX_TYPE
    sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
    header, first, *rest = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert len(rest) == 4
    row = dict(zip(header, first, strict=True))
    assert row["项目名称"] == "无线电监测设备购置经费"
    assert Decimal(str(row["全年预算数（万元）"])) == Decimal("57550")
    assert Decimal(str(row["全年执行数（万元）"])) == Decimal("56022.2398")
    assert row["总分"] == pytest.approx(96.8)


def test_bad_input_with_a_format_is_still_json(client, world):
    for url in [
        "/api/v1/projects?format=csv&q=%00",
        "/api/v1/projects?format=csv&status=nope",
        "/api/v1/stats/units?format=xlsx",
    ]:
        response = client.get(url, headers=world.auth("finance"))
        assert response.status_code == 422 and response.json()["error"] == "validation_failed", url
    response = client.get("/api/v1/projects?format=csv")
    assert response.status_code == 401 and response.json()["error"] == "not_authenticated"
