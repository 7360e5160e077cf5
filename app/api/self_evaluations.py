"""The unit API for self-evaluations: the same services as the pages."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import File, Query, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from app.api.deps import model_response
from app.api.models import money, rate, score
from app.api.routing import PrefixRouter
from app.api.scopes import requires
from app.api.targets import TargetParsePublic
from app.auth import PrincipalDep
from app.db import SessionDep
from app.domain.evaluation import MAX_YEAR, MIN_YEAR, STATUS_CODES, STATUS_DOC, roles_for
from app.domain.scoring import FLAGS_DOC, GRADE_DOC, GRADES
from app.services import audit, evaluations, offline
from app.services.evaluations import SPLIT_FIELDS, UNSET, EvaluationView, ResultInput
from app.services.scope import require_role
from app.uploads import read_upload

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

router = PrefixRouter(prefix="/api/v1/self-evaluations", tags=["self-evaluations"])

Status = Literal[STATUS_CODES]  # type: ignore[valid-type]


class EvaluationSummaryPublic(BaseModel):
    """一个项目的年度自评（列表项）。"""

    id: int = Field(description="自评编号")
    project_id: int = Field(description="项目编号")
    project_code: str = Field(description="项目编码", examples=["G2024A1B2C3D4E5F6A7B8"])
    project_name: str = Field(description="项目名称", examples=["无线电监测设备运维"])
    unit: str = Field(description="资金使用单位名称", examples=["示例市无线电监测站"])
    status: Status = Field(description=f"状态：{STATUS_DOC}")
    total_score: str | None = Field(
        description="总分（字符串，按评分模板的保留位数（rounding_places，默认两位），如 96.80；取整的地区为 97）",
        examples=["96.80"],
    )
    grade: str | None = Field(description=f"等级：{GRADE_DOC}；未评完为 null", examples=[GRADES[0]])
    version: int = Field(description="版本号：保存时原样带回，用于防止互相覆盖")


class EvaluationIndicatorPublic(BaseModel):
    """一个绩效指标及其填报、得分。"""

    id: int = Field(description="指标编号")
    level1: str = Field(description="一级指标：output 产出 / outcome 效益 / satisfaction 满意度")
    level2: str | None = Field(description="二级指标（术语表代码，如 quantity 数量指标）")
    name: str = Field(description="三级指标")
    period_target: str | None = Field(description="实施周期指标值（原文）")
    annual_target: str | None = Field(description="年度指标值（原文）")
    target: TargetParsePublic = Field(description="年度指标值的解析结果")
    actual: str | None = Field(description="实际完成值（原文）")
    actual_parsed: TargetParsePublic | None = Field(description="实际完成值的解析结果")
    qualitative_level: Literal["achieved", "partial", "not_achieved"] | None = Field(
        description="定性指标的达成程度：achieved 达成 / partial 部分达成 / not_achieved 未达成"
    )
    weight: str = Field(
        description="分值（按评分模板的保留位数（rounding_places，默认两位）；表中分值更细时照原样）",
        examples=["16.67"],
    )
    score: str | None = Field(
        description="计算得分（按评分模板的保留位数（rounding_places，默认两位））；无法计算时为 null",
        examples=["16.67"],
    )
    score_override: str | None = Field(description="审核人调整后的得分；计算得分保留在 score")
    given_weight: str | None = Field(
        None,
        description="绩效目标表给出的分值（原样），仅当与计分所用的分值不同时给出"
        "（表中分值合计不是 90、已按比例折算时）",
        examples=["10"],
    )
    self_score: str | None = Field(
        None,
        description="单位自评得分（0 至分值）：填写后计入总分（审核调整优先），计算得分保留在 score，"
        "两者不同时 flags 含 self_score_differs",
        examples=["7.00"],
    )
    self_score_reason: str | None = Field(None, description="单位自评得分的理由")
    flags: list[str] = Field(description=f"提示代码：{FLAGS_DOC}")
    deviation_reason: str | None = Field(description="偏差原因分析及改进措施")


class EvaluationPublic(EvaluationSummaryPublic):
    """项目支出绩效自评表。金额单位：万元（十进制字符串）；执行率为百分点。"""

    initial_budget: str | None = Field(
        None, description="年初预算数（万元，绩效目标表批复时的数）", examples=["60000.00"]
    )
    budget: str | None = Field(description="全年预算数（万元，至少两位小数，如 57550.00）", examples=["57550.00"])
    spent: str | None = Field(description="全年执行数（万元）", examples=["56022.2398"])
    budget_fiscal_funds: str | None = Field(None, description="全年预算数其中：本年财政拨款（万元）")
    budget_carried_over: str | None = Field(None, description="全年预算数其中：上年结转资金（万元）")
    budget_other_funds: str | None = Field(None, description="全年预算数其中：其他资金（万元）")
    spent_fiscal_funds: str | None = Field(None, description="全年执行数其中：本年财政拨款（万元）")
    spent_carried_over: str | None = Field(None, description="全年执行数其中：上年结转资金（万元）")
    spent_other_funds: str | None = Field(None, description="全年执行数其中：其他资金（万元）")
    split_warnings: list[str] = Field(
        default_factory=list, description="其中各项之和与合计不符时的提示（说明相差多少），不阻止保存或送审"
    )
    execution_rate: str | None = Field(
        description="预算执行率（百分点，精确值，至少两位小数，与 /api/v1/projects 相同）", examples=["97.35"]
    )
    execution_score: str | None = Field(description="预算执行率得分（满分 10）", examples=["9.73"])
    goal_completion: str | None = Field(description="年度总体目标实际完成情况")
    template: str = Field(description="评分模板及版本", examples=["national-2020@1"])
    flags: list[str] = Field(description=f"项目级提示代码：{FLAGS_DOC}")
    review_opinion: str | None = Field(description="审核意见（退回时必填）")
    indicators: list[EvaluationIndicatorPublic] = Field(description="绩效指标")


def public(v: EvaluationView) -> EvaluationPublic:
    e, p = v.evaluation, v.project
    return EvaluationPublic(
        id=e.id,
        project_id=p.id,
        project_code=p.project_code,
        project_name=p.name,
        unit=v.unit.name,
        status=e.status,
        total_score=score(e.total_score, v.places),
        grade=e.grade,
        version=e.version,
        initial_budget=money(p.initial_budget),
        budget=money(p.budget),
        spent=money(p.spent),
        **{name: money(getattr(e, name)) for name in SPLIT_FIELDS},
        split_warnings=v.split_warnings,
        execution_rate=rate(e.execution_rate),
        execution_score=score(e.execution_score, v.places),
        goal_completion=e.goal_completion,
        template=v.template_label,
        flags=list(e.flags or []),
        review_opinion=e.review_opinion,
        indicators=[
            EvaluationIndicatorPublic(
                id=i.id,
                level1=i.level1,
                level2=i.level2,
                name=i.name,
                period_target=i.period_target,
                annual_target=i.annual_target,
                target=i.target.to_json(),
                actual=i.actual,
                actual_parsed=i.actual_parsed,
                qualitative_level=i.qualitative_level,
                weight=score(i.weight, v.places),
                score=score(i.score, v.places),
                score_override=score(i.score_override, v.places),
                given_weight=None if i.given_weight is None else format(i.given_weight.normalize(), "f"),
                self_score=score(i.self_score, v.places),
                self_score_reason=i.self_score_reason,
                flags=i.flags,
                deviation_reason=i.deviation_reason,
            )
            for i in v.indicators
        ],
    )


class ResultUpdate(BaseModel):
    """一个指标的填报内容；未给出的字段保持不变。"""

    model_config = ConfigDict(extra="forbid")

    indicator_id: int = Field(description="指标编号")
    actual: str | None = Field(None, max_length=10000, description="实际完成值，如“12份”“97.5%”“2024-11-30”")
    qualitative_level: Literal["achieved", "partial", "not_achieved"] | None = Field(
        None, description="定性指标的达成程度"
    )
    score_in_band: str | None = Field(None, max_length=20, description="在达成程度区间内自选的得分（字符串）")
    deviation_reason: str | None = Field(None, max_length=10000, description="偏差原因分析及改进措施")
    self_score: str | None = Field(
        None,
        max_length=20,
        description="单位自评得分（字符串，0 至分值，位数不超过模板的保留位数）；空字符串或 null 清除。"
        "须同时有 self_score_reason；评分模板不允许自评得分时拒绝",
    )
    self_score_reason: str | None = Field(None, max_length=10000, description="自评得分的理由")


class EvaluationUpdate(BaseModel):
    """保存自评（部分更新）。十进制数以字符串传递。"""

    model_config = ConfigDict(extra="forbid")

    version: int = Field(description="读取时的版本号；已被他人修改时返回 409")
    spent: str | None = Field(
        None, max_length=40, description="全年执行数（万元），最多 6 位小数", examples=["56022.2398"]
    )
    budget: str | None = Field(
        None, max_length=40, description="全年预算数（万元，调整后）；默认为绩效目标表的数，单位可改，留有记录"
    )
    budget_fiscal_funds: str | None = Field(None, max_length=40, description="全年预算数其中：本年财政拨款（万元）")
    budget_carried_over: str | None = Field(None, max_length=40, description="全年预算数其中：上年结转资金（万元）")
    budget_other_funds: str | None = Field(None, max_length=40, description="全年预算数其中：其他资金（万元）")
    spent_fiscal_funds: str | None = Field(None, max_length=40, description="全年执行数其中：本年财政拨款（万元）")
    spent_carried_over: str | None = Field(None, max_length=40, description="全年执行数其中：上年结转资金（万元）")
    spent_other_funds: str | None = Field(None, max_length=40, description="全年执行数其中：其他资金（万元）")
    goal_completion: str | None = Field(None, max_length=10000, description="年度总体目标实际完成情况")
    results: list[ResultUpdate] = Field(default_factory=list, description="各指标的填报内容")


class VersionBody(BaseModel):
    version: int | None = Field(None, description="读取时的版本号（可选）")


@router.get("", response_model=list[EvaluationSummaryPublic], summary="本单位某年度的全部自评")
@requires("read")
def list_(
    principal: PrincipalDep,
    session: SessionDep,
    year: Annotated[int, Query(ge=MIN_YEAR, le=MAX_YEAR, description="年度")],
) -> list[EvaluationSummaryPublic]:
    """The caller's evaluations: one per project of the year."""
    evaluations.ensure_evaluations(session=session, year=year)
    return [
        EvaluationSummaryPublic(
            id=s.id,
            project_id=s.project_id,
            project_code=s.project_code,
            project_name=s.project_name,
            unit=s.unit,
            status=s.status,
            total_score=score(s.total_score),
            grade=s.grade,
            version=s.version,
        )
        for s in evaluations.list_evaluations(session=session, principal=principal, year=year)
    ]


