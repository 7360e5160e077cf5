"""GET /api/v1/units, /projects, /projects/{id}, /indicators: the finance bureau's read API."""

from __future__ import annotations

from decimal import Decimal
from operator import itemgetter
from typing import Annotated, Any, Literal

from fastapi import Path, Query, Request, Response
from pydantic import Field
from pydantic_core import to_json

from app.api.deps import ERRORS, EXPORT_RESPONSES, ListQuery
from app.api.export import Listing, filters_of, list_response
from app.api.models import (
    IndicatorDetailPublic,
    IndicatorPublic,
    IndicatorsPublic,
    ProjectDetailPublic,
    ProjectPublic,
    ProjectsPublic,
    UnitPublic,
    UnitsPublic,
    history_fields,
    money,
    quality_fields,
    rate,
    score,
)
from app.api.routing import PrefixRouter
from app.api.scopes import requires
from app.auth import PrincipalDep
from app.db import ReadSessionDep, release
from app.domain.evaluation import STATUS_CODES
from app.domain.scoring import GRADE_DOC, GRADES, score_text
from app.models import TARGET_KINDS
from app.services import queries, target_tables

router = PrefixRouter(prefix="/api/v1", tags=["查询"])

Status = Literal[STATUS_CODES]  # type: ignore[valid-type]
Grade = Literal[GRADES]  # type: ignore[valid-type]
Kind = Literal[TARGET_KINDS]  # type: ignore[valid-type]
Flag = Literal[queries.FLAGS]  # type: ignore[valid-type]


# --- row → public -------------------------------------------------------------------------


def unit_fields(r) -> dict[str, Any]:
    return dict(
        id=r["id"],
        code=r["code"],
        name=r["name"],
        department_id=r["department_id"],
        department_code=r["department_code"],
        department=r["department_name"],
    )


def unit_public(r) -> UnitPublic:
    return UnitPublic(**unit_fields(r))


def _project_fields(r) -> dict[str, Any]:
    return dict(
        id=r["id"],
        year=r["year"],
        project_code=r["project_code"],
        name=r["name"],
        unit_id=r["unit_id"],
        unit_code=r["unit_code"],
        unit=r["unit_name"],
        department_id=r["department_id"],
        department=r["department_name"],
        initial_budget=money(r["initial_budget"]),
        budget=money(r["budget"]),
        spent=money(r["spent"]),
        execution_rate=rate(r["execution_rate"]),
        status=r["status"],
        self_evaluation_id=r["self_evaluation_id"],
        total_score=score(r["total_score"], r["score_places"]),
        grade=r["grade"],
        flags=r["flags"] or [],
    )


def project_public(r) -> ProjectPublic:
    return ProjectPublic(**_project_fields(r))


def _effective(score_, score_override, self_score, flags):
    """The score that counts: the reviewer's override, else the unit's own score when the engine took it
    (flag self_scored), else the computed score."""
    if score_override is not None:
        return score_override
    if self_score is not None and "self_scored" in flags:
        return self_score
    return score_


# IndicatorPublic's fields up to target_confidence: the first 23 columns of an indicator row, as they are
_INDICATOR_HEAD = (
    "id",
    "year",
    "project_id",
    "project_code",
    "project_name",
    "unit_id",
    "unit",
    "department_id",
    "department",
    "position",
    "level1",
    "level2",
    "level2_code",
    "level2_name",
    "name",
    "period_target",
    "annual_target",
    "target_kind",
    "target_op",
    "target_value",
    "target_value_max",
    "target_unit",
    "target_confidence",
)
# score_text's answers by (value, places), and given weights' plain text: a page repeats the same few
# figures (scores and weights at a template's precision), each formatted once. Equal decimals give the
# same text (quantize and normalize do not depend on the value's own exponent; the databases hold no -0).
_SCORE_TEXTS: dict[tuple, str | None] = {}
_PLAIN_TEXTS: dict[Decimal, str] = {}
_TEXTS_MAX = 4096


def _score_text(value: Decimal | None, places: int) -> str | None:
    if value is None:
        return None
    key = (value, places)
    text = _SCORE_TEXTS.get(key)
    if text is None:
        if len(_SCORE_TEXTS) >= _TEXTS_MAX:
            _SCORE_TEXTS.clear()
        text = _SCORE_TEXTS[key] = score_text(value, places)
    return text


def _plain_text(value: Decimal) -> str:
    text = _PLAIN_TEXTS.get(value)
    if text is None:
        if len(_PLAIN_TEXTS) >= _TEXTS_MAX:
            _PLAIN_TEXTS.clear()
        text = _PLAIN_TEXTS[value] = format(value.normalize(), "f")
    return text


