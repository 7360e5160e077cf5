"""GET /api/v1/stats/units and /stats/departments: per unit / department figures for a year."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from decimal import Decimal
from typing import Annotated, Any

import orjson
from fastapi import Query, Request

from app.api.deps import ERRORS, EXPORT_RESPONSES, YearListQuery
from app.api.export import Listing, filters_of, list_response
from app.api.models import (
    GRADE_FIELDS,
    DepartmentStatsListPublic,
    DepartmentStatsPublic,
    StatusCounts,
    UnitStatsListPublic,
    UnitStatsPublic,
    money,
    rate,
    score,
)
from app.api.routing import PrefixRouter
from app.api.scopes import requires
from app.auth import PrincipalDep
from app.db import ReadSessionDep
from app.domain.evaluation import APPROVED, FIRST_STATUS, HANDED_IN, STATUS_CODES
from app.domain.scoring import GRADES
from app.services import queries

router = PrefixRouter(prefix="/api/v1/stats", tags=["统计"])
STATUS_FIELDS = tuple(StatusCounts.model_fields)  # the JSON's order of by_status
_GRADE_ITEMS = tuple(GRADE_FIELDS.items())
# The bins' bounds as the JSON writes them (str of each bound): the same ten bins, in SCORE_BINS' order,
# on every row (queries.GroupStats.score_distribution lists them in that order).
_BIN_TEXT = tuple((str(lo), str(hi)) for lo, hi in queries.SCORE_BINS)


def _figures(s: queries.GroupStats, out: dict[str, Any]) -> dict[str, Any]:
    # The nested parts as plain dicts: the row's model validates them in one call (pydantic's core),
    # or the JSON page is written from them as they are (orjson). One dict per row, filled in the
    # model's field order, with no call per bin.
    by_status, grades = s.by_status, s.grades
    out.update(
        year=s.year,
        projects=s.projects,
        by_status={code: by_status[code] for code in STATUS_FIELDS},
        submitted=s.submitted,
        approved=s.approved,
        scored=s.scored,
        average_score=score(s.average_score),
        score_distribution=[
            {"lower": lower, "upper": upper, "count": n}
            for (lower, upper), (_, _, n) in zip(_BIN_TEXT, s.score_distribution, strict=True)
        ],
        grades={field: grades[grade] for grade, field in _GRADE_ITEMS},
        budget=money(s.budget),
        spent=money(s.spent),
        execution_rate=rate(s.execution_rate),
        unmet_indicators=s.unmet_indicators,
    )
    return out


def unit_stats_fields(s: queries.GroupStats) -> dict[str, Any]:
    return _figures(
        s,
        {
            "unit_id": s.id,
            "unit_code": s.code,
            "unit": s.name,
            "department_id": s.department_id,
            "department": s.department_name,
        },
    )


def department_stats_fields(s: queries.GroupStats) -> dict[str, Any]:
    return _figures(s, {"department_id": s.id, "department_code": s.code, "department": s.name})


# A row's JSON written by one bytes template (the JSON page embeds it as it is: see Listing.fields), in
# the model's field order, exactly as pydantic writes the model, straight from the statement's row (one
# pass over it: no GroupStats, no dict per row and per bin). The ints go in with %d, the texts through
# orjson (null for None), the decimal strings quoted (null for None).
# tests/api/test_list_json.py checks the bytes against pydantic's.
_FIGURES_JSON = (
    b'"year":%d,"projects":%d,"by_status":{'
    + b",".join(b'"%s":%%d' % code.encode() for code in STATUS_FIELDS)
    + b'},"submitted":%d,"approved":%d,"scored":%d,"average_score":%s,"score_distribution":['
    + b",".join(b'{"lower":"%s","upper":"%s","count":%%d}' % (lo.encode(), hi.encode()) for lo, hi in _BIN_TEXT)
    + b'],"grades":{'
    + b",".join(b'"%s":%%d' % field.encode() for _, field in _GRADE_ITEMS)
    + b'},"budget":%s,"spent":%s,"execution_rate":%s,"unmet_indicators":%d}'
)
_UNIT_JSON = b'{"unit_id":%d,"unit_code":%s,"unit":%s,"department_id":%s,"department":%s,' + _FIGURES_JSON
_DEPARTMENT_JSON = b'{"department_id":%d,"department_code":%s,"department":%s,' + _FIGURES_JSON
_dumps = orjson.dumps

# Where the row holds each figure (queries.STAT_AT). Its counts by status are in STATUS_CODES' order,
# which is the JSON's, the first one (not started) short of the projects without an evaluation row; by
# grade in GRADES' order (the JSON's) and by bin in SCORE_BINS' (_BIN_TEXT's).
assert STATUS_FIELDS == STATUS_CODES and STATUS_CODES[0] == FIRST_STATUS
assert FIRST_STATUS not in (*HANDED_IN, *APPROVED) and len(HANDED_IN) > 1 and len(APPROVED) > 1
assert tuple(GRADE_FIELDS) == GRADES
_YEAR, _PROJECTS, _SCORED, _UNMET = (queries.STAT_AT[c] for c in ("year", "projects", "scored", "unmet"))
_STATUSES, _GRADES, _BINS = queries.STATUS_RUN, queries.GRADE_RUN, queries.BIN_RUN
_FIRST, _OTHER_STATUSES = _STATUSES.start, slice(_STATUSES.start + 1, _STATUSES.stop)
# the counts handed in and approved (two or more each: itemgetter gives a tuple of them)
_HANDED_IN, _APPROVED = (
    operator.itemgetter(*(_STATUSES.start + STATUS_CODES.index(code) for code in codes))
    for codes in (HANDED_IN, APPROVED)
)


def _money(value: Decimal | None) -> bytes:
    """money() of the value, quoted (null for None)."""
    return b"null" if value is None else b'"%s"' % money(value).encode()


def _cents(value: Decimal | None) -> bytes:
    """A figure already at cents (an average score, an execution rate), quoted as score() and rate()
    write it: its plain text (null for None)."""
    return b"null" if value is None else b'"%s"' % format(value, "f").encode()


def _figures_args(v: tuple) -> tuple:
    """The template's figures from a statistics row, as GroupStats and _figures have them."""
    projects = v[_PROJECTS]
    average = queries.row_average_score(v)
    budget, spent, execution_rate = queries.row_money(v)
    return (
        v[_YEAR],
        projects,
        v[_FIRST] + projects - sum(v[_STATUSES]),  # not started: also the projects without an evaluation
        *v[_OTHER_STATUSES],
        sum(_HANDED_IN(v)),
        sum(_APPROVED(v)),
        v[_SCORED],
        _cents(average),
        *v[_BINS],
        *v[_GRADES],
        _money(budget),
        _money(spent),
        _cents(execution_rate),
        v[_UNMET],
    )


