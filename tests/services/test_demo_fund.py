"""`jixiao demo` includes the seed's 专项资金, so a newcomer sees a fund scoring 96.8 (issue 12)."""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import select

from app.models import FundNode, SpecialFund, User
from app.security import principal_for_user
from app.services import demo, funds


def test_the_demo_has_the_seed_fund_once_with_its_score_and_its_departments_login(session):
    demo.load_demo(session=session)
    demo.load_demo(session=session)  # idempotent: still one fund, one tree
    fund = session.exec(select(SpecialFund)).one()
    assert len(session.exec(select(FundNode).where(FundNode.fund_id == fund.id)).all()) > 40
    owner = session.exec(select(User).where(User.username == demo.FUND_LOGIN)).one()
    view = funds.fund_view(session=session, principal=principal_for_user(owner), fund_id=fund.id)
    assert view.figures.spent == Decimal("56022.2398") and view.figures.execution_rate == Decimal("97.35")
    assert view.score is not None and str(view.score.total) == "96.8" and view.score.grade == "优"
    assert [d.differs for d in view.declared if d.key == "execution_rate"] == [True]  # 97.42 declared
    assert "submit" in view.actions
    bureau = session.exec(select(User).where(User.username == "caizhengju")).one()
    assert [f.id for f in funds.list_funds(session=session, principal=principal_for_user(bureau))] == [fund.id]