# --- 离线填报 (before /{evaluation_id}, so "offline.xlsx" is never read as an id) ---------------

XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "离线填报表（xlsx）：每个项目一个工作表，可填写的单元格为黄色、未锁定，其余单元格受工作表保护",
        "content": {XLSX_TYPE: {"schema": {"type": "string", "format": "binary"}}},
    }
}


class CellProblemPublic(BaseModel):
    """一个未被接受的单元格。"""

    sheet: str = Field(description="工作表名称")
    cell: str | None = Field(description="单元格，如 G15；针对整个项目的问题为 null")
    row: int | None = Field(description="行号")
    column: str | None = Field(description="列字母，如 G")
    column_title: str = Field(description="列（或行）的名称，如 实际完成值")
    message: str = Field(description="原因（与在页面上填写时的提示相同）")


class DifferencePublic(BaseModel):
    """下载之后在系统中被修改的一项。"""

    field: str = Field(description="字段")
    in_file: str = Field(description="文件中的值")
    now: str = Field(description="系统中现在的值")


class OfflineOutcomePublic(BaseModel):
    """一个工作表（一个项目）的上传结果：整体保存或整体不保存。"""

    sheet: str = Field(description="工作表名称")
    evaluation_id: int = Field(description="自评编号")
    project_name: str = Field(description="项目名称")
    project_code: str = Field(description="项目编码")
    result: Literal["saved", "unchanged", "refused"] = Field(
        description="saved 已保存（已重新计分）/ unchanged 文件中没有改动 / "
        "refused 未保存（原因见 message、problems、differences）"
    )
    changed: int = Field(description="送去保存的改动单元格数")
    message: str = Field(description="说明（未保存的原因）")
    problems: list[CellProblemPublic] = Field(description="未被接受的单元格，按工作表、行、列")
    differences: list[DifferencePublic] = Field(
        description="下载之后系统中已变化的字段（版本过期时）：文件中的值与现在的值"
    )


