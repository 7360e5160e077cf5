"""调整 through /api/v1: request a change of an approved 绩效目标表, review it, read the requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from pydantic import BaseModel, ConfigDict, Field

from app.api.routing import PrefixRouter
from app.api.scopes import requires
from app.auth import PrincipalDep
from app.db import SessionDep
from app.domain.evaluation import TARGET_STATUS_DOC
from app.services import adjustments

ADJUSTMENT_STATUS_DOC = "调整申请的状态（与目标表同一组代码；approved 即已生效）：" + TARGET_STATUS_DOC

router = PrefixRouter(prefix="/api/v1", tags=["绩效目标表"])

MAX_ID = 2**31 - 1
ProjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="项目ID")]
AdjustmentId = Annotated[int, Path(ge=1, le=MAX_ID, description="调整申请ID")]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "未提供令牌，或令牌无效、已吊销"},
    403: {"description": "角色或令牌权限范围不允许此操作"},
    404: {"description": "项目或调整申请不存在，或无权查看"},
    409: {"description": "目标表未批复、已有调整申请在审核中，或版本号已过期"},
    422: {"description": "输入有误：errors 逐项列出字段与中文说明"},
}


class ChangePublic(BaseModel):
    indicator_id: int | None = Field(description="指标ID；null 表示项目的目标")
    name: str = Field(description="指标名称（或项目名称）")
    field: str = Field(description="annual_target / period_target / weight / annual_goal / period_goal")
    old: str | None = Field(description="调整前的值")
    new: str | None = Field(description="调整后的值")


class AdjustmentPublic(BaseModel):
    id: int
    project_id: int
    number: int = Field(description="本项目的第几次调整申请")
    status: str = Field(description=ADJUSTMENT_STATUS_DOC)
    reason: str
    opinion: str | None
    applied_version: int | None = Field(description="生效后目标表的版本号")
    version: int = Field(description="调整申请的版本号：审核时原样带回")
    requested_by: str | None
    created_at: datetime
    changes: list[ChangePublic]


class IndicatorChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    indicator_id: int = Field(ge=1, le=MAX_ID)
    period_target: str | None = Field(None, max_length=500, description="调整后的实施周期指标值")
    annual_target: str | None = Field(None, max_length=500, description="调整后的年度指标值")
    weight: str | None = Field(None, max_length=20, description="调整后的分值")


class AdjustmentRequest(BaseModel):
    """只写要调整的值；与现行目标表相同的值不计入。"""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "reason": "上级调减任务量",
                    "indicators": [{"indicator_id": 5001, "annual_target": "≥10份"}],
                }
            ]
        },
    )
    reason: str = Field(max_length=5000, description="调整原因（必填）")
    indicators: list[IndicatorChange] = Field(default_factory=list, max_length=1000)
    annual_goal: str | None = Field(None, max_length=20000)
    period_goal: str | None = Field(None, max_length=20000)


class AdjustmentAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: int = Field(ge=1, le=MAX_ID, description="调整申请的版本号")
    opinion: str | None = Field(None, max_length=5000, description="意见；退回时必填")


def _public(adjustment, who: str | None) -> AdjustmentPublic:
    return AdjustmentPublic(
        id=adjustment.id,
        project_id=adjustment.project_id,
        number=adjustment.number,
        status=adjustment.status,
        reason=adjustment.reason,
        opinion=adjustment.opinion,
        applied_version=adjustment.applied_version,
        version=adjustment.version,
        requested_by=who,
        created_at=adjustment.created_at,
        changes=[ChangePublic(**c.__dict__) for c in adjustments.changes_of(adjustment)],
    )


@router.get(
    "/projects/{project_id}/adjustments",
    response_model=list[AdjustmentPublic],
    summary="目标表的调整申请",
    responses=ERRORS,
)
@requires("read")
def list_adjustments(session: SessionDep, principal: PrincipalDep, project_id: ProjectId) -> Any:
    """本项目全部调整申请，最新的在前；每项列出改了什么（原值 → 新值）。"""
    rows = adjustments.list_for(session=session, principal=principal, project_id=project_id)
    return [_public(a, who) for a, who in rows]


@router.post(
    "/projects/{project_id}/adjustments",
    status_code=201,
    response_model=AdjustmentPublic,
    summary="申请调整已批复的目标表",
    responses=ERRORS,
)
@requires("write")
def request_adjustment(
    session: SessionDep, principal: PrincipalDep, project_id: ProjectId, body: AdjustmentRequest
) -> Any:
    """单位对已批复的目标表申请调整指标值、分值或目标（写明原因）；主管部门审核、财政局同意后生效为新版本。"""
    indicators = {
        c.indicator_id: {k: v for k, v in c.model_dump(exclude_unset=True).items() if k != "indicator_id"}
        for c in body.indicators
    }
    goals = {k: getattr(body, k) for k in ("annual_goal", "period_goal") if k in body.model_fields_set}
    adjustment = adjustments.request(
        session=session,
        principal=principal,
        project_id=project_id,
        reason=body.reason,
        indicators=indicators,
        project_fields=goals,
    )
    return _public(adjustment, principal.name)


def _act(session, principal, adjustment_id: int, action: str, body: AdjustmentAction) -> AdjustmentPublic:
    adjustment = adjustments.act(
        session=session,
        principal=principal,
        adjustment_id=adjustment_id,
        action=action,
        version=body.version,
        opinion=body.opinion,
    )
    return _public(adjustment, None)


@router.post(
    "/adjustments/{adjustment_id}/approve",
    response_model=AdjustmentPublic,
    summary="同意调整申请",
    description="主管部门审核通过；财政局同意后生效（目标表版本号加 1，自评按新值重新计分并记录所用版本）。",
    responses=ERRORS,
)
@requires("review")
def approve_adjustment(
    session: SessionDep, principal: PrincipalDep, adjustment_id: AdjustmentId, body: AdjustmentAction
) -> Any:
    """同意一份调整申请。"""
    return _act(session, principal, adjustment_id, "approve", body)


@router.post(
    "/adjustments/{adjustment_id}/return",
    response_model=AdjustmentPublic,
    summary="退回调整申请（须写意见）",
    responses=ERRORS,
)
@requires("review")
def return_adjustment(
    session: SessionDep, principal: PrincipalDep, adjustment_id: AdjustmentId, body: AdjustmentAction
) -> Any:
    """退回一份调整申请，目标表不变。"""
    return _act(session, principal, adjustment_id, "return", body)
