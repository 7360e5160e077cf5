"""Search by project name or code on the unit home, in the review queue and in the API (one query,
queries.project_matches), and the queue and the overview downloaded from their pages as the same
xlsx the API exports."""

from __future__ import annotations

import html
import io
import re

import pytest
from openpyxl import load_workbook

from tests import factories
from tests.api.read_data import YEAR, build


@pytest.fixture
def world(session):
    w = build(session)
    factories.user(session, "s_unit", "unit", unit_row=w.a1)
    factories.user(session, "s_fin", "finance")
    return w


def _as(client, username: str):
    client.cookies.clear()
    factories.login(client, username)
    return client


def _rows(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content)).active
    return [[c.value for c in row] for row in sheet.iter_rows()]


def _link(page: str, ident: str) -> str:
    return html.unescape(re.search(rf'href="([^"]+)" id="{ident}"', page).group(1))


def test_the_unit_home_finds_projects_by_name_or_code(client, world):
    _as(client, "s_unit")
    everything = client.get(f"/?year={YEAR}").text
    assert everything.count('<tr id="project-') == 2 and 'id="home-q"' in everything
    by_name = client.get(f"/?year={YEAR}&q=运维").text
    assert by_name.count('<tr id="project-') == 1 and "监测站运维经费" in by_name
    by_code = client.get(f"/?year={YEAR}&q=p-P1").text  # a code, in any case
    assert by_code.count('<tr id="project-') == 1 and "无线电监测设备购置经费" in by_code
    none = client.get(f"/?year={YEAR}&q=不存在的项目").text
    assert '<tr id="project-' not in none and "没有名称或编码含“不存在的项目”的项目" in none


def test_the_queue_finds_by_name_or_code_and_the_api_answers_the_same(client, world):
    _as(client, "s_fin")
    page = client.get(f"/reviews?year={YEAR}&status=all&q=购置").text
    assert "无线电监测设备购置经费" in page and "监测站运维经费" not in page
    assert 'name="q" value="购置"' in page
    api = client.get(f"/api/v1/review-queue?year={YEAR}&status=all&q=购置").json()
    assert [i["project"] for i in api["items"]] == ["无线电监测设备购置经费"]
    by_code = client.get(f"/api/v1/review-queue?year={YEAR}&status=all&q=P-p2").json()
    assert [i["project_code"] for i in by_code["items"]] == ["P-p2"]
    # % and _ are letters, not wildcards ("购置经费_100%" is a project without an evaluation row)
    assert client.get(f"/api/v1/review-queue?year={YEAR}&status=all&q=%25").json()["total"] == 0
    projects = client.get(f"/api/v1/projects?year={YEAR}&q=P-p3").json()["items"]
    assert [p["name"] for p in projects] == ["产业发展研究经费"]


def test_the_queue_page_downloads_the_apis_export_of_what_it_shows(client, world):
    _as(client, "s_fin")
    page = client.get(f"/reviews?year={YEAR}&status=all&q=经费").text
    url = _link(page, "queue-download")
    assert url.startswith("/api/v1/review-queue?") and "format=xlsx" in url and "q=" in url
    download = client.get(url)
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("application/vnd.openxmlformats")
    rows = _rows(download.content)
    head = rows[0]
    assert head[:3] == ["自评编号", "项目编码", "项目名称"]
    shown = re.findall(r'<tr id="queue-row-(\d+)"', page)
    assert sorted(str(r[0]) for r in rows[1:]) == sorted(shown) and len(shown) == 3
    assert all("经费" in r[2] for r in rows[1:])
    # the same rows as the API's JSON, in its order
    api = client.get(url.replace("format=xlsx", "format=json")).json()["items"]
    assert [r[0] for r in rows[1:]] == [i["id"] for i in api]
    scores = {r[2]: r[head.index("总分")] for r in rows[1:]}
    assert scores["无线电监测设备购置经费"] == pytest.approx(96.8)  # a number, not text


def test_the_overview_page_downloads_the_apis_statistics(client, world):
    _as(client, "s_fin")
    page = client.get(f"/overview?year={YEAR}").text
    for ident, first in (("overview-units-xlsx", "单位ID"), ("overview-departments-xlsx", "主管部门ID")):
        url = _link(page, ident)
        assert url.endswith("format=xlsx") and url.startswith("/api/v1/stats/")
        download = client.get(url)
        assert download.status_code == 200
        rows = _rows(download.content)
        assert rows[0][0] == first and len(rows) > 1