class OfflineReportPublic(BaseModel):
    """离线填报表的上传结果。"""

    ok: bool = Field(description="没有被拒绝的项目")
    projects: list[OfflineOutcomePublic] = Field(description="每个项目的结果")


def offline_public(report: offline.Report) -> OfflineReportPublic:
    return OfflineReportPublic(
        ok=report.ok,
        projects=[
            OfflineOutcomePublic(
                sheet=o.sheet,
                evaluation_id=o.evaluation_id,
                project_name=o.project_name,
                project_code=o.project_code,
                result=o.result,
                changed=o.changed,
                message=o.message,
                problems=[
                    CellProblemPublic(
                        sheet=p.sheet,
                        cell=p.cell,
                        row=p.row,
                        column=p.column_letter,
                        column_title=p.column,
                        message=p.message,
                    )
                    for p in o.problems
                ],
                differences=[DifferencePublic(field=d.field, in_file=d.in_file, now=d.now) for d in o.differences],
            )
            for o in report.outcomes
        ],
    )


def _xlsx(body: bytes, filename: str) -> Response:
    disposition = f"attachment; filename=\"offline.xlsx\"; filename*=UTF-8''{quote(filename)}"
    return Response(body, media_type=XLSX_TYPE, headers={"Content-Disposition": disposition})