def indicator_fields(r) -> dict[str, Any]:
    """An indicator row (queries.INDICATOR_COLUMNS, by position) as IndicatorPublic's fields, in the
    model's order (the JSON list writes them as they are: see Listing.fields)."""
    weight, given_weight, actual, score_, score_override, self_score, places, met, flags = r[23:]
    places = 2 if places is None else places
    flags = flags or []
    effective = _effective(score_, score_override, self_score, flags)
    # the row's first 23 columns are the model's first 23 fields (the row is longer: zip stops there)
    fields = dict(zip(_INDICATOR_HEAD, r, strict=False))
    fields["weight"] = _score_text(weight, places)
    fields["given_weight"] = None if given_weight is None else _plain_text(given_weight)
    fields["actual"] = actual
    fields["score"] = _score_text(score_, places)
    fields["score_override"] = _score_text(score_override, places)
    fields["self_score"] = _score_text(self_score, places)
    fields["effective_score"] = _score_text(effective, places)
    fields["met"] = met
    fields["flags"] = flags
    return fields


def indicator_public(r) -> IndicatorPublic:
    return IndicatorPublic(**indicator_fields(r))


def indicator_detail_fields(r) -> dict[str, Any]:
    """A row of the project's indicators as IndicatorDetailPublic's fields, in its order (TargetPublic's
    in its), so a body written from them directly is the model's."""
    places = r["score_places"]
    if places is None:
        places = 2  # as `score`
    score_ = r["score"]
    score_override = r["score_override"]
    self_score = r["self_score"]
    flags = r["flags"] or []
    effective = _effective(score_, score_override, self_score, flags)
    return {
        "id": r["id"],
        "position": r["position"],
        "level1": r["level1"],
        "level2": r["level2"],
        "level2_code": r["level2_code"],
        "level2_name": r["level2_name"],
        "name": r["name"],
        "period_target": r["period_target"],
        "annual_target": r["annual_target"],
        "target": {
            "kind": r["target_kind"],
            "op": r["target_op"],
            "value": r["target_value"],
            "value_max": r["target_value_max"],
            "unit": r["target_unit"],
            "unit_raw": r["target_unit_raw"],
            "unit_class": r["target_unit_class"],
            "deadline": r["target_deadline"],
            "direction": r["target_direction"],
            "confidence": r["target_confidence"],
            "warnings": r["target_warnings"] or [],
        },
        "weight": score_text(r["weight"], places),
        "actual": r["actual"],
        "actual_parsed": r["actual_parsed"],
        "qualitative_level": r["qualitative_level"],
        "score_in_band": score_text(r["score_in_band"], places),
        "score": score_text(score_, places),
        "score_override": score_text(score_override, places),
        "override_reason": r["override_reason"],
        "self_score": score_text(self_score, places),
        "self_score_reason": r["self_score_reason"],
        "effective_score": score_text(effective, places),
        "met": r["met"],
        "deviation_reason": r["deviation_reason"],
        "flags": flags,
        "warnings": r["indicator_warnings"] or [],
    }


def indicator_detail_public(r) -> IndicatorDetailPublic:
    return IndicatorDetailPublic(**indicator_detail_fields(r))


# --- routes -------------------------------------------------------------------------------


class ProjectsQuery(ListQuery):
    """项目列表的筛选条件。"""

    status: Status | None = Field(None, description="自评状态；not_started 含尚无自评的项目")
    grade: Grade | None = Field(None, description=f"自评等级：{GRADE_DOC}")
    min_score: Decimal | None = Field(None, ge=0, le=1000, description="总分下限（含），如 80", examples=["80"])
    max_score: Decimal | None = Field(None, ge=0, le=1000, description="总分上限（含），如 80", examples=["80"])
    max_execution_rate: Decimal | None = Field(
        None, ge=0, le=100000, description="预算执行率上限（百分点，含），如 90 表示执行率 ≤ 90%", examples=["90"]
    )
    q: str | None = Field(None, max_length=200, description="按项目名称或项目编码查找（包含所填文字即可）")


class IndicatorsQuery(ListQuery):
    """指标列表的筛选条件。"""

    level1: str | None = Field(
        None, max_length=40, description="一级指标代号（评分模板中的类别），如 output、outcome、satisfaction"
    )
    level2: str | None = Field(None, max_length=40, description="二级指标：代号（如 quantity）或编码（如 11）")
    met: bool | None = Field(None, description="true 只看达标的，false 只看未达标的")
    flag: Flag | None = Field(None, description="只看带此提示标记的指标，如 unmet、over_achieved")
    kind: Kind | None = Field(None, description="指标值类型：quantity、qualitative、deadline")


