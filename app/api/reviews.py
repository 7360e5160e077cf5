"""Review routes (approve / return / reopen, history) and filing windows: thin handlers over services."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from dataclasses import replace
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import Path, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlmodel import Session

from app import timeouts
from app.api import export
from app.api.deps import EXPORT_RESPONSES
from app.api.models import HistoryEventPublic, history_public, rate, score
from app.api.routing import PrefixRouter
from app.api.scopes import requires
from app.api.self_evaluations import EvaluationPublic, public
from app.auth import PrincipalDep
from app.db import SessionDep
from app.domain.evaluation import (
    HISTORY_LABELS,
    MAX_YEAR,
    MIN_YEAR,
    QUEUE_DEFAULT_STATUS,
    QUEUE_FLAG_CODES,
    STATUS_DOC,
)
from app.services import audit, reviews, windows
from app.services.reviews import OverrideInput, ReviewView

router = PrefixRouter(prefix="/api/v1", tags=["reviews"])

REVIEW_RESPONSES = {
    403: {"description": "无权审核（资金使用单位不能审核；重新打开仅限财政局）"},
    404: {"description": "自评不存在或无权查看"},
    409: {"description": "当前状态不允许此操作，或版本已过期（他人已修改）"},
    422: {"description": "输入有误（如退回未填意见、调整得分超过分值或缺少理由），errors 中逐字段说明"},
}


class OverrideBody(BaseModel):
    """审核人对一个指标得分的调整；计算得分原样保留。"""

    model_config = ConfigDict(extra="forbid")

    indicator_id: int = Field(description="指标编号")
    score: str | None = Field(
        None,
        max_length=20,
        description="调整后的得分（0 至该指标分值，最多两位小数）；null 或空字符串表示取消此前的调整",
        examples=["8.5"],
    )
    reason: str | None = Field(
        None,
        max_length=10000,
        description="调整理由（调整得分时必填）",
        examples=["佐证材料显示实际完成 11 份，按 11 份计分"],
    )


class ApproveBody(BaseModel):
    """审核通过：主管部门审核通过后状态为 approved，财政局的审核通过即终审（final）。"""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, description="读取时的版本号（可选）；已被他人修改时返回 409")
    opinion: str | None = Field(None, max_length=10000, description="审核意见（可选）")
    overrides: list[OverrideBody] = Field(default_factory=list, description="逐指标的得分调整（可选）")


class ReturnBody(BaseModel):
    """退回。退回后单位可重新修改，并能看到审核意见。"""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, description="读取时的版本号（可选）")
    opinion: str | None = Field(
        None, max_length=10000, description="退回意见（必填）", examples=["满意度指标缺少佐证材料，请补充后重新送审"]
    )
    overrides: list[OverrideBody] = Field(default_factory=list, description="逐指标的得分调整（可选）")


class ReopenBody(BaseModel):
    """终审后重新打开（仅财政局）：状态回到 returned，并记录原因。"""

    model_config = ConfigDict(extra="forbid")

    version: int | None = Field(None, description="读取时的版本号（可选）")
    opinion: str | None = Field(None, max_length=10000, description="重新打开的原因（必填）")


class ReviewedEvaluationPublic(EvaluationPublic):
    """自评表，附审核信息与操作历史。"""

    reviewed_by: str | None = Field(description="最近一次审核人")
    reviewed_at: dt.datetime | None = Field(description="最近一次审核时间（UTC）")
    department_score: str | None = Field(description="主管部门审核通过时的总分（含调整）")
    actions: list[str] = Field(description="当前调用者可执行的操作：approve / return / reopen")
    history: list[HistoryEventPublic] = Field(description="操作历史，按时间先后")


class FilingWindowPublic(BaseModel):
    """某年度的填报期。未设置时 opens_date、closes_date 为 null，视为随时可填报。"""

    year: int = Field(description="年度", examples=[2024])
    opens_date: dt.date | None = Field(description="开始日期（含）", examples=["2025-01-02"])
    closes_date: dt.date | None = Field(description="截止日期（含）", examples=["2025-02-28"])
    is_open: bool = Field(description="今天是否在填报期内")
    deadline_text: str = Field(
        description="给单位看的填报期说明", examples=["2024 年度填报期：2025-01-02 至 2025-02-28（填报中）"]
    )
    updated_at: dt.datetime | None = Field(description="最近修改时间（UTC）")
    updated_by: str | None = Field(description="最近修改人")


class FilingWindowUpdate(BaseModel):
    """设置填报期（管理员或财政局）。两个日期都为 null 即取消限制。"""

    model_config = ConfigDict(extra="forbid")

    opens_date: dt.date | None = Field(None, description="开始日期（含），YYYY-MM-DD")
    closes_date: dt.date | None = Field(None, description="截止日期（含），YYYY-MM-DD")


def reviewed_public(r: ReviewView) -> ReviewedEvaluationPublic:
    e = r.view.evaluation
    return ReviewedEvaluationPublic(
        **public(r.view).model_dump(),
        reviewed_by=r.reviewed_by,
        reviewed_at=e.reviewed_at,
        department_score=score(e.department_score),
        actions=list(r.actions),
        history=history_public(r.history),
    )


def _overrides(items: list[OverrideBody]) -> list[OverrideInput]:
    return [OverrideInput(indicator_id=o.indicator_id, score=o.score, reason=o.reason) for o in items]


def _reviewed(session, principal, evaluation_id: int, view=None) -> ReviewedEvaluationPublic:
    found = reviews.review_view(session=session, principal=principal, evaluation_id=evaluation_id, view=view)
    return reviewed_public(found)


EvaluationId = Annotated[int, Path(ge=1, le=2**31 - 1, description="自评编号")]
Year = Annotated[int, Path(ge=MIN_YEAR, le=MAX_YEAR, description="年度")]


@router.post(
    "/self-evaluations/{evaluation_id}/approve",
    response_model=ReviewedEvaluationPublic,
    summary=f"{HISTORY_LABELS['evaluation.approve']}（财政局的即为终审）",
    responses=REVIEW_RESPONSES,
)
@requires("review")
def approve(
    evaluation_id: EvaluationId, principal: PrincipalDep, session: SessionDep, body: ApproveBody | None = None
) -> ReviewedEvaluationPublic:
    """Approve: a department → approved; the finance bureau → final."""
    body = body or ApproveBody()
    view = reviews.approve(
        session=session,
        principal=principal,
        evaluation_id=evaluation_id,
        version=body.version,
        opinion=body.opinion,
        overrides=_overrides(body.overrides),
    )
    return _reviewed(session, principal, evaluation_id, view)


@router.post(
    "/self-evaluations/{evaluation_id}/return",
    response_model=ReviewedEvaluationPublic,
    summary="退回（须填写意见）",
    responses=REVIEW_RESPONSES,
)
@requires("review")
def return_(
    evaluation_id: EvaluationId, body: ReturnBody, principal: PrincipalDep, session: SessionDep
) -> ReviewedEvaluationPublic:
    """Return to the unit with an opinion; optional score overrides."""
    view = reviews.return_(
        session=session,
        principal=principal,
        evaluation_id=evaluation_id,
        version=body.version,
        opinion=body.opinion,
        overrides=_overrides(body.overrides),
    )
    return _reviewed(session, principal, evaluation_id, view)


@router.post(
    "/self-evaluations/{evaluation_id}/reopen",
    response_model=ReviewedEvaluationPublic,
    summary="终审后重新打开（仅财政局，须填写原因）",
    responses=REVIEW_RESPONSES,
)
@requires("review")
def reopen(
    evaluation_id: EvaluationId, body: ReopenBody, principal: PrincipalDep, session: SessionDep
) -> ReviewedEvaluationPublic:
    """Reopen a final evaluation: back to returned, recorded."""
    view = reviews.reopen(
        session=session, principal=principal, evaluation_id=evaluation_id, version=body.version, opinion=body.opinion
    )
    return _reviewed(session, principal, evaluation_id, view)


@router.get(
    "/self-evaluations/{evaluation_id}/history",
    response_model=list[HistoryEventPublic],
    summary="自评的操作历史",
    responses={404: {"description": "自评不存在或无权查看"}},
)
@requires("read")
def history(evaluation_id: EvaluationId, principal: PrincipalDep, session: SessionDep) -> list[HistoryEventPublic]:
    """Every recorded change of the evaluation, oldest first."""
    return history_public(reviews.history(session=session, principal=principal, evaluation_id=evaluation_id))


def window_public(w: windows.WindowView) -> FilingWindowPublic:
    return FilingWindowPublic(
        year=w.year,
        opens_date=w.opens_date,
        closes_date=w.closes_date,
        is_open=w.is_open,
        deadline_text=w.deadline_text,
        updated_at=w.updated_at,
        updated_by=w.updated_by,
    )


@router.get(
    "/filing-windows/{year}", response_model=FilingWindowPublic, summary="某年度的填报期", tags=["filing-windows"]
)
@requires("read")
def get_window(year: Year, principal: PrincipalDep, session: SessionDep) -> FilingWindowPublic:
    """The year's filing window; every signed-in role may read it."""
    return window_public(windows.get_window(session=session, year=year))