def unit_stats_json(r: Sequence) -> orjson.Fragment:
    """A row of queries.unit_stats_rows as its JSON."""
    v = tuple(r)
    head = (v[0], _dumps(v[1]), _dumps(v[2]), _dumps(v[3]), _dumps(v[4]))
    return orjson.Fragment(_UNIT_JSON % (*head, *_figures_args(v)))


def department_stats_json(r: Sequence) -> orjson.Fragment:
    """A row of queries.department_stats_rows as its JSON."""
    v = tuple(r)
    return orjson.Fragment(_DEPARTMENT_JSON % (v[0], _dumps(v[1]), _dumps(v[2]), *_figures_args(v)))


def unit_stats_public(r: Sequence) -> UnitStatsPublic:
    return UnitStatsPublic.model_validate(unit_stats_fields(queries.unit_row_stats(r)))


def department_stats_public(r: Sequence) -> DepartmentStatsPublic:
    return DepartmentStatsPublic.model_validate(department_stats_fields(queries.department_row_stats(r)))


UNIT_STATS = Listing(
    route="stats/units",
    item=UnitStatsPublic,
    envelope=UnitStatsListPublic,
    to_public=unit_stats_public,
    fields=unit_stats_json,
    sheet="单位统计",
    filters=filters_of(queries.ScopeFilters),
    source=queries.unit_stats_rows,
    key=operator.itemgetter(0),
    filename=lambda q: f"unit-stats-{q.year}",
)
DEPARTMENT_STATS = Listing(
    route="stats/departments",
    item=DepartmentStatsPublic,
    envelope=DepartmentStatsListPublic,
    to_public=department_stats_public,
    fields=department_stats_json,
    sheet="主管部门统计",
    filters=filters_of(queries.ScopeFilters),
    source=queries.department_stats_rows,
    key=operator.itemgetter(0),
    filename=lambda q: f"department-stats-{q.year}",
)


@router.get(
    "/units",
    response_model=UnitStatsListPublic,
    summary="按单位统计（某年度）",
    responses={**ERRORS, **EXPORT_RESPONSES},
)
@requires("read")
def stats_by_unit(
    request: Request, session: ReadSessionDep, principal: PrincipalDep, query: Annotated[YearListQuery, Query()]
) -> Any:
    """每个单位在该年度的项目数、提交与审核进度、平均分与得分分布、等级、预算与执行、未达标指标数。"""
    return list_response(request, session, principal, UNIT_STATS, query)


@router.get(
    "/departments",
    response_model=DepartmentStatsListPublic,
    summary="按主管部门统计（某年度）",
    responses={**ERRORS, **EXPORT_RESPONSES},
)
@requires("read")
def stats_by_department(
    request: Request, session: ReadSessionDep, principal: PrincipalDep, query: Annotated[YearListQuery, Query()]
) -> Any:
    """每个主管部门（只计您有权查看的单位）在该年度的汇总；未归属主管部门的单位不计入。"""
    return list_response(request, session, principal, DEPARTMENT_STATS, query)
