"""A 专项资金's 自评报告 (issue 12 §3) with its 自评表 and 评分表 (两表一报告): the seed fund written up,
generated as .docx (opened here with python-docx) and as PDF (rendered to PNG under test-artifacts/)."""

from __future__ import annotations

import io
from pathlib import Path

from app.domain.report_document import SIGN_OFF
from tests import factories
from tests.funds.seed import enter

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
HX = {"HX-Request": "true"}
HEADINGS = [
    "一、基本情况",
    "二、自评情况",
    "（一）自评分数",
    "（二）专项资金使用绩效",
    "（三）专项资金使用绩效存在的问题",
    "三、改进意见",
    "附件1：专项资金绩效自评表",
    "附件2：专项资金绩效评分表",
]


def _version(page_text: str) -> int:
    marker = 'id="ev-version" name="version" value="'
    return int(page_text.split(marker, 1)[1].split('"', 1)[0])


def _save(client, fund_id, version, **fields):
    return client.post(f"/funds/{fund_id}/report/save", data={"version": version, **fields}, headers=HX)


def _seed(client, session):
    fund = enter(session)
    factories.user(session, "czj", "finance")
    factories.login(client, "czj")
    return fund.id


def test_the_fund_report_page_saves_sections_as_typed_and_refuses_a_stale_version(client, session):
    fid = _seed(client, session)
    assert f'href="/funds/{fid}/report"' in client.get(f"/funds/{fid}").text
    page = client.get(f"/funds/{fid}/report")
    assert page.status_code == 200
    for heading in HEADINGS[:6]:
        assert heading in page.text, heading
    assert f'data-autosave="/funds/{fid}/report/save"' in page.text
    assert "56022.2398" in page.text and "96.8" in page.text
    version = _version(page.text)
    first = _save(client, fid, version, basic="2019年共获得专项资金 57970 万元。\n其中 420 万元不纳入评价。")
    assert first.status_code == 200 and "已保存" in first.text and "<html" not in first.text
    assert _version(first.text) == version + 1
    assert _save(client, fid, version, problems="旧版本").status_code == 409
    bad = _save(client, fid, version + 1, report_date="2020年4月")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text
    again = client.get(f"/funds/{fid}/report").text
    assert "其中 420 万元不纳入评价。" in again


def test_the_fund_docx_has_the_sections_the_tables_the_figures_and_the_two_forms(client, session):
    import docx

    fid = _seed(client, session)
    version = _version(client.get(f"/funds/{fid}/report").text)
    saved = _save(
        client,
        fid,
        version,
        problems="因素法切块下达资金部分地市支出进度慢于预期。",
        filled_by="张三",
        phone="020-83133333",
        report_date="2020-04-30",
    )
    assert saved.status_code == 200, saved.text
    response = client.get(f"/funds/{fid}/report.docx")
    assert response.status_code == 200 and "filename*=UTF-8''" in response.headers["content-disposition"]
    document = docx.Document(io.BytesIO(response.content))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings == HEADINGS
    texts = [p.text for p in document.paragraphs]
    assert "因素法切块下达资金部分地市支出进度慢于预期。" in texts
    for label in SIGN_OFF:  # the report and each of its two forms carry the sign-off
        assert sum(t.startswith(f"{label}：") for t in texts) == 3, label
    assert "填报单位（盖章）：广东省工业和信息化厅" in texts and "填表人：张三" in texts
    assert "联系电话：020-83133333" in texts and "日期：2020-04-30" in texts

    tables = {t.rows[0].cells[0].text + "|" + t.rows[0].cells[1].text: t for t in document.tables}
    basic = document.tables[0]
    facts = {r.cells[0].text: r.cells[1].text for r in basic.rows[1:]}
    assert facts["本次评价涉及资金（万元）"] == "57550" and facts["实际支出（万元）"] == "56022.2398"
    assert facts["资金支出率"] == "97.35%" and facts["结余（万元）"] == "1527.7602"
    allocation = document.tables[1]
    assert [c.text for c in allocation.rows[1].cells][:3] == ["电子信息工业处", "处室", "2240"]

    scores = document.tables[2]
    rows = [[c.text for c in r.cells] for r in scores.rows]
    assert ["投入", "", "20.0", "19.5", "", ""] == rows[1]
    by_item = {r[1].strip(): r for r in rows if r[1]}
    assert by_item["资金落实"][2:4] == ["8.0", "7.5"]
    assert "信软处部分调剂资金2020年5月才下达完毕" in by_item["资金落实"][5]
    assert by_item["资金支出率"][3] == "5.8" and "97.35% × 6.0" in by_item["资金支出率"][4]
    assert by_item["效率性"][3] == "23.0" and by_item["效率性"][5].count("扣0.5分") == 4
    assert rows[-1][0] == "合计" and rows[-1][2:4] == ["100.0", "96.8"] and rows[-1][5] == "评价等级：优"
    divisions = document.tables[3]
    assert [r.cells[1].text for r in divisions.rows[1:]] == ["100", "99", "96.2"]

    spending = document.tables[4]
    last = [c.text for c in spending.rows[-1].cells]
    assert last == ["合计", "", "57550", "56022.2398", "1527.7602", "97.35%"]
    checks = next(t for t in document.tables if t.rows[0].cells[-1].text == "提示")
    assert any("报告申报 97.42，按资金分配重新计算为 97.35" in r.cells[2].text for r in checks.rows)

    # 两表: the 自评表 (money, scores) and the 评分表 (item, maximum, score, deduction, reason)
    form_info = next(t for t in document.tables if len(t.columns) == 4 and t.rows[0].cells[3].text == "评分模板")
    assert form_info.rows[1].cells[3].text == "广东省专项资金绩效自评（投入 / 过程 / 产出 / 效益）"
    form_money = next(t for t in document.tables if t.rows[0].cells[0].text == "资金总额")
    assert [c.text for c in form_money.rows[1].cells][2] == "56022.2398"
    form_scores = next(t for t in document.tables if [c.text for c in t.rows[0].cells] == ["一级指标", "分值", "得分"])
    assert [c.text for c in form_scores.rows[-2].cells] == ["总分", "100.0", "96.8"]
    sheet = document.tables[-1]
    assert [c.text for c in sheet.rows[0].cells] == ["一级指标", "二级指标", "分值", "得分", "扣分", "扣分理由"]
    efficiency = next(r for r in sheet.rows if r.cells[1].text == "效率性")
    assert [c.text for c in efficiency.cells][2:5] == ["25.0", "23.0", "2"]
    assert "部分地市资金划拨支付进度慢于工作要求（时效指标）" in efficiency.cells[5].text
    assert tables  # every table has a header row
    assert document.sections[0].page_width < document.sections[0].page_height  # A4 portrait


