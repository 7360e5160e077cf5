"""Issue 9: the pages name the scoring template by its rule (财预〔2020〕10号), as a 财政 official does,
not by its code national-2020@1 (which stays in the API)."""

from __future__ import annotations

from sqlmodel import select

from app.models import SelfEvaluation
from tests import factories
from tests.api.test_reviews import _fill_and_submit, as_user
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
