"""Review by department and finance bureau: transitions, overrides, history, the queue, filing windows."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlmodel import select

from app.models import AuditEvent, FilingWindow, Indicator, IndicatorResult, SelfEvaluation
from app.security import principal_for_user
from app.services import evaluations, reviews, windows
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationFailed
from app.services.evaluations import ResultInput
from app.services.reviews import OverrideInput, QueueFilters
from tests import factories
from tests.services.evaluation_data import STANDARD, YEAR, project_with, two_units


def evaluation_of(session, project) -> SelfEvaluation:
    return session.exec(select(SelfEvaluation).where(SelfEvaluation.project_id == project.id)).one()


def fill_and_submit(
    session, unit_principal, project, *, spent="95", report="12份", satisfaction="96%", reason=None
) -> SelfEvaluation:
    """Fill STANDARD's three indicators and submit, through the unit's own service calls."""
    ev = evaluation_of(session, project)
    ind = {i.name: i.id for i in session.exec(select(Indicator).where(Indicator.project_id == project.id))}
    results = [
        ResultInput(indicator_id=ind["监测报告"], actual=report, deviation_reason=reason),
        ResultInput(indicator_id=ind["监测能力"], qualitative_level="achieved"),
    ]
    if "服务对象满意度" in ind:
        results.append(ResultInput(indicator_id=ind["服务对象满意度"], actual=satisfaction, deviation_reason=reason))
    evaluations.save(
        session=session, principal=unit_principal, evaluation_id=ev.id, version=ev.version, spent=spent, results=results
    )
    evaluations.submit(session=session, principal=unit_principal, evaluation_id=ev.id)
    session.refresh(ev)
    return ev


@pytest.fixture
def world(session):
    dept, mine, other = two_units(session)
    other_dept = factories.department(session, "广州市发展和改革委员会")
    far = factories.unit(session, "广州市价格监测中心", other_dept)
    people = {
        "unit": principal_for_user(session.exec(select(factories.User).where(factories.User.username == "jcz")).one()),
        "dept": principal_for_user(factories.user(session, "gxj", "department", dept=dept)),
        "other_dept": principal_for_user(factories.user(session, "fgw", "department", dept=other_dept)),
        "finance": principal_for_user(factories.user(session, "czj", "finance")),
        "admin": principal_for_user(factories.user(session, "admin", "admin")),
    }
    project = project_with(session, mine, STANDARD)
    ev = fill_and_submit(session, people["unit"], project)
    return {
        "people": people,
        "project": project,
        "ev": ev,
        "mine": mine,
        "other": other,
        "far": far,
        "dept": dept,
        "other_dept": other_dept,
    }


def test_department_approves_then_finance_approves_finally_and_nothing_changes_after(session, world):
    p, ev = world["people"], world["ev"]
    assert ev.status == "submitted" and ev.total_score == Decimal("99.50")  # 9.5 + 50 + 30 + 10
    v = reviews.approve(session=session, principal=p["dept"], evaluation_id=ev.id, opinion="同意")
    assert v.evaluation.status == "approved"
    assert v.evaluation.department_score == Decimal("99.50")
    assert v.evaluation.reviewed_at is not None and v.evaluation.review_opinion == "同意"
    # Reviewed: the unit can no longer withdraw, nor edit.
    with pytest.raises(Conflict):
        evaluations.withdraw(session=session, principal=p["unit"], evaluation_id=ev.id)
    # The department's approval is not the last word, and it cannot approve twice.
    with pytest.raises(Conflict):
        reviews.approve(session=session, principal=p["dept"], evaluation_id=ev.id)
    v = reviews.approve(session=session, principal=p["finance"], evaluation_id=ev.id)
    assert v.evaluation.status == "final"
    for who in ("dept", "finance"):
        with pytest.raises(Conflict):
            reviews.approve(session=session, principal=p[who], evaluation_id=ev.id)
        with pytest.raises(Conflict):
            reviews.return_(session=session, principal=p[who], evaluation_id=ev.id, opinion="再看看")
    with pytest.raises(Conflict):
        evaluations.save(
            session=session, principal=p["unit"], evaluation_id=ev.id, version=v.evaluation.version, spent="90"
        )
    assert evaluation_of(session, world["project"]).status == "final"


def test_finance_may_approve_a_submitted_evaluation_directly(session, world):
    p, ev = world["people"], world["ev"]
    v = reviews.approve(session=session, principal=p["finance"], evaluation_id=ev.id)
    assert v.evaluation.status == "final" and v.evaluation.department_score is None


def test_return_needs_an_opinion_and_goes_back_to_the_unit_editable(session, world):
    p, ev = world["people"], world["ev"]
    for blank in (None, "", "   "):
        with pytest.raises(ValidationFailed) as caught:
            reviews.return_(session=session, principal=p["dept"], evaluation_id=ev.id, opinion=blank)
        assert caught.value.errors[0].field == "opinion" and "意见" in caught.value.errors[0].message
    assert evaluation_of(session, world["project"]).status == "submitted"
    v = reviews.return_(session=session, principal=p["dept"], evaluation_id=ev.id, opinion="请补充满意度调查佐证")
    assert v.evaluation.status == "returned"
    unit_view = evaluations.view(session=session, principal=p["unit"], evaluation_id=ev.id)
    assert unit_view.editable and unit_view.evaluation.review_opinion == "请补充满意度调查佐证"
    saved = evaluations.save(
        session=session, principal=p["unit"], evaluation_id=ev.id, version=unit_view.evaluation.version, spent="96"
    )
    assert saved.evaluation.status == "returned"
    evaluations.submit(session=session, principal=p["unit"], evaluation_id=ev.id)
    # Resubmitted: unreviewed again, so the unit may withdraw once more.
    assert evaluations.withdraw(session=session, principal=p["unit"], evaluation_id=ev.id).evaluation.status == "draft"


def test_override_is_kept_beside_the_computed_score_and_counts_in_the_total(session, world):
    p, ev = world["people"], world["ev"]
    report = session.exec(select(Indicator).where(Indicator.name == "监测报告")).one()
    v = reviews.approve(
        session=session,
        principal=p["dept"],
        evaluation_id=ev.id,
        overrides=[OverrideInput(indicator_id=report.id, score="40", reason="佐证材料只有 10 份")],
    )
    # 9.5 + 40 + 30 + 10 = 89.5 → 良 (was 99.5, 优).
    assert v.evaluation.total_score == Decimal("89.50") and v.evaluation.grade == "良"
    row = session.exec(select(IndicatorResult).where(IndicatorResult.indicator_id == report.id)).one()
    session.refresh(row)
    assert row.score == Decimal("50.00") and row.score_override == Decimal("40.00")
    assert row.override_reason == "佐证材料只有 10 份" and row.override_by_id == p["dept"].user_id
    shown = {i.name: i for i in v.indicators}["监测报告"]
    assert (shown.score, shown.score_override) == (Decimal("50.00"), Decimal("40.00"))
    assert "overridden" in shown.flags


@pytest.mark.parametrize(
    ("score", "reason", "needle"),
    [
        ("51", "多给一分", "不能超过该指标的分值 50"),
        ("-1", "扣分", "不能为负数"),
        ("abc", "看不懂", "应为数字"),
        ("40.123", "太细", "两位小数"),
        ("40", "", "说明理由"),
        ("40", None, "说明理由"),
    ],
)
def test_bad_overrides_are_refused_and_change_nothing(session, world, score, reason, needle):
    p, ev = world["people"], world["ev"]
    report = session.exec(select(Indicator).where(Indicator.name == "监测报告")).one()
    with pytest.raises(ValidationFailed) as caught:
        reviews.approve(
            session=session,
            principal=p["dept"],
            evaluation_id=ev.id,
            overrides=[OverrideInput(indicator_id=report.id, score=score, reason=reason)],
        )
    assert needle in caught.value.errors[0].message
    assert caught.value.errors[0].indicator_id == report.id
    fresh = evaluation_of(session, world["project"])
    session.refresh(fresh)
    assert fresh.status == "submitted" and fresh.total_score == Decimal("99.50")
    row = session.exec(select(IndicatorResult).where(IndicatorResult.indicator_id == report.id)).one()
    session.refresh(row)
    assert row.score_override is None


def test_an_override_finer_than_the_templates_precision_is_refused_not_rounded(session, world):
    # a region scoring in whole points: 40.5 would have been stored as 41 without a word
    from app.services import templates

    p, ev = world["people"], world["ev"]
    templates.new_version(session=session, name="national-2020", changes={"rounding_places": 0})
    evaluations.rescore(session=session, evaluation_id=ev.id)
    report = session.exec(select(Indicator).where(Indicator.name == "监测报告")).one()
    with pytest.raises(ValidationFailed) as caught:
        reviews.approve(
            session=session,
            principal=p["dept"],
            evaluation_id=ev.id,
            overrides=[OverrideInput(indicator_id=report.id, score="40.5", reason="按佐证材料")],
        )
    assert "须为整数" in caught.value.errors[0].message
    session.rollback()
    reviews.approve(
        session=session,
        principal=p["dept"],
        evaluation_id=ev.id,
        overrides=[OverrideInput(indicator_id=report.id, score="40", reason="按佐证材料")],
    )
    row = session.exec(select(IndicatorResult).where(IndicatorResult.indicator_id == report.id)).one()
    session.refresh(row)
    assert row.score_override == Decimal("40")


def test_an_indicator_of_another_project_cannot_be_overridden(session, world):
    p, ev = world["people"], world["ev"]
    stranger = project_with(session, world["other"], STANDARD, name="别人的项目")
    foreign = session.exec(select(Indicator).where(Indicator.project_id == stranger.id)).first()
    with pytest.raises(ValidationFailed) as caught:
        reviews.return_(
            session=session,
            principal=p["dept"],
            evaluation_id=ev.id,
            opinion="退回",
            overrides=[OverrideInput(indicator_id=foreign.id, score="1", reason="x")],
        )
    assert "不属于" in caught.value.errors[0].message


def test_who_may_review(session, world):
    p, ev = world["people"], world["ev"]
    with pytest.raises(PermissionDenied):
        reviews.approve(session=session, principal=p["unit"], evaluation_id=ev.id)
    with pytest.raises(PermissionDenied):
        reviews.return_(session=session, principal=p["unit"], evaluation_id=ev.id, opinion="自己退回")
    with pytest.raises(PermissionDenied):
        reviews.approve(session=session, principal=p["admin"], evaluation_id=ev.id)
    # Another department does not even see it.
    with pytest.raises(NotFound):
        reviews.approve(session=session, principal=p["other_dept"], evaluation_id=ev.id)
    with pytest.raises(PermissionDenied):
        reviews.reopen(session=session, principal=p["dept"], evaluation_id=ev.id, opinion="重开")
    assert evaluation_of(session, world["project"]).status == "submitted"


def test_a_department_acts_only_on_submitted_evaluations(session, world):
    p = world["people"]
    draft = project_with(session, world["mine"], STANDARD, name="草稿项目")
    with pytest.raises(Conflict) as caught:
        reviews.approve(session=session, principal=p["dept"], evaluation_id=evaluation_of(session, draft).id)
    assert "未填报" in caught.value.message


def test_a_stale_version_is_refused(session, world):
    p, ev = world["people"], world["ev"]
    version = ev.version
    with pytest.raises(Conflict):
        reviews.approve(session=session, principal=p["dept"], evaluation_id=ev.id, version=version - 1)
    v = reviews.approve(session=session, principal=p["dept"], evaluation_id=ev.id, version=version)
    assert v.evaluation.version == version + 1 and v.evaluation.status == "approved"


def test_reopen_after_final_needs_a_reason_and_is_recorded(session, world):
    p, ev = world["people"], world["ev"]
    with pytest.raises(Conflict):
        reviews.reopen(session=session, principal=p["finance"], evaluation_id=ev.id, opinion="还没终审")
    reviews.approve(session=session, principal=p["finance"], evaluation_id=ev.id)
    with pytest.raises(ValidationFailed):
        reviews.reopen(session=session, principal=p["finance"], evaluation_id=ev.id, opinion=" ")
    v = reviews.reopen(session=session, principal=p["finance"], evaluation_id=ev.id, opinion="审计发现执行数有误")
    assert v.evaluation.status == "returned" and v.evaluation.review_opinion == "审计发现执行数有误"
    assert evaluations.view(session=session, principal=p["unit"], evaluation_id=ev.id).editable
    history = reviews.history(session=session, principal=p["unit"], evaluation_id=ev.id)
    assert [h.action_label for h in history] == ["保存填报", "送审", "终审通过", "终审后重新打开（退回）"]
    last = history[-1]
    assert (last.status_before, last.status_after, last.note) == ("final", "returned", "审计发现执行数有误")
    assert last.actor == "czj" and last.role_label == "财政局"
    assert "状态：终审通过 → 已退回" in last.details


def test_history_shows_overrides_and_is_hidden_from_other_scopes(session, world):
    p, ev = world["people"], world["ev"]
    report = session.exec(select(Indicator).where(Indicator.name == "监测报告")).one()
    reviews.return_(
        session=session,
        principal=p["dept"],
        evaluation_id=ev.id,
        opinion="报告数量与佐证不符",
        overrides=[OverrideInput(indicator_id=report.id, score="45", reason="只见 11 份")],
    )
    entry = reviews.history(session=session, principal=p["dept"], evaluation_id=ev.id)[-1]
    assert entry.action == "evaluation.return" and entry.note == "报告数量与佐证不符"
    assert "指标“监测报告”：得分调整为 45（理由：只见 11 份）" in entry.details
    assert "总分：99.50 → 94.50" in entry.details
    events = session.exec(select(AuditEvent).where(AuditEvent.action == "evaluation.return")).all()
    assert len(events) == 1 and events[0].user_id == p["dept"].user_id
    with pytest.raises(NotFound):
        reviews.history(session=session, principal=p["other_dept"], evaluation_id=ev.id)


# --- the queue -------------------------------------------------------------------------------


@pytest.fixture
def queue_world(session, world):
    """Five submitted evaluations in two departments with different flags and scores."""
    p = world["people"]
    other_user = principal_for_user(session.exec(select(factories.User).where(factories.User.username == "zx")).one())
    far_user = principal_for_user(factories.user(session, "jgzx", "unit", unit_row=world["far"]))
    low = fill_and_submit(
        session, p["unit"], project_with(session, world["mine"], STANDARD, name="执行率低"), spent="50"
    )  # 50% → execution_low, 5 + 90 = 95
    unmet = fill_and_submit(
        session,
        other_user,
        project_with(session, world["other"], STANDARD, name="未达成"),
        report="6份",
        reason="设备故障",
    )  # 25 + 30 + 10 + 9.5 = 74.5 → 中
    no_sat = fill_and_submit(session, other_user, project_with(session, world["other"], STANDARD[:2], name="无满意度"))
    far = fill_and_submit(
        session,
        far_user,
        project_with(session, world["far"], STANDARD, name="外部门"),
        report="15份",
        reason="超额完成，年初指标偏保守",
    )  # over_achieved (≥ 120%)
    return {"base": world["ev"], "low": low, "unmet": unmet, "no_sat": no_sat, "far": far}


def ids(page):
    return [r.id for r in page.rows]


def test_queue_filters_by_flag_grade_department_unit_and_status(session, world, queue_world):
    p, q = world["people"], queue_world
    fin = p["finance"]

    def run(principal=fin, **kw):
        return ids(reviews.review_queue(session=session, principal=principal, filters=QueueFilters(year=YEAR, **kw)))

    assert sorted(run()) == sorted(e.id for e in q.values())
    assert run(flags=("execution_low",)) == [q["low"].id]
    assert run(flags=("unmet",)) == [q["unmet"].id]
    assert run(flags=("no_satisfaction",)) == [q["no_sat"].id]
    assert run(flags=("over_achieved",)) == [q["far"].id]
    assert run(grade="中") == [q["unmet"].id]
    assert run(department_id=world["other_dept"].id) == [q["far"].id]
    assert sorted(run(unit_id=world["other"].id)) == sorted([q["unmet"].id, q["no_sat"].id])
    # A department sees only its own units, whatever it asks for.
    assert q["far"].id not in run(principal=p["dept"])
    assert run(principal=p["dept"], department_id=world["other_dept"].id) == []
    reviews.approve(session=session, principal=p["dept"], evaluation_id=q["low"].id)
    assert q["low"].id not in run()
    assert run(status="approved") == [q["low"].id]
    assert q["low"].id in run(status="all")
    with pytest.raises(PermissionDenied):
        reviews.review_queue(session=session, principal=p["unit"], filters=QueueFilters())


def test_queue_sorts_and_pages_without_overlap(session, world, queue_world):
    fin = world["people"]["finance"]
    everything = reviews.review_queue(
        session=session, principal=fin, filters=QueueFilters(year=YEAR, sort="score", descending=True)
    )
    scores = [r.total_score for r in everything.rows]
    assert scores == sorted(scores, reverse=True) and everything.total == 5
    seen, token = [], None
    for number in (1, 2, 3):
        got = reviews.review_queue(
            session=session,
            principal=fin,
            filters=QueueFilters(year=YEAR, sort="score", descending=True, page_token=token, page_size=2),
        )
        assert got.pages == 3 and got.page == number
        seen += ids(got)
        token = got.next_token
    assert seen == ids(everything) and token is None
    # the tokens are opaque, and belong to their sort
    with pytest.raises(ValidationFailed, match="筛选条件有误"):
        reviews.review_queue(session=session, principal=fin, filters=QueueFilters(year=YEAR, page_token="abc"))
    first = reviews.review_queue(session=session, principal=fin, filters=QueueFilters(year=YEAR, page_size=2))
    with pytest.raises(ValidationFailed):
        reviews.review_queue(
            session=session, principal=fin, filters=QueueFilters(year=YEAR, sort="unit", page_token=first.next_token)
        )
    with pytest.raises(ValidationFailed):
        reviews.review_queue(session=session, principal=fin, filters=QueueFilters(flags=("bogus",)))


@pytest.mark.parametrize("sort", list(reviews.SORTS))
@pytest.mark.parametrize("descending", [False, True])
def test_queue_keyset_pages_walk_forward_and_back_through_every_sort(session, world, queue_world, sort, descending):
    """Page by page forwards and then backwards gives the whole list in order, empty values (the
    final evaluation has no execution rate, ties abound) included, with no row twice."""
    fin = world["people"]["finance"]
    evaluations.withdraw(session=session, principal=world["people"]["unit"], evaluation_id=world["ev"].id)
    base = dict(year=YEAR, status="all", sort=sort, descending=descending)
    whole = ids(reviews.review_queue(session=session, principal=fin, filters=QueueFilters(**base)))
    assert len(whole) == 5
    pages, token = [], None
    while True:
        got = reviews.review_queue(
            session=session, principal=fin, filters=QueueFilters(**base, page_size=2, page_token=token)
        )
        pages.append(ids(got))
        assert got.page == len(pages)
        if got.next_token is None:
            break
        token = got.next_token
    assert [i for p in pages for i in p] == whole and len(pages) == 3
    back, token = [], got.previous_token
    while token is not None:
        got = reviews.review_queue(
            session=session, principal=fin, filters=QueueFilters(**base, page_size=2, page_token=token)
        )
        back.insert(0, ids(got))
        token = got.previous_token
    assert back == pages[:-1] and got.page == 1


def test_no_offset_anywhere_in_the_application():
    """Every list pages by keyset (shared/perf-notes.md: OFFSET 100000 took 77 ms, the keyset 0.17 ms)."""
    root = Path(__file__).resolve().parents[2]
    found = [
        f"{path.relative_to(root)}:{n}"
        for path in sorted((root / "app").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\.offset\(|\bOFFSET\b", line)
    ]
    assert found == []


# --- filing windows --------------------------------------------------------------------------


def test_filing_window_is_set_by_finance_or_admin_and_recorded(session, world):
    p = world["people"]
    assert windows.get_window(session=session, year=YEAR).is_open
    with pytest.raises(PermissionDenied):
        windows.set_window(
            session=session, principal=p["dept"], year=YEAR, opens_date=None, closes_date=date(2025, 2, 28)
        )
    with pytest.raises(ValidationFailed) as caught:
        windows.set_window(
            session=session,
            principal=p["finance"],
            year=YEAR,
            opens_date=date(2025, 3, 1),
            closes_date=date(2025, 2, 28),
        )
    assert caught.value.errors[0].field == "closes_date"
    w = windows.set_window(
        session=session, principal=p["admin"], year=YEAR, opens_date=date(2025, 1, 2), closes_date=date(2025, 2, 28)
    )
    assert w.closes_date == date(2025, 2, 28) and w.updated_by == "admin"
    assert "2025-01-02 至 2025-02-28" in w.deadline_text
    assert windows.get_window(session=session, year=YEAR, today=date(2025, 3, 1)).is_open is False
    # A year with no projects yet can be given a window in advance.
    windows.set_window(
        session=session, principal=p["finance"], year=2031, opens_date=None, closes_date=date(2032, 1, 31)
    )
    assert [w.year for w in windows.list_windows(session=session)][:2] == [2031, YEAR]
    stored = session.exec(select(FilingWindow).where(FilingWindow.year == 2031)).one()
    assert stored.updated_by_id == p["finance"].user_id
    assert len(session.exec(select(AuditEvent).where(AuditEvent.action == "filing_window.set")).all()) == 2