def test_the_fund_pdf_comes_from_the_print_view_and_is_rendered_to_png(client, session):
    import pypdf
    import pypdfium2

    fid = _seed(client, session)
    version = _version(client.get(f"/funds/{fid}/report").text)
    _save(client, fid, version, basic="本次绩效评价涉及专项资金 57550 万元。", filled_by="张三", phone="020-83133333")
    printed = client.get(f"/funds/{fid}/report/print")
    assert printed.status_code == 200 and "附件2：专项资金绩效评分表" in printed.text
    response = client.get(f"/funds/{fid}/report.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert abs(float(width) - 595.3) < 1 and abs(float(height) - 841.9) < 1  # A4 portrait
    text = "".join(page.extract_text() for page in reader.pages).replace(" ", "")
    for words in ("一、基本情况", "（二）专项资金使用绩效", "56022.2398", "96.8", "填报单位（盖章）", "填表人：张三"):
        assert words in text, words
    assert "专项资金绩效自评表" in text and "专项资金绩效评分表" in text
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = pypdfium2.PdfDocument(response.content)
    for n in range(len(pdf)):
        pdf[n].render(scale=1.2).to_pil().save(ARTIFACTS / f"report-fund-page{n + 1}.png")
    assert (ARTIFACTS / "report-fund-page1.png").stat().st_size > 10_000


def test_a_recipient_unit_cannot_read_the_report_and_a_submitted_one_is_read_only(client, session):
    fid = _seed(client, session)
    unit = factories.unit(session, "广州市某用款单位")
    factories.user(session, "yk", "unit", unit_row=unit)
    client.cookies.clear()
    factories.login(client, "yk")
    assert client.get(f"/funds/{fid}/report").status_code == 404
    assert client.get(f"/funds/{fid}/report.docx").status_code == 404
    assert _save(client, fid, 0, basic="别人的报告").status_code == 404
    client.cookies.clear()
    factories.login(client, "czj")
    version = _version(client.get(f"/funds/{fid}/report").text)
    from app.models import SpecialFund
    from app.security import Principal
    from app.services import funds

    dept = session.get(SpecialFund, fid).department_id
    owner = Principal(role="department", name="gxt", department_id=dept)
    funds.act(session=session, principal=owner, fund_id=fid, action="submit")
    page = client.get(f"/funds/{fid}/report").text
    assert "报告只能查看和下载" in page and "data-autosave" not in page
    assert _save(client, fid, version, basic="送审后再改").status_code == 409