UNITS = Listing(
    route="units",
    item=UnitPublic,
    envelope=UnitsPublic,
    to_public=unit_public,
    fields=unit_fields,
    sheet="单位",
    filters=filters_of(queries.ScopeFilters),
    source=queries.list_units,
)
PROJECTS = Listing(
    route="projects",
    item=ProjectPublic,
    envelope=ProjectsPublic,
    to_public=project_public,
    fields=_project_fields,
    sheet="项目",
    filters=filters_of(queries.ProjectFilters),
    source=queries.list_projects,
)
INDICATORS = Listing(
    route="indicators",
    item=IndicatorPublic,
    envelope=IndicatorsPublic,
    to_public=indicator_public,
    fields=indicator_fields,
    sheet="指标",
    filters=filters_of(queries.IndicatorFilters),
    source=queries.indicator_rows,
    key=itemgetter(0),  # the id
    csv=queries.indicators_csv,
)


@router.get(
    "/units", response_model=UnitsPublic, summary="单位列表（含主管部门）", responses={**ERRORS, **EXPORT_RESPONSES}
)
@requires("read")
def list_units(
    request: Request, session: ReadSessionDep, principal: PrincipalDep, query: Annotated[ListQuery, Query()]
) -> Any:
    """您有权查看的单位及其主管部门；指定 year 时只列出该年度有项目的单位。"""
    return list_response(request, session, principal, UNITS, query)


@router.get(
    "/projects",
    response_model=ProjectsPublic,
    summary="项目列表（预算、执行、自评结果）",
    responses={**ERRORS, **EXPORT_RESPONSES},
)
@requires("read")
def list_projects(
    request: Request, session: ReadSessionDep, principal: PrincipalDep, query: Annotated[ProjectsQuery, Query()]
) -> Any:
    """您有权查看的项目，含全年预算数、执行数、预算执行率、自评状态、总分与等级。"""
    return list_response(request, session, principal, PROJECTS, query)


@router.get(
    "/projects/{project_id}",
    response_model=ProjectDetailPublic,
    summary="单个项目（含指标与审核历史）",
    responses={**ERRORS, 404: {"description": "项目不存在或无权查看"}},
)
@requires("read")
def get_project(
    session: ReadSessionDep,
    principal: PrincipalDep,
    project_id: Annotated[int, Path(ge=1, le=2**31 - 1, description="项目ID")],
) -> Any:
    """一个项目：资金、目标、全部指标（原始与识别后的指标值、实际完成值、得分、提示）与审核历史。"""
    fields = project_detail_fields(session=session, principal=principal, project_id=project_id)
    release(session)  # the answer is built: the connection goes back now, in this thread
    # written from the fields in ProjectDetailPublic's order, by pydantic's serializer: the model's body,
    # without building the model (the route's response_model documents it)
    return Response(to_json(fields), media_type="application/json")


def project_detail_fields(*, session, principal, project_id: int) -> dict[str, Any]:
    """One project as ProjectDetailPublic's fields, in its order (its parts' in theirs)."""
    detail = queries.project_detail(session=session, principal=principal, project_id=project_id)
    r = detail.row
    evaluated = r["self_evaluation_id"] is not None
    return {
        **_project_fields(r),
        "target_status": r["target_status"],
        "version": r["version"],
        "fiscal_funds": money(r["fiscal_funds"]),
        "carried_over": money(r["carried_over"]),
        "other_funds": money(r["other_funds"]),
        "period_goal": r["period_goal"],
        "annual_goal": r["annual_goal"],
        "goal_completion": r["goal_completion"],
        "execution_score": score(r["execution_score"], r["score_places"]) if evaluated else None,
        "department_score": score(r["department_score"], r["score_places"]) if evaluated else None,
        "review_opinion": r["review_opinion"],
        "submitted_at": r["submitted_at"],
        "reviewed_at": r["reviewed_at"],
        "template": detail.template,
        "warnings": r["warnings"] or [],
        "indicators": [indicator_detail_fields(i) for i in detail.indicators],
        "history": history_fields(detail.history),
        "quality": quality_fields(
            target_tables.quality_of(detail.indicators, year=r["year"], settings=detail.settings_in_force)
        ),
    }


def project_detail_public(*, session, principal, project_id: int) -> ProjectDetailPublic:
    """The read API's shape of one project, as the model (what every write of the table answers)."""
    return ProjectDetailPublic(**project_detail_fields(session=session, principal=principal, project_id=project_id))


@router.get(
    "/indicators",
    response_model=IndicatorsPublic,
    summary="指标列表（跨项目）",
    responses={**ERRORS, **EXPORT_RESPONSES},
)
@requires("read")
def list_indicators(
    request: Request, session: ReadSessionDep, principal: PrincipalDep, query: Annotated[IndicatorsQuery, Query()]
) -> Any:
    """您有权查看的绩效指标，含年度指标值、实际完成值、得分与提示标记。"""
    return list_response(request, session, principal, INDICATORS, query)
