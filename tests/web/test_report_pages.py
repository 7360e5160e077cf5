"""A project's 自评报告 (issue 12 §3): written section by section with autosave, generated as .docx
(opened here with python-docx) and as PDF by WeasyPrint (rendered to PNG under test-artifacts/)."""

from __future__ import annotations

import io
from decimal import Decimal
from pathlib import Path

from sqlmodel import select

from app.domain.report_document import SIGN_OFF
from app.models import SelfEvaluation
from tests import factories
from tests.services.evaluation_data import STANDARD, project_with, two_units

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


def _filled(client, session):
    _, mine, _ = two_units(session)
    project = project_with(session, mine, STANDARD, budget=Decimal("57550"), name="无线电监测能力建设")
    eid = session.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()
    factories.login(client, "jcz")
    body = client.get(f"/api/v1/self-evaluations/{eid}").json()
    ind = {i["name"]: i["id"] for i in body["indicators"]}
    saved = client.put(
        f"/api/v1/self-evaluations/{eid}",
        json={
            "version": body["version"],
            "spent": "56022.2398",
            "results": [
                {"indicator_id": ind["监测报告"], "actual": "12份"},
                {"indicator_id": ind["监测能力"], "qualitative_level": "achieved"},
                {"indicator_id": ind["服务对象满意度"], "actual": "96%"},
            ],
        },
    )
    assert saved.status_code == 200, saved.text
    return eid, saved.json()


def _save(client, eid, version, **fields):
    return client.post(
        f"/evaluations/{eid}/report/save", data={"version": version, **fields}, headers={"HX-Request": "true"}
    )


def _version(page_text: str) -> int:
    marker = 'id="ev-version" name="version" value="'
    return int(page_text.split(marker, 1)[1].split('"', 1)[0])


def test_sections_save_as_typed_and_a_stale_version_is_refused(client, session):
    eid, _ = _filled(client, session)
    page = client.get(f"/evaluations/{eid}/report")
    assert page.status_code == 200
    for heading in (
        "一、基本情况",
        "二、自评情况",
        "（一）自评分数",
        "（二）使用绩效",
        "（三）存在的问题",
        "三、改进意见",
    ):
        assert heading in page.text
    assert 'data-autosave="/evaluations/' in page.text and "56022.2398" in page.text
    version = _version(page.text)
    first = _save(client, eid, version, basic="项目年初预算 57550 万元。\n全年完成监测任务。")
    assert first.status_code == 200 and 'id="state-basic"' in first.text and "已保存" in first.text
    assert "<html" not in first.text  # only the companions: the textarea the user is in is not sent back
    version2 = _version(first.text)
    assert version2 == version + 1
    stale = _save(client, eid, version, problems="旧版本的修改")
    assert stale.status_code == 409
    bad = _save(client, eid, version2, report_date="2026年3月")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text and 'id="msg-report-report_date"' in bad.text
    _save(client, eid, version2, filled_by="张三", phone="020-12345678", report_date="2026-03-31")
    again = client.get(f"/evaluations/{eid}/report")
    assert "全年完成监测任务。" in again.text and 'value="张三"' in again.text


def test_the_docx_has_the_numbered_headings_the_tables_the_figures_and_the_sign_off(client, session):
    import docx

    eid, body = _filled(client, session)
    version = _version(client.get(f"/evaluations/{eid}/report").text)
    _save(client, eid, version, problems="部分指标设置偏低。", filled_by="张三", phone="020-12345678")
    response = client.get(f"/evaluations/{eid}/report.docx")
    assert response.status_code == 200 and "filename*=UTF-8''" in response.headers["content-disposition"]
    document = docx.Document(io.BytesIO(response.content))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == [
        "一、基本情况",
        "二、自评情况",
        "（一）自评分数",
        "（二）使用绩效",
        "（三）存在的问题",
        "三、改进意见",
        "附件：项目支出绩效自评表",  # 两表一报告: the 自评表 travels with the report
    ]
    texts = [p.text for p in document.paragraphs]
    assert "部分指标设置偏低。" in texts
    for label in SIGN_OFF:
        assert any(t.startswith(f"{label}：") for t in texts), label
    assert (
        "填报单位（盖章）：广州市无线电监测站" in texts
        and "填表人：张三" in texts
        and "联系电话：020-12345678" in texts
    )
    basic, scores, indicators, funds, goal, form = document.tables
    assert [c.text for c in funds.rows[1].cells][1:3] == ["57550", "56022.2398"]
    assert goal.rows[1].cells[0].text == "完成年度监测任务"
    assert form.rows[-1].cells[0].text == "总分" and form.rows[-1].cells[6].text == body["total_score"]
    assert basic.rows[1].cells[4].text == "57550" and basic.rows[1].cells[5].text == "56022.2398"
    assert basic.rows[1].cells[6].text == f"{body['execution_rate']}%"
    assert scores.rows[-2].cells[0].text == "合计" and scores.rows[-2].cells[2].text == body["total_score"]
    assert [r.cells[2].text for r in indicators.rows[1:]] == ["监测报告", "监测能力", "服务对象满意度"]
    assert document.sections[0].page_width < document.sections[0].page_height  # A4 portrait
    run = next(p for p in document.paragraphs if p.text == "部分指标设置偏低。").runs[0]
    assert run.font.name == "仿宋_GB2312"


def test_the_pdf_comes_from_the_print_view_and_is_rendered_to_png(client, session):
    import pypdf
    import pypdfium2

    eid, body = _filled(client, session)
    version = _version(client.get(f"/evaluations/{eid}/report").text)
    _save(client, eid, version, basic="本项目年初预算 57550 万元，全年执行 56022.2398 万元。", filled_by="张三")
    printed = client.get(f"/evaluations/{eid}/report/print")
    assert printed.status_code == 200 and "一、基本情况" in printed.text and "/static/report-print.css" in printed.text
    response = client.get(f"/evaluations/{eid}/report.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert abs(float(width) - 595.3) < 1 and abs(float(height) - 841.9) < 1  # A4 portrait, in points
    text = "".join(page.extract_text() for page in reader.pages)
    for words in ("一、基本情况", "三、改进意见", "56022.2398", "填报单位（盖章）", "填表人：张三", "联系电话", "日期"):
        assert words in text.replace(" ", ""), words
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = pypdfium2.PdfDocument(response.content)
    for n in range(len(pdf)):
        image = pdf[n].render(scale=1.5).to_pil()
        image.save(ARTIFACTS / f"report-project-page{n + 1}.png")
    assert (ARTIFACTS / "report-project-page1.png").stat().st_size > 10_000


def test_another_unit_cannot_read_or_write_the_report(client, session):
    eid, _ = _filled(client, session)
    client.cookies.clear()
    factories.login(client, "zx")
    assert client.get(f"/evaluations/{eid}/report").status_code == 404
    assert client.get(f"/evaluations/{eid}/report.docx").status_code == 404
    assert _save(client, eid, 0, basic="别人的报告").status_code == 404


def test_the_evaluation_form_print_carries_the_reports_sign_off(client, session):
    eid, _ = _filled(client, session)
    version = _version(client.get(f"/evaluations/{eid}/report").text)
    _save(client, eid, version, filled_by="张三", phone="020-12345678", report_date="2026-03-31")
    sheet = client.get(f"/evaluations/{eid}/print")
    assert sheet.status_code == 200
    for words in (
        "填报单位（盖章）：广州市无线电监测站",
        "填表人：张三",
        "联系电话：020-12345678",
        "日期：2026年03月31日",
    ):
        assert words in sheet.text, words
