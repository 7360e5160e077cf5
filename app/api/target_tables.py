"""POST/PUT/PATCH/DELETE /api/v1/projects and their indicators: a project's 绩效目标表 entries."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from app.api.catalog import project_detail_public
from app.api.models import ProjectDetailPublic
from app.api.routing import PrefixRouter
from app.api.scopes import requires
from app.auth import PrincipalDep
from app.db import SessionDep
from app.domain.evaluation import MAX_YEAR, MIN_YEAR, TARGET_ACTIONS_DOC
from app.services import target_tables
from app.services.target_tables import ProjectInput

router = PrefixRouter(prefix="/api/v1", tags=["绩效目标表"])

MAX_ID = 2**31 - 1
ProjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="项目ID")]
IndicatorId = Annotated[int, Path(ge=1, le=MAX_ID, description="指标ID")]
VERSION_DOC = "目标表版本号：读取项目时得到的 version，原样带回；期间有人改过则 409，修改未保存"
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "未提供令牌，或令牌无效、已吊销"},
    403: {"description": "角色或令牌权限范围不允许修改目标表（主管部门只审核，不填写）"},
    404: {"description": "项目或指标不存在，或无权查看"},
    409: {"description": "版本号已过期（他人已修改），或目标表已申报、已批复，不能再改"},
    422: {"description": "输入有误：errors 逐项列出字段（如 indicators[0].annual_target）与中文说明"},
}
MONEY_DOC = "（万元，字符串，最多 6 位小数，不能为负；空或 null 表示无）"


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IndicatorFields(_Input):
    """一行绩效指标：一级、二级、三级指标，实施周期与年度指标值，分值。"""

    level1: str = Field(
        max_length=40,
        description="一级指标：评分模板中的类别代号（output 产出 / outcome 效益 / satisfaction 满意度），"
        "也可写编码或名称（1、产出指标）",
        examples=["output"],
    )
    level2: str | None = Field(
        None, max_length=40, description="二级指标：代号、编码或名称（quantity、11、数量指标）；须属于一级指标"
    )
    name: str = Field(max_length=1000, description="三级指标名称", examples=["设备巡检次数"])
    period_target: str | None = Field(None, max_length=500, description="实施周期指标值（原文）", examples=["≥48次"])
    annual_target: str = Field(
        max_length=500, description="年度指标值（原文），保存时识别比较符、数值与单位", examples=["≥12次"]
    )
    weight: str | None = Field(None, max_length=20, description="分值（字符串，最多 2 位小数）", examples=["10"])
    position: int | None = Field(None, ge=1, le=100000, description="在目标表中的序号；不填则排在最后")


class IndicatorWrite(IndicatorFields):
    """新增或整体替换一行指标（带目标表版本号）。"""

    version: int = Field(ge=1, le=MAX_ID, description=VERSION_DOC, examples=[1])


class IndicatorPatch(_Input):
    """只修改给出的字段（带目标表版本号）。"""

    version: int = Field(ge=1, le=MAX_ID, description=VERSION_DOC, examples=[1])
    level1: str | None = Field(None, max_length=40, description="一级指标")
    level2: str | None = Field(None, max_length=40, description="二级指标")
    name: str | None = Field(None, max_length=1000, description="三级指标名称")
    period_target: str | None = Field(None, max_length=500, description="实施周期指标值（原文）")
    annual_target: str | None = Field(None, max_length=500, description="年度指标值（原文）", examples=["≥95%"])
    weight: str | None = Field(None, max_length=20, description="分值")
    position: int | None = Field(None, ge=1, le=100000, description="序号")


class ProjectFields(_Input):
    """项目的目标与资金（与读取接口同名的字段）。"""

    name: str = Field(max_length=500, description="项目名称", examples=["无线电监测设备运维"])
    period_goal: str | None = Field(None, max_length=20000, description="实施周期目标")
    annual_goal: str | None = Field(
        None, max_length=20000, description="年度目标", examples=["按时完成全年监测任务，设备完好率不低于95%"]
    )
    initial_budget: str | None = Field(None, max_length=30, description="年初预算数" + MONEY_DOC, examples=["120"])
    budget: str | None = Field(None, max_length=30, description="全年预算数" + MONEY_DOC, examples=["120"])
    fiscal_funds: str | None = Field(None, max_length=30, description="本年财政拨款" + MONEY_DOC)
    carried_over: str | None = Field(None, max_length=30, description="上年结转资金" + MONEY_DOC)
    other_funds: str | None = Field(None, max_length=30, description="其他资金" + MONEY_DOC)


class ProjectCreate(ProjectFields):
    """新建一个项目的绩效目标表（草稿），可同时给出全部指标。"""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "year": 2026,
                    "name": "无线电监测设备运维",
                    "annual_goal": "按时完成全年监测任务",
                    "budget": "120",
                    "indicators": [
                        {"level1": "output", "level2": "quantity", "name": "监测报告", "annual_target": "≥12份"},
                        {"level1": "outcome", "level2": "social", "name": "干扰投诉处理率", "annual_target": "100%"},
                    ],
                }
            ]
        },
    )

    year: int = Field(ge=MIN_YEAR, le=MAX_YEAR, description="预算年度", examples=[2026])
    unit_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="所属单位ID：单位账号不填（即本单位）；财政局、管理员必填"
    )
    project_code: str | None = Field(None, max_length=64, description="项目编码；不填则自动生成（21 位）")
    indicators: list[IndicatorFields] = Field(default_factory=list, max_length=500, description="绩效指标，按顺序")


class ProjectPut(ProjectFields):
    """整体替换项目字段（未给出的可选字段清空；指标另行修改）。"""

    version: int = Field(ge=1, le=MAX_ID, description=VERSION_DOC, examples=[1])


class ProjectPatch(_Input):
    """只修改给出的项目字段。"""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"version": 3, "budget": "150"}]})

    version: int = Field(ge=1, le=MAX_ID, description=VERSION_DOC, examples=[1])
    name: str | None = Field(None, max_length=500, description="项目名称")
    period_goal: str | None = Field(None, max_length=20000, description="实施周期目标")
    annual_goal: str | None = Field(None, max_length=20000, description="年度目标")
    initial_budget: str | None = Field(None, max_length=30, description="年初预算数" + MONEY_DOC)
    budget: str | None = Field(None, max_length=30, description="全年预算数" + MONEY_DOC)
    fiscal_funds: str | None = Field(None, max_length=30, description="本年财政拨款" + MONEY_DOC)
    carried_over: str | None = Field(None, max_length=30, description="上年结转资金" + MONEY_DOC)
    other_funds: str | None = Field(None, max_length=30, description="其他资金" + MONEY_DOC)


def _fields(body: BaseModel, *, only_given: bool) -> dict[str, Any]:
    return body.model_dump(exclude={"version"}, exclude_unset=only_given)


@router.post(
    "/projects",
    status_code=201,
    response_model=ProjectDetailPublic,
    summary="新建项目绩效目标表",
    responses=WRITE_ERRORS,
)
@requires("write")
def create_project(session: SessionDep, principal: PrincipalDep, body: ProjectCreate) -> Any:
    """新建一个项目及其绩效指标，状态为草稿；每个指标值都经识别（见返回的 target）。"""
    project = target_tables.create_project(
        session=session,
        principal=principal,
        data=ProjectInput(
            year=body.year,
            unit_id=body.unit_id,
            project_code=body.project_code,
            fields=body.model_dump(include=set(target_tables.PROJECT_FIELDS)),
            indicators=[i.model_dump() for i in body.indicators],
        ),
    )
    return project_detail_public(session=session, principal=principal, project_id=project.id)


@router.put(
    "/projects/{project_id}", response_model=ProjectDetailPublic, summary="整体修改项目字段", responses=WRITE_ERRORS
)
@requires("write")
def put_project(session: SessionDep, principal: PrincipalDep, project_id: ProjectId, body: ProjectPut) -> Any:
    """替换项目的名称、目标与资金（未给出的可选字段清空）；仅草稿或已退回的目标表可改。"""
    target_tables.update_project(
        session=session,
        principal=principal,
        project_id=project_id,
        version=body.version,
        fields=_fields(body, only_given=False),
    )
    return project_detail_public(session=session, principal=principal, project_id=project_id)


@router.patch(
    "/projects/{project_id}", response_model=ProjectDetailPublic, summary="部分修改项目字段", responses=WRITE_ERRORS
)
@requires("write")
def patch_project(session: SessionDep, principal: PrincipalDep, project_id: ProjectId, body: ProjectPatch) -> Any:
    """只修改给出的项目字段；仅草稿或已退回的目标表可改。"""
    target_tables.update_project(
        session=session,
        principal=principal,
        project_id=project_id,
        version=body.version,
        fields=_fields(body, only_given=True),
    )
    return project_detail_public(session=session, principal=principal, project_id=project_id)


@router.delete("/projects/{project_id}", status_code=204, summary="删除未申报的项目", responses=WRITE_ERRORS)
@requires("write")
def delete_project(
    session: SessionDep,
    principal: PrincipalDep,
    project_id: ProjectId,
    version: Annotated[int, Query(ge=1, le=MAX_ID, description=VERSION_DOC)],
) -> Response:
    """删除草稿或已退回的目标表：项目、指标及其空白自评；删除前的内容记入审计。"""
    target_tables.delete_project(session=session, principal=principal, project_id=project_id, version=version)
    return Response(status_code=204)


@router.post(
    "/projects/{project_id}/indicators",
    status_code=201,
    response_model=ProjectDetailPublic,
    summary="新增一行绩效指标",
    responses=WRITE_ERRORS,
)
@requires("write")
def add_indicator(session: SessionDep, principal: PrincipalDep, project_id: ProjectId, body: IndicatorWrite) -> Any:
    """在目标表中新增一行指标；返回整个项目（含新的 version）。"""
    target_tables.add_indicator(
        session=session,
        principal=principal,
        project_id=project_id,
        version=body.version,
        data=_fields(body, only_given=False),
    )
    return project_detail_public(session=session, principal=principal, project_id=project_id)


def _indicator_route(session, principal, indicator_id: int, body: BaseModel, *, only_given: bool) -> Any:
    project = target_tables.update_indicator(
        session=session,
        principal=principal,
        indicator_id=indicator_id,
        version=body.version,
        fields=_fields(body, only_given=only_given),
    )
    return project_detail_public(session=session, principal=principal, project_id=project.id)


@router.put(
    "/indicators/{indicator_id}", response_model=ProjectDetailPublic, summary="整体修改一行指标", responses=WRITE_ERRORS
)
@requires("write")
def put_indicator(session: SessionDep, principal: PrincipalDep, indicator_id: IndicatorId, body: IndicatorWrite) -> Any:
    """替换一行指标的全部字段并重新识别指标值；返回整个项目（含新的 version）。"""
    return _indicator_route(session, principal, indicator_id, body, only_given=False)


@router.patch(
    "/indicators/{indicator_id}", response_model=ProjectDetailPublic, summary="部分修改一行指标", responses=WRITE_ERRORS
)
@requires("write")
def patch_indicator(
    session: SessionDep, principal: PrincipalDep, indicator_id: IndicatorId, body: IndicatorPatch
) -> Any:
    """只修改给出的字段（如只改年度指标值）；返回整个项目（含新的 version）。"""
    return _indicator_route(session, principal, indicator_id, body, only_given=True)


@router.delete(
    "/indicators/{indicator_id}", response_model=ProjectDetailPublic, summary="删除一行指标", responses=WRITE_ERRORS
)
@requires("write")
def delete_indicator(
    session: SessionDep,
    principal: PrincipalDep,
    indicator_id: IndicatorId,
    version: Annotated[int, Query(ge=1, le=MAX_ID, description=VERSION_DOC)],
) -> Any:
    """删除一行指标；返回整个项目（含新的 version）。"""
    project = target_tables.delete_indicator(
        session=session, principal=principal, indicator_id=indicator_id, version=version
    )
    return project_detail_public(session=session, principal=principal, project_id=project.id)


class TargetAction(_Input):
    """申报、审核通过、批复或退回（带目标表版本号；退回须写意见）。"""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"version": 4, "opinion": "满意度指标请写明调查方式和目标值"}]}
    )

    version: int = Field(ge=1, le=MAX_ID, description=VERSION_DOC, examples=[4])
    opinion: str | None = Field(None, max_length=5000, description="意见；退回时必填")


def _act(session, principal, project_id: int, action: str, body: TargetAction) -> Any:
    target_tables.act(
        session=session,
        principal=principal,
        project_id=project_id,
        action=action,
        version=body.version,
        opinion=body.opinion,
    )
    return project_detail_public(session=session, principal=principal, project_id=project_id)


@router.post(
    "/projects/{project_id}/target-table/submit",
    response_model=ProjectDetailPublic,
    summary="单位申报目标表",
    description="先做质量检查（有 error 时 422 并逐项列出），通过后申报；返回整个项目。目标表的流转："
    + TARGET_ACTIONS_DOC,
    responses=WRITE_ERRORS,
)
@requires("write")
def submit_target_table(session: SessionDep, principal: PrincipalDep, project_id: ProjectId, body: TargetAction) -> Any:
    """先做质量检查（有 error 时 422 并逐项列出），通过后申报；返回整个项目。"""
    return _act(session, principal, project_id, "submit", body)


@router.post(
    "/projects/{project_id}/target-table/approve",
    response_model=ProjectDetailPublic,
    summary="主管部门审核通过或财政局批复目标表",
    description="主管部门审核通过，财政局批复（批复后只读）；返回整个项目。目标表的流转：" + TARGET_ACTIONS_DOC,
    responses=WRITE_ERRORS,
)
@requires("review")
def approve_target_table(
    session: SessionDep, principal: PrincipalDep, project_id: ProjectId, body: TargetAction
) -> Any:
    """主管部门审核通过，财政局批复（批复后只读）；返回整个项目。"""
    return _act(session, principal, project_id, "approve", body)


@router.post(
    "/projects/{project_id}/target-table/return",
    response_model=ProjectDetailPublic,
    summary="退回目标表（须写意见）",
    description="退回给单位修改，opinion 必填；返回整个项目。目标表的流转：" + TARGET_ACTIONS_DOC,
    responses=WRITE_ERRORS,
)
@requires("review")
def return_target_table(session: SessionDep, principal: PrincipalDep, project_id: ProjectId, body: TargetAction) -> Any:
    """退回给单位修改，opinion 必填；返回整个项目。"""
    return _act(session, principal, project_id, "return", body)