@router.get(
    "/offline.xlsx", summary="下载某年度全部自评的离线填报表（xlsx）", response_class=Response, responses=XLSX_RESPONSE
)
@requires("read")
def offline_year(
    principal: PrincipalDep,
    session: SessionDep,
    year: Annotated[int, Query(ge=MIN_YEAR, le=MAX_YEAR, description="年度")],
) -> Response:
    """每个项目一个工作表；填好后用 POST /api/v1/self-evaluations/offline 上传。"""
    views = offline.year_views(session=session, principal=principal, year=year)
    audit.exported(
        session=session,
        actor=principal,
        what="/api/v1/self-evaluations/offline.xlsx",
        fmt="xlsx",
        filters={"year": year},
    )
    return _xlsx(offline.workbook(views), f"{year}年度自评表-离线填报.xlsx")


@router.get(
    "/{evaluation_id}/offline.xlsx",
    summary="下载一份自评的离线填报表（xlsx）",
    response_class=Response,
    responses=XLSX_RESPONSE,
)
@requires("read")
def offline_one(evaluation_id: int, principal: PrincipalDep, session: SessionDep) -> Response:
    """一个项目的离线填报表。"""
    view = evaluations.view(session=session, principal=principal, evaluation_id=evaluation_id)
    audit.exported(
        session=session,
        actor=principal,
        what=f"/api/v1/self-evaluations/{evaluation_id}/offline.xlsx",
        fmt="xlsx",
        filters={"evaluation_id": evaluation_id},
    )
    return _xlsx(offline.workbook([view]), f"{view.project.year}年度自评表-离线填报-{view.project.name[:40]}.xlsx")