@router.put(
    "/filing-windows/{year}",
    response_model=FilingWindowPublic,
    summary="设置填报期（管理员或财政局）",
    tags=["filing-windows"],
    responses={403: {"description": "仅管理员或财政局可设置"}, 422: {"description": "日期有误（如截止早于开始）"}},
)
@requires("admin")
def put_window(
    year: Year, body: FilingWindowUpdate, principal: PrincipalDep, session: SessionDep
) -> FilingWindowPublic:
    """Set or clear the year's filing window."""
    return window_public(
        windows.set_window(
            session=session, principal=principal, year=year, opens_date=body.opens_date, closes_date=body.closes_date
        )
    )


# --- the review queue --------------------------------------------------------------------------


class QueueItemPublic(BaseModel):
    """审核队列中的一份自评。"""

    id: int = Field(title="自评编号", description="自评编号")
    project_code: str = Field(title="项目编码", description="项目编码")
    project: str = Field(title="项目名称", description="项目名称")
    unit_id: int = Field(title="单位编号", description="单位编号")
    unit: str = Field(title="单位名称", description="单位名称")
    department: str | None = Field(title="主管部门", description="主管部门名称")
    status: str = Field(title="状态", description=f"状态：{STATUS_DOC}")
    submitted_at: dt.datetime | None = Field(title="送审时间（UTC）", description="送审时间（UTC）")
    total_score: str | None = Field(title="总分", description="总分", json_schema_extra={"format": "decimal"})
    grade: str | None = Field(title="等级", description="等级")
    execution_rate: str | None = Field(
        title="预算执行率（%）", description="预算执行率（百分点）", json_schema_extra={"format": "decimal"}
    )
    flags: list[str] = Field(
        title="提示", description="队列提示：" + " / ".join(QUEUE_FLAG_CODES) + " / no_satisfaction"
    )
    version: int = Field(title="版本号", description="版本号（审核时可传回，已被他人修改时 409）")


