"""Issue 9: the pages name the scoring template by its rule (财预〔2020〕10号), as a 财政 official does,
not by its code national-2020@1 (which stays in the API)."""

from __future__ import annotations

import re

from sqlmodel import select

from app.models import SelfEvaluation
from tests import factories
from tests.api.test_reviews import _fill_and_submit, as_user
from tests.funds.seed import enter
from tests.services.evaluation_data import STANDARD, project_with, two_units


def test_the_form_the_print_and_the_review_page_name_the_rule(client, session):
    _, mine, _ = two_units(session)
    factories.user(session, "czj", "finance")
    project = project_with(session, mine, STANDARD)
    eid = session.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()
    as_user(client, "jcz")
    for url in (f"/evaluations/{eid}", f"/evaluations/{eid}/print"):
        html = client.get(url).text
        visible = html.replace('title="national-2020@1"', "")
        assert "财预〔2020〕10号" in html and "national-2020@1" not in visible, url
    _fill_and_submit(client, eid)
    as_user(client, "czj")
    html = client.get(f"/reviews/{eid}").text
    assert "评分模板 财预〔2020〕10号" in html and "national-2020@1" not in html
    assert client.get(f"/api/v1/self-evaluations/{eid}").json()["template"] == "national-2020@1"


def _visible(html: str) -> str:
    """The page's text as a reader sees it: tags out, whitespace runs as one space, none beside the
    full-width brackets (which carry their own spacing)."""
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    text = re.sub(r"<[^>]+>", " ", text)
    text = " ".join(text.split())
    return re.sub(r" ?([（）]) ?", r"\1", text)


def test_every_page_writes_a_category_weight_one_way(client, session):
    """Issue 9: one way to write a category's weight. It was 产出指标（50 分） on the form, （50分） on
    its print, （50.00分） on the review page and 产出 — / 50.00 in the form's totals; now it is
    产出指标（50 分） and 产出指标 … / 50 分 everywhere, as the fund page's categories are."""
    _, mine, _ = two_units(session)
    factories.user(session, "czj", "finance")
    project = project_with(session, mine, STANDARD)
    eid = session.exec(select(SelfEvaluation.id).where(SelfEvaluation.project_id == project.id)).one()
    as_user(client, "jcz")
    form = _visible(client.get(f"/evaluations/{eid}").text)
    printed = _visible(client.get(f"/evaluations/{eid}/print").text)
    _fill_and_submit(client, eid)
    as_user(client, "czj")
    review = _visible(client.get(f"/reviews/{eid}").text)
    for name, text in (("form", form), ("print", printed), ("review", review)):
        assert "产出指标（50 分）" in text and "效益指标（30 分）" in text, name
        written = re.findall(r"(\d+(?:\.\d+)?) ?分[）\s]", text)
        assert written, name
        assert not re.search(r"\d分|\.0+ 分", text), (name, re.findall(r".{12}(?:\d分|\.0+ 分).{4}", text))
    assert "预算执行率 — / 10 分" in form and re.search(r"产出指标 \S+ / 50 分", form)
    assert "/ 100 分" in form
    fund = enter(session)
    page = _visible(client.get(f"/funds/{fund.id}").text)
    # the fund's quoted texts keep their own writing (按资金比例扣0.5分): only the weights are checked
    weights = re.findall(r"(\S+?) 分(?:，得|）)", page)
    assert weights and not re.search(r"\d分(?:，得|）)", page), weights
    assert not [w for w in weights if re.search(r"\.\d*0$", w)], weights