@router.post(
    "/offline",
    response_model=OfflineReportPublic,
    summary="上传填好的离线填报表",
    responses={
        413: {"description": "文件超过 JIXIAO_OFFLINE_MAX_BYTES"},
        422: {
            "description": "文件无法读取、不是本系统的离线填报表或超过行数上限（problem 正文）；"
            "或有项目未保存（正文同 200，ok 为 false，其余项目已保存）",
        },
    },
)
@requires("write")
async def offline_upload(
    request: Request,
    principal: PrincipalDep,
    session: SessionDep,
    file: Annotated[UploadFile, File(description="从本系统下载、填好的离线填报表（.xlsx）")],
) -> JSONResponse:
    """每个工作表（项目）用与页面填写相同的规则保存，整体保存或整体不保存；版本过期（下载后已被修改）的项目
    列出差异后拒绝，已送审或已审核的项目说明原因后拒绝，未被接受的单元格按工作表、行、列列出。"""
    require_role(principal, *roles_for("save"))
    limits = offline.limits_of(request.app.state.settings)
    data = await read_upload(file, limits.max_bytes)
    report = await run_in_threadpool(
        lambda: offline.upload(session=session, principal=principal, data=data, limits=limits)
    )
    body = offline_public(report).model_dump(mode="json")
    return JSONResponse(body, status_code=200 if report.ok else 422)


@router.get("/{evaluation_id}", response_model=EvaluationPublic, summary="一份自评（项目支出绩效自评表）")
@requires("read")
def get(evaluation_id: int, principal: PrincipalDep, session: SessionDep) -> EvaluationPublic:
    """One evaluation with its indicators, targets, actuals, scores and flags."""
    return public(evaluations.view(session=session, principal=principal, evaluation_id=evaluation_id))


@router.put(
    "/{evaluation_id}",
    response_model=EvaluationPublic,
    summary="保存自评（部分更新）",
    responses={
        409: {"description": "版本已过期（他人已修改）或状态不允许修改"},
        422: {"description": "输入有误，errors 中逐字段说明"},
    },
)
@requires("write")
def put(evaluation_id: int, body: EvaluationUpdate, principal: PrincipalDep, session: SessionDep) -> Any:
    """Save actuals and figures; answers the recomputed evaluation (built and validated once, here)."""
    given = body.model_fields_set
    results = []
    for r in body.results:
        fields = r.model_fields_set
        results.append(
            ResultInput(
                indicator_id=r.indicator_id,
                actual=r.actual if "actual" in fields else UNSET,
                qualitative_level=r.qualitative_level if "qualitative_level" in fields else UNSET,
                score_in_band=r.score_in_band if "score_in_band" in fields else UNSET,
                deviation_reason=r.deviation_reason if "deviation_reason" in fields else UNSET,
                self_score=r.self_score if "self_score" in fields else UNSET,
                self_score_reason=r.self_score_reason if "self_score_reason" in fields else UNSET,
            )
        )
    v = evaluations.save(
        session=session,
        principal=principal,
        evaluation_id=evaluation_id,
        version=body.version,
        spent=body.spent if "spent" in given else UNSET,
        budget=body.budget if "budget" in given else UNSET,
        goal_completion=body.goal_completion if "goal_completion" in given else UNSET,
        results=results,
        split={name: getattr(body, name) for name in SPLIT_FIELDS if name in given},
    )
    return model_response(public(v))


@router.post("/{evaluation_id}/submit", response_model=EvaluationPublic, summary="送审")
@requires("write")
def submit(
    evaluation_id: int, principal: PrincipalDep, session: SessionDep, body: VersionBody | None = None
) -> EvaluationPublic:
    """Submit for review; 422 lists every problem at its field."""
    return public(
        evaluations.submit(
            session=session, principal=principal, evaluation_id=evaluation_id, version=body.version if body else None
        )
    )


@router.post("/{evaluation_id}/withdraw", response_model=EvaluationPublic, summary="撤回（审核前）")
@requires("write")
def withdraw(evaluation_id: int, principal: PrincipalDep, session: SessionDep) -> EvaluationPublic:
    """Withdraw a submission nobody has reviewed yet."""
    return public(evaluations.withdraw(session=session, principal=principal, evaluation_id=evaluation_id))