def queue_item(r: reviews.QueueRow) -> QueueItemPublic:
    return QueueItemPublic(
        id=r.id,
        project_code=r.project_code,
        project=r.project_name,
        unit_id=r.unit_id,
        unit=r.unit,
        department=r.department,
        status=r.status,
        submitted_at=r.submitted_at,
        total_score=score(r.total_score),
        grade=r.grade,
        execution_rate=rate(r.execution_rate),
        flags=r.queue_flags,
        version=r.version,
    )


def _queue_export(request: Request, session: Session, principal, filters: reviews.QueueFilters, fmt: str):
    """The whole queue as csv / xlsx, page after page in its own session (the request's may be closed)."""
    reviews.review_queue(session=session, principal=principal, filters=replace(filters, page_size=1))  # a 422 now
    session.rollback()
    audit.exported(
        session=session,
        actor=principal,
        what=request.url.path,
        fmt=fmt,
        filters={k: v for k, v in dataclasses.asdict(filters).items() if k not in ("page_token", "page_size")},
    )
    engine = request.app.state.engine

    def rows() -> Iterator[QueueItemPublic]:
        with Session(engine) as own:
            timeouts.allow_long(own)
            token = None
            while True:
                found = reviews.review_queue(
                    session=own, principal=principal, filters=replace(filters, page_token=token)
                )
                own.rollback()
                yield from (queue_item(r) for r in found.rows)
                if not found.next_token:
                    return
                token = found.next_token

    cols = export.columns(QueueItemPublic)
    if fmt == "csv":
        body, media = export.csv_stream(rows(), cols), export.CSV_TYPE
    else:
        body, media = export.xlsx_stream(rows(), cols, "审核队列"), export.XLSX_TYPE
    name = f"review-queue-{filters.year or ''}.{fmt}"
    disposition = f"attachment; filename=\"{name}\"; filename*=UTF-8''{quote(name)}"
    return StreamingResponse(body, media_type=media, headers={"Content-Disposition": disposition})


class QueuePagePublic(BaseModel):
    """审核队列的一页（键集分页：沿 next_page_token / previous_page_token 翻页，深页与首页一样快）。"""

    items: list[QueueItemPublic] = Field(description="本页的自评，按所选排序，空值在后，同值按编号")
    total: int = Field(description="符合条件的自评总数")
    page: int = Field(description="本页是第几页（仅供显示）")
    pages: int = Field(description="总页数")
    next_page_token: str | None = Field(
        description="下一页的翻页标记（不透明，原样作 page_token 传回）；无下一页为 null"
    )
    previous_page_token: str | None = Field(description="上一页的翻页标记；第一页为 null")


@router.get(
    "/review-queue",
    response_model=QueuePagePublic,
    summary="审核队列（主管部门、财政局）",
    tags=["reviews"],
    responses={
        **EXPORT_RESPONSES,
        403: {"description": "资金使用单位没有审核队列"},
        422: {"description": "筛选条件或翻页标记无效"},
    },
)
@requires("read")
def review_queue(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=MIN_YEAR, le=MAX_YEAR, description="年度")] = None,
    status: Annotated[
        str, Query(max_length=20, description="状态；all 为全部，awaiting 为待我审核；默认 submitted")
    ] = QUEUE_DEFAULT_STATUS,
    department_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="主管部门编号")] = None,
    unit_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="单位编号")] = None,
    grade: Annotated[str | None, Query(max_length=2, description="等级")] = None,
    flag: Annotated[list[str], Query(max_length=10, description="提示（可多个，须同时具备）")] = [],  # noqa: B006
    sort: Annotated[str, Query(max_length=20, description="排序：" + " / ".join(reviews.SORTS))] = "submitted_at",
    descending: Annotated[bool, Query(description="降序")] = False,
    page_size: Annotated[int, Query(ge=1, le=500, description="每页条数")] = reviews.PAGE_SIZE,
    page_token: Annotated[str | None, Query(max_length=1000, description="翻页标记；第一页不传")] = None,
    q: Annotated[str | None, Query(max_length=200, description="按项目名称或项目编码查找（包含所填文字即可）")] = None,
    format: Annotated[
        Literal["json", "csv", "xlsx"],
        Query(description="json（默认，分页）；csv 或 xlsx 则按同样的筛选和排序下载全部符合条件的自评（忽略翻页参数）"),
    ] = "json",
) -> Any:
    """The evaluations to review, filtered, sorted and paged by keyset, as on the 自评审核 page."""
    filters = reviews.QueueFilters(
        year=year,
        status=status,
        department_id=department_id,
        unit_id=unit_id,
        grade=grade,
        flags=tuple(dict.fromkeys(flag)),
        sort=sort,
        descending=descending,
        page_size=page_size,
        page_token=page_token,
        q=q,
    )
    if format != "json":
        return _queue_export(request, session, principal, replace(filters, page_token=None, page_size=500), format)
    found = reviews.review_queue(session=session, principal=principal, filters=filters)
    return QueuePagePublic(
        items=[queue_item(r) for r in found.rows],
        total=found.total,
        page=found.page,
        pages=found.pages,
        next_page_token=found.next_token,
        previous_page_token=found.previous_token,
    )
