"""/api/v1/funds: special funds (专项资金), their allocation tree, deductions and the lifecycle."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import File, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from app.api.models import money, rate, score
from app.api.routing import PrefixRouter
from app.api.scopes import requires
from app.auth import PrincipalDep
from app.db import SessionDep
from app.domain.evaluation import MAX_YEAR, MIN_YEAR, STATUS_DOC, STATUS_LABELS, flag_labels
from app.domain.funds import (
    FIGURE_LABELS,
    FUND_TEMPLATES,
    GUANGDONG_FUND,
    IMPLEMENTATIONS,
    METHOD_LABELS,
    NODE_KINDS,
    RECIPIENT_KINDS,
)
from app.services import funds
from app.services.imports import read_limits
from app.uploads import read_upload

router = PrefixRouter(prefix="/api/v1", tags=["专项资金"])

MAX_ID = 2**31 - 1
FundId = Annotated[int, Path(ge=1, le=MAX_ID, description="专项资金ID")]
NodeId = Annotated[int, Path(ge=1, le=MAX_ID, description="资金分配节点ID")]
DeductionId = Annotated[int, Path(ge=1, le=MAX_ID, description="扣分记录ID")]
IndicatorId = Annotated[int, Path(ge=1, le=MAX_ID, description="专项资金绩效指标ID")]
VersionQuery = Annotated[
    int, Query(ge=1, le=MAX_ID, description="专项资金的版本号（fund_version）：删除所基于的版本；过期则 409")
]
MONEY_DOC = "（万元，字符串，最多 6 位小数，不能为负）"
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "未提供令牌，或令牌无效、已吊销"},
    404: {"description": "专项资金或节点不存在，或无权查看（用款单位只能看到本单位的节点及其上级的合计）"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **READ_ERRORS,
    403: {"description": "角色或令牌权限范围不允许（只有财政局和该专项资金的主管部门可以修改）"},
    409: {
        "description": "自评已送审或已审核，资金分配和扣分不能再改；或修改所基于的版本已过期（他人已修改）；"
        "或同名专项资金已存在"
    },
    422: {"description": "输入有误：errors 逐项列出字段与中文说明（导入时为行号和列名）"},
}
VERSION_DOC = "专项资金的版本号（读取时的 fund_version）：修改所基于的版本；期间有人改过则 409，修改不保存"
FLAGS_DOC = "；".join(
    f"{code} {label}"
    for code, label in flag_labels().items()
    if code in ("allocation_mismatch", "spent_mismatch", "spent_partial", "spent_over", "fund_spent_missing")
)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FundCreate(_Input):
    """新建一项专项资金（财政局须指定主管部门；主管部门账号只能为本部门建立）。"""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "year": 2019,
                    "name": "省级促进经济高质量发展专项资金（信息化和信息产业发展）",
                    "fiscal_power": "信息化和信息产业发展",
                    "policy_tasks": 3,
                    "total": "57550",
                    "department_id": 1,
                    "declared": {"execution_rate": "97.42"},
                }
            ]
        },
    )

    year: int = Field(ge=MIN_YEAR, le=MAX_YEAR, description="年度", examples=[2019])
    name: str = Field(max_length=500, description="专项资金名称")
    fiscal_power: str = Field("", max_length=200, description="专项资金“财政事权”名称")
    policy_tasks: int | None = Field(None, ge=0, le=10000, description="对应“政策任务”数量")
    total: str = Field(max_length=30, description="本次评价涉及的专项资金总额" + MONEY_DOC, examples=["57550"])
    department_id: int | None = Field(None, ge=1, le=MAX_ID, description="主管部门ID：财政局必填，主管部门账号不填")
    template_name: str = Field(
        GUANGDONG_FUND, max_length=64, description=f"评分模板：{' / '.join(FUND_TEMPLATES)}", examples=[GUANGDONG_FUND]
    )
    declared: dict[str, str] = Field(
        default_factory=dict,
        description="报告中申报的数字，与重新计算的并列核对：execution_rate 资金支出率（%）、"
        "arrival_rate 资金到位率（%）、total_score 总分",
        examples=[{"execution_rate": "97.42", "total_score": "96.8"}],
    )


class FundPut(_Input):
    """整体修改专项资金的名称、年度、总额、财政事权、政策任务数和申报数字（评分模板建立后不能更换）。"""

    year: int = Field(ge=MIN_YEAR, le=MAX_YEAR, description="年度")
    name: str = Field(max_length=500, description="专项资金名称")
    fiscal_power: str = Field("", max_length=200, description="财政事权名称")
    policy_tasks: int | None = Field(None, ge=0, le=10000, description="政策任务数量")
    total: str = Field(max_length=30, description="专项资金总额" + MONEY_DOC)
    declared: dict[str, str] = Field(default_factory=dict, description="报告中申报的数字（同新建）")
    version: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description=VERSION_DOC,
    )


class FundNodeWrite(_Input):
    """一个资金分配节点：处室、专题、资金安排或用款单位/地市。"""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "kind": "recipient",
                    "name": "中国移动通信集团广东有限公司",
                    "parent_id": 2,
                    "allocated": "1305",
                    "spent": "1305",
                    "arrival_dates": "2019年4月",
                }
            ]
        },
    )

    kind: str = Field(
        max_length=20, description=f"节点类型：{' / '.join(NODE_KINDS)}（处室 / 专题 / 资金安排 / 用款单位或地市）"
    )
    name: str = Field(max_length=500, description="名称")
    parent_id: int | None = Field(None, ge=1, le=MAX_ID, description="上级节点ID；最上级（处室）不填")
    allocated: str = Field(max_length=30, description="下达金额" + MONEY_DOC)
    arrived: str | None = Field(None, max_length=30, description="到位金额" + MONEY_DOC)
    arrival_dates: str | None = Field(None, max_length=200, description="到位时间，原样保存（如 2019年4月）")
    spent: str | None = Field(None, max_length=30, description="实际支出" + MONEY_DOC + "；通常填在用款单位一级")
    recipient_kind: str | None = Field(None, max_length=20, description=f"收款方类型：{' / '.join(RECIPIENT_KINDS)}")
    unit_id: int | None = Field(None, ge=1, le=MAX_ID, description="关联的用款单位ID（该单位可查看本节点）")
    implementation: str | None = Field(None, max_length=20, description=f"实施方式：{' / '.join(IMPLEMENTATIONS)}")
    purpose: str | None = Field(None, max_length=20000, description="用途及绩效目标，原样保存")
    own_score: str | None = Field(None, max_length=10, description="处室自评得分（与总分并列显示，不计入总分）")
    own_score_note: str | None = Field(None, max_length=2000, description="处室自评得分的说明")
    position: int | None = Field(None, ge=1, le=100000, description="在同级中的顺序")
    version: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description=VERSION_DOC + "（新增时可不填）",
    )


class FundNodePut(FundNodeWrite):
    """整体替换一个节点的字段；须带上修改所基于的专项资金版本号。"""

    version: int = Field(
        ge=1,
        le=MAX_ID,
        description=VERSION_DOC,
    )  # type: ignore[assignment]


class FundSpendingReport(_Input):
    """用款单位填报本单位节点的实际支出和到位情况。"""

    spent: str | None = Field(None, max_length=30, description="实际支出" + MONEY_DOC, examples=["1305"])
    arrived: str | None = Field(None, max_length=30, description="到位金额" + MONEY_DOC)
    arrival_dates: str | None = Field(None, max_length=200, description="到位时间，原样保存")
    version: int = Field(
        ge=1,
        le=MAX_ID,
        description=VERSION_DOC,
    )


class FundDeductionCreate(_Input):
    """记录一项扣分：扣分制项目、分数、理由，可注明所涉指标或节点。"""

    item_code: str = Field(
        max_length=16, description="评分模板中的项目代号（如 12 资金落实、32 效率性）", examples=["32"]
    )
    points: str = Field(max_length=10, description="扣分，正数，最多 2 位小数", examples=["0.5"])
    reason: str = Field(max_length=2000, description="扣分理由", examples=["部分地市资金划拨支付进度慢于工作要求"])
    indicator: str | None = Field(None, max_length=200, description="所涉指标（如 时效指标）")
    node_id: int | None = Field(None, ge=1, le=MAX_ID, description="所涉节点（如某用款单位）ID")
    version: int | None = Field(
        None,
        ge=1,
        le=MAX_ID,
        description=VERSION_DOC,
    )


class FundOpinion(_Input):
    """退回、终审后重新打开须写意见；其他操作可不写。"""

    opinion: str | None = Field(None, max_length=5000, description="意见")
    version: int | None = Field(None, ge=1, le=MAX_ID, description="自评版本号；给出且已过期时 409")


# --- responses -------------------------------------------------------------------------------------


class FundNodePublic(BaseModel):
    id: int = Field(description="节点ID")
    parent_id: int | None = Field(description="上级节点ID")
    path: list[str] = Field(description="从最上级到上级节点的名称")
    depth: int = Field(description="层级，最上级为 0")
    kind: str = Field(description="节点类型：division 处室 / topic 专题 / item 资金安排 / recipient 用款单位或地市")
    name: str = Field(description="名称")
    recipient_kind: str | None = Field(description="收款方类型：unit 用款单位 / city 地市")
    unit_id: int | None = Field(description="关联的用款单位ID")
    unit_name: str | None = Field(description="关联的用款单位名称")
    implementation: str | None = Field(description="实施方式：" + " / ".join(IMPLEMENTATIONS))
    allocated: str = Field(description="下达金额（万元）")
    children_allocated: str | None = Field(description="下级下达金额合计（万元）；无下级为 null")
    allocation_difference: str | None = Field(description="本级减下级合计的差额（万元）；一致为 null")
    arrived: str | None = Field(description="到位金额（万元）")
    arrival_dates: str | None = Field(description="到位时间，原样")
    arrival_rate: str | None = Field(description="到位率（%，2 位小数）")
    spent: str | None = Field(description="实际支出（万元）：下级都有时为下级合计，否则为本级填写的数")
    spent_entered: str | None = Field(description="本级填写的实际支出（万元）")
    spent_from_children: bool = Field(description="实际支出是否由下级汇总而来")
    balance: str | None = Field(description="结余（万元）= 下达 − 实际支出")
    execution_rate: str | None = Field(description="支出率（%，2 位小数）= 实际支出 / 下达")
    own_score: str | None = Field(description="处室自评得分（不计入总分）")
    own_score_note: str | None = Field(description="处室自评得分说明")
    purpose: str | None = Field(description="用途及绩效目标")
    ancestor_only: bool = Field(description="用款单位看到的上级节点（只有合计）")
    fund_version: int = Field(description="所属专项资金的版本号：修改节点时原样带回（version）")
    flags: list[str] = Field(description="标记：" + FLAGS_DOC)


class FundDeductionPublic(BaseModel):
    id: int = Field(description="扣分记录ID")
    item_code: str = Field(description="项目代号")
    points: str = Field(description="扣分")
    reason: str = Field(description="理由")
    indicator: str | None = Field(description="所涉指标")
    node_id: int | None = Field(description="所涉节点ID")


class FundItemScorePublic(BaseModel):
    code: str = Field(description="项目代号")
    name: str = Field(description="项目名称")
    points: str = Field(description="分值（最高分）")
    method: str = Field(description="计分方法：" + "；".join(f"{k} {v}" for k, v in METHOD_LABELS.items()))
    score: str | None = Field(description="得分；数据不全时为 null")
    figure: str | None = Field(
        description="按数据计算的依据：" + "；".join(f"{k} {v}" for k, v in FIGURE_LABELS.items())
    )
    rate: str | None = Field(description="计算所用的比率（%）")
    source: str | None = Field(description="分值的公开出处网址；null 表示未经确认的设置")
    deduction_ids: list[int] = Field(description="本项目的扣分记录ID")
    parts: list[FundItemScorePublic] = Field(description="分项")


class FundCategoryScorePublic(BaseModel):
    slug: str = Field(description="类别代号")
    name: str = Field(description="类别名称（投入、过程、产出、效益…）")
    points: str = Field(description="类别分值")
    score: str | None = Field(description="类别得分")
    items: list[FundItemScorePublic] = Field(description="各项目")


class FundDeclaredPublic(BaseModel):
    key: str = Field(description="execution_rate / arrival_rate / total_score")
    label: str = Field(description="中文名称")
    declared: str = Field(description="报告申报的数")
    computed: str | None = Field(description="按资金分配重新计算的数（按申报的小数位四舍五入前）")
    differs: bool = Field(description="重新计算的数按申报的小数位四舍五入后与申报数不同")


class FundPublic(BaseModel):
    id: int = Field(description="专项资金ID")
    year: int = Field(description="年度")
    name: str = Field(description="名称")
    fiscal_power: str = Field(description="财政事权名称")
    policy_tasks: int | None = Field(description="政策任务数量")
    department_id: int = Field(description="主管部门ID")
    department_name: str = Field(description="主管部门名称")
    total: str = Field(description="专项资金总额（万元）")
    spent: str | None = Field(description="实际支出（万元），由用款单位的支出逐级汇总")
    balance: str | None = Field(description="结余（万元）")
    execution_rate: str | None = Field(description="资金支出率（%，2 位小数）")
    arrival_rate: str | None = Field(description="资金到位率（%，2 位小数）")
    flags: list[str] = Field(description="标记：" + FLAGS_DOC)
    template: str = Field(description="评分模板")
    status: str | None = Field(description="自评状态：" + STATUS_DOC + "；用款单位看不到，为 null")
    status_label: str | None = Field(description="自评状态（中文）")
    total_score: str | None = Field(description="总分；数据不全或用款单位查看时为 null")
    grade: str | None = Field(description="等级")
    version: int | None = Field(description="自评版本号（送审、审核等操作时带回）")
    fund_version: int = Field(description="专项资金（含资金分配和扣分）的版本号：每次修改后加 1，修改时原样带回")


class FundDetailPublic(FundPublic):
    nodes: list[FundNodePublic] = Field(description="资金分配树（先序）；用款单位只看到本单位节点及其上级")
    categories: list[FundCategoryScorePublic] = Field(description="评分：各类别及项目；用款单位为空")
    deductions: list[FundDeductionPublic] = Field(description="扣分记录；用款单位为空")
    declared: list[FundDeclaredPublic] = Field(description="申报数与重新计算数的核对")
    missing: list[str] = Field(description="尚不能计分的项目")
    actions: list[str] = Field(description="您现在可以进行的操作（submit / withdraw / approve / return / reopen）")
    editable: bool = Field(description="您现在能否修改资金分配和扣分")


class FundsPublic(BaseModel):
    items: list[FundPublic] = Field(description="您有权查看的专项资金")


def _node_public(v: funds.NodeView, fund_version: int) -> dict[str, Any]:
    n, f = v.node, v.figures
    return {
        "fund_version": fund_version,
        "id": n.id,
        "parent_id": n.parent_id,
        "path": list(v.path),
        "depth": v.depth,
        "kind": n.kind,
        "name": n.name,
        "recipient_kind": n.recipient_kind,
        "unit_id": n.unit_id,
        "unit_name": v.unit_name,
        "implementation": n.implementation,
        "allocated": money(f.allocated),
        "children_allocated": money(f.children_allocated),
        "allocation_difference": money(f.allocation_difference),
        "arrived": money(f.arrived),
        "arrival_dates": n.arrival_dates,
        "arrival_rate": rate(f.arrival_rate),
        "spent": money(f.spent),
        "spent_entered": money(f.spent_entered),
        "spent_from_children": f.spent_from_children,
        "balance": money(f.balance),
        "execution_rate": rate(f.execution_rate),
        "own_score": score(n.own_score) if n.own_score is not None else None,
        "own_score_note": n.own_score_note,
        "purpose": n.purpose,
        "ancestor_only": v.ancestor_only,
        "flags": list(f.flags),
    }


def _item_public(item, deductions, places: int) -> dict[str, Any]:
    return {
        "code": item.code,
        "name": item.name,
        "points": score(item.points, places),
        "method": item.method,
        "score": score(item.score, places),
        "figure": item.figure,
        "rate": rate(item.rate),
        "source": item.source,
        "deduction_ids": [d.id for d in deductions if d.item_code == item.code],
        "parts": [_item_public(p, deductions, places) for p in item.parts],
    }


def _summary(view: funds.FundView) -> dict[str, Any]:
    ev, f = view.evaluation, view.figures
    places = view.score.places if view.score else 2
    return {
        "id": view.fund.id,
        "year": view.fund.year,
        "name": view.fund.name,
        "fiscal_power": view.fund.fiscal_power,
        "policy_tasks": view.fund.policy_tasks,
        "department_id": view.fund.department_id,
        "department_name": view.department_name,
        "total": money(f.allocated),
        "spent": money(f.spent),
        "balance": money(f.balance),
        "execution_rate": rate(f.execution_rate),
        "arrival_rate": rate(f.arrival_rate),
        "flags": list(f.flags),
        "template": view.template_label or view.fund.template_name,
        "status": ev.status if ev else None,
        "status_label": STATUS_LABELS[ev.status] if ev else None,
        "total_score": score(view.score.total, places) if view.score and view.score.complete else None,
        "grade": view.score.grade if view.score else None,
        "version": ev.version if ev else None,
        "fund_version": view.fund.version,
    }


def fund_detail(view: funds.FundView) -> dict[str, Any]:
    places = view.score.places if view.score else 2
    return {
        **_summary(view),
        "nodes": [_node_public(v, view.fund.version) for v in view.nodes],
        "categories": [
            {
                "slug": c.slug,
                "name": c.name,
                "points": score(c.points, places),
                "score": score(c.score, places),
                "items": [_item_public(i, view.deductions, places) for i in c.items],
            }
            for c in (view.score.categories if view.score else ())
        ],
        "deductions": [
            {
                "id": d.id,
                "item_code": d.item_code,
                "points": score(d.points, 2),
                "reason": d.reason,
                "indicator": d.indicator,
                "node_id": d.node_id,
            }
            for d in view.deductions
        ],
        "declared": [
            {
                "key": d.key,
                "label": d.label,
                "declared": format(d.declared, "f"),
                "computed": None if d.computed is None else format(d.computed.quantize(Decimal("0.0001")), "f"),
                "differs": d.differs,
            }
            for d in view.declared
        ],
        "missing": list(view.score.missing) if view.score else [],
        "actions": list(view.actions),
        "editable": view.editable,
    }


def _detail(session, principal, fund_id: int) -> dict[str, Any]:
    return fund_detail(funds.fund_view(session=session, principal=principal, fund_id=fund_id))


@router.get("/funds", response_model=FundsPublic, summary="专项资金列表", responses=READ_ERRORS)
@requires("read")
def list_funds(
    session: SessionDep,
    principal: PrincipalDep,
    year: Annotated[int | None, Query(ge=MIN_YEAR, le=MAX_YEAR, description="年度")] = None,
) -> Any:
    """您有权查看的专项资金：总额、实际支出、支出率、自评状态和总分。"""
    rows = funds.list_funds(session=session, principal=principal, year=year)
    return {
        "items": [
            _summary(funds.fund_view(session=session, principal=principal, fund_id=row.id))  # type: ignore[arg-type]
            for row in rows
        ]
    }


@router.post("/funds", status_code=201, response_model=FundDetailPublic, summary="新建专项资金", responses=WRITE_ERRORS)
@requires("write")
def create_fund(session: SessionDep, principal: PrincipalDep, body: FundCreate) -> Any:
    """建立一项专项资金及其自评（未填报）；之后逐个添加资金分配节点，或导入 xlsx 模板。"""
    fund = funds.create_fund(session=session, principal=principal, data=funds.FundFields(**body.model_dump()))
    return _detail(session, principal, fund.id)  # type: ignore[arg-type]


@router.get(
    "/funds/{fund_id}",
    response_model=FundDetailPublic,
    summary="单项专项资金（分配树、计算数、评分）",
    responses=READ_ERRORS,
)
@requires("read")
def get_fund(session: SessionDep, principal: PrincipalDep, fund_id: FundId) -> Any:
    """资金分配树的每个节点及其计算数（下级合计、差额、支出率、结余），评分和扣分，申报数的核对。"""
    return _detail(session, principal, fund_id)


@router.put("/funds/{fund_id}", response_model=FundDetailPublic, summary="修改专项资金", responses=WRITE_ERRORS)
@requires("write")
def put_fund(session: SessionDep, principal: PrincipalDep, fund_id: FundId, body: FundPut) -> Any:
    """整体修改专项资金的字段；自评送审后不能修改。"""
    current = funds.visible_fund(session=session, principal=principal, fund_id=fund_id)
    fields = body.model_dump()
    version = fields.pop("version")
    data = funds.FundFields(**fields, template_name=current.template_name)
    funds.update_fund(session=session, principal=principal, fund_id=fund_id, data=data, version=version)
    return _detail(session, principal, fund_id)


@router.post(
    "/funds/{fund_id}/nodes",
    status_code=201,
    response_model=FundNodePublic,
    summary="添加资金分配节点",
    responses=WRITE_ERRORS,
)
@requires("write")
def add_node(session: SessionDep, principal: PrincipalDep, fund_id: FundId, body: FundNodeWrite) -> Any:
    """在专项资金下（或某节点下）添加处室、专题、资金安排或用款单位/地市。"""
    fields = body.model_dump()
    version = fields.pop("version")
    node = funds.add_node(
        session=session, principal=principal, fund_id=fund_id, data=funds.NodeFields(**fields), version=version
    )
    view = funds.fund_view(session=session, principal=principal, fund_id=fund_id)
    return _node_public(view.node(node.id), view.fund.version)  # type: ignore[arg-type]


@router.get("/fund-nodes/{node_id}", response_model=FundNodePublic, summary="单个资金分配节点", responses=READ_ERRORS)
@requires("read")
def get_node(session: SessionDep, principal: PrincipalDep, node_id: NodeId) -> Any:
    """一个节点及其计算数；用款单位只能读取本单位的节点及其上级，同级其他单位的节点为 404。"""
    node = funds.visible_node(session=session, principal=principal, node_id=node_id)
    view = funds.fund_view(session=session, principal=principal, fund_id=node.fund_id)
    return _node_public(view.node(node_id), view.fund.version)


@router.put("/fund-nodes/{node_id}", response_model=FundNodePublic, summary="修改资金分配节点", responses=WRITE_ERRORS)
@requires("write")
def put_node(session: SessionDep, principal: PrincipalDep, node_id: NodeId, body: FundNodePut) -> Any:
    """整体替换节点的字段（含上级），带上修改所基于的版本号（过期则 409）；差额不会被自动修正，只作标记。"""
    fields = body.model_dump()
    version = fields.pop("version")
    node = funds.update_node(
        session=session, principal=principal, node_id=node_id, data=funds.NodeFields(**fields), version=version
    )
    view = funds.fund_view(session=session, principal=principal, fund_id=node.fund_id)
    return _node_public(view.node(node_id), view.fund.version)


@router.put(
    "/fund-nodes/{node_id}/spending",
    response_model=FundNodePublic,
    summary="用款单位填报实际支出",
    responses=WRITE_ERRORS,
)
@requires("write")
def report_spending(session: SessionDep, principal: PrincipalDep, node_id: NodeId, body: FundSpendingReport) -> Any:
    """用款单位填报本单位节点的实际支出（及到位），支出率逐级重新汇总；自评送审后不能再改。"""
    node = funds.report_spending(session=session, principal=principal, node_id=node_id, **body.model_dump())
    view = funds.fund_view(session=session, principal=principal, fund_id=node.fund_id)
    return _node_public(view.node(node_id), view.fund.version)


@router.delete("/fund-nodes/{node_id}", status_code=204, summary="删除资金分配节点及其下级", responses=WRITE_ERRORS)
@requires("write")
def delete_node(session: SessionDep, principal: PrincipalDep, node_id: NodeId, version: VersionQuery) -> Response:
    """删除节点和它下面的全部节点（带上修改所基于的专项资金版本号，过期则 409）。"""
    funds.delete_node(session=session, principal=principal, node_id=node_id, version=version)
    return Response(status_code=204)


@router.post(
    "/funds/{fund_id}/deductions",
    status_code=201,
    response_model=FundDetailPublic,
    summary="记录扣分",
    responses=WRITE_ERRORS,
)
@requires("write")
def add_deduction(session: SessionDep, principal: PrincipalDep, fund_id: FundId, body: FundDeductionCreate) -> Any:
    """对扣分制项目记录一项扣分（分数、理由，可注明指标或节点）；该项目得分 = 分值 − 扣分合计，最低 0。"""
    funds.add_deduction(session=session, principal=principal, fund_id=fund_id, **body.model_dump())
    return _detail(session, principal, fund_id)


@router.delete(
    "/funds/{fund_id}/deductions/{deduction_id}",
    response_model=FundDetailPublic,
    summary="撤销一项扣分",
    responses=WRITE_ERRORS,
)
@requires("write")
def remove_deduction(
    session: SessionDep,
    principal: PrincipalDep,
    fund_id: FundId,
    deduction_id: DeductionId,
    version: Annotated[int | None, Query(ge=1, le=MAX_ID, description="专项资金版本号；给出且已过期时 409")] = None,
) -> Any:
    """删除一条扣分记录并重新计分。"""
    funds.remove_deduction(
        session=session, principal=principal, fund_id=fund_id, deduction_id=deduction_id, version=version
    )
    return _detail(session, principal, fund_id)


def _act(session, principal, fund_id: int, action: str, body: FundOpinion | None) -> dict[str, Any]:
    funds.act(
        session=session,
        principal=principal,
        fund_id=fund_id,
        action=action,
        opinion=body.opinion if body else None,
        version=body.version if body else None,
    )
    return _detail(session, principal, fund_id)


@router.post(
    "/funds/{fund_id}/submit", response_model=FundDetailPublic, summary="专项资金自评送审", responses=WRITE_ERRORS
)
@requires("write")
def submit(session: SessionDep, principal: PrincipalDep, fund_id: FundId, body: FundOpinion | None = None) -> Any:
    """主管部门送审（各项目都须能计分）。"""
    return _act(session, principal, fund_id, "submit", body)


@router.post("/funds/{fund_id}/withdraw", response_model=FundDetailPublic, summary="撤回送审", responses=WRITE_ERRORS)
@requires("write")
def withdraw(session: SessionDep, principal: PrincipalDep, fund_id: FundId, body: FundOpinion | None = None) -> Any:
    """财政局处理前，主管部门可撤回。"""
    return _act(session, principal, fund_id, "withdraw", body)


@router.post(
    "/funds/{fund_id}/approve", response_model=FundDetailPublic, summary="财政局审核：逐级通过", responses=WRITE_ERRORS
)
@requires("review")
def approve(session: SessionDep, principal: PrincipalDep, fund_id: FundId, body: FundOpinion | None = None) -> Any:
    """财政局：已送审 → 审核通过；审核通过 → 终审通过。"""
    return _act(session, principal, fund_id, "approve", body)


@router.post("/funds/{fund_id}/return", response_model=FundDetailPublic, summary="退回", responses=WRITE_ERRORS)
@requires("review")
def return_(session: SessionDep, principal: PrincipalDep, fund_id: FundId, body: FundOpinion | None = None) -> Any:
    """财政局退回（须写意见）。"""
    return _act(session, principal, fund_id, "return", body)


@router.post(
    "/funds/{fund_id}/reopen", response_model=FundDetailPublic, summary="终审后重新打开", responses=WRITE_ERRORS
)
@requires("review")
def reopen(session: SessionDep, principal: PrincipalDep, fund_id: FundId, body: FundOpinion | None = None) -> Any:
    """财政局重新打开终审通过的自评（须写原因），回到已退回。"""
    return _act(session, principal, fund_id, "reopen", body)


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get(
    "/funds/{fund_id}/tree.xlsx",
    summary="导出资金分配 xlsx（即导入模板）",
    responses={**READ_ERRORS, 200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}}}},
)
@requires("read")
def export_tree(session: SessionDep, principal: PrincipalDep, fund_id: FundId) -> Response:
    """每个节点一行（含上级路径）；修改后可原样导入。"""
    view = funds.fund_view(session=session, principal=principal, fund_id=fund_id)
    return Response(
        funds.tree_xlsx(view),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''fund-{fund_id}-tree.xlsx"},
    )


@router.post(
    "/funds/{fund_id}/tree", response_model=FundDetailPublic, summary="导入资金分配 xlsx", responses=WRITE_ERRORS
)
@requires("write")
async def import_tree(
    request: Request,
    session: SessionDep,
    principal: PrincipalDep,
    fund_id: FundId,
    file: Annotated[UploadFile, File(description="由本系统导出的资金分配 xlsx")],
    version: Annotated[int | None, Query(ge=1, le=MAX_ID, description="专项资金版本号；给出且已过期时 409")] = None,
) -> Any:
    """整张表替换现有的资金分配，全部写入或一行也不写；错误逐条给出行号和列名。"""
    from starlette.concurrency import run_in_threadpool

    settings = request.app.state.settings
    data = await read_upload(file, settings.fund_tree_max_bytes, "JIXIAO_FUND_TREE_MAX_BYTES")
    await run_in_threadpool(
        lambda: funds.import_tree(
            session=session,
            principal=principal,
            fund_id=fund_id,
            data=data,
            filename=file.filename or "upload.xlsx",
            limits=read_limits(settings),
            version=version,
        )
    )
    return await run_in_threadpool(lambda: _detail(session, principal, fund_id))


# --- the fund's 绩效目标 indicators ---------------------------------------------------------------


class FundIndicatorWrite(_Input):
    """专项资金的一个绩效目标指标：目标值、年底的实际完成值；计入评分模板中“按绩效指标计分”的项目（可不填，只列示）。"""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "item_code": "31",
                    "level1": "output",
                    "level2": "quantity",
                    "name": "支持工业企业“上云上平台”数量",
                    "annual_target": "≥872家",
                    "actual": "935家",
                }
            ]
        },
    )

    level1: str = Field(
        max_length=32, description="一级指标：output 产出 / outcome 效益 / satisfaction 满意度（也可写中文）"
    )
    level2: str | None = Field(
        None, max_length=32, description="二级指标：quantity 数量 / quality 质量 / timeliness 时效 …"
    )
    name: str = Field(max_length=500, description="三级指标名称")
    annual_target: str = Field(
        max_length=2000, description="年度指标值（如 ≥872家、100%、2019年12月前），按目标表的规则识别"
    )
    item_code: str | None = Field(
        None, max_length=16, description="计入的评分项目代号（须为按绩效指标计分的项目）；不填只列示"
    )
    actual: str | None = Field(None, max_length=2000, description="实际完成值（如 935家）")
    qualitative_level: str | None = Field(
        None, max_length=20, description="定性指标的达成程度：achieved / partial / not_achieved"
    )
    weight: str | None = Field(
        None, max_length=12, description="分值（同一项目的指标都给时按分值分配该项目的分数，否则平均分配）"
    )
    deviation_reason: str | None = Field(None, max_length=2000, description="偏差原因")
    position: int | None = Field(None, ge=1, le=100000, description="顺序")
    version: int | None = Field(None, ge=1, le=MAX_ID, description=VERSION_DOC + "（新增时可不填）")


class FundIndicatorPut(FundIndicatorWrite):
    """整体替换一个指标的字段；须带上修改所基于的专项资金版本号。"""

    version: int = Field(ge=1, le=MAX_ID, description=VERSION_DOC)  # type: ignore[assignment]


class FundIndicatorPublic(BaseModel):
    id: int = Field(description="指标ID")
    item_code: str | None = Field(description="计入的评分项目代号；null 为只列示")
    item_name: str = Field(description="计入的评分项目名称（或“不计分（列示）”）")
    level1: str = Field(description="一级指标（中文）")
    level2: str = Field(description="二级指标（中文）")
    name: str = Field(description="三级指标")
    annual_target: str = Field(description="年度指标值，原样")
    actual: str = Field(description="实际完成值（定性指标为达成程度）")
    score: str | None = Field(description="得分（按指标规则）；不计分或尚不能计分时为空")
    fund_version: int = Field(description="专项资金版本号：修改时原样带回")


def _indicator_public(row: dict[str, Any], fund_version: int) -> dict[str, Any]:
    return {
        "id": row["id"],
        "item_code": row["row"].item_code,
        "item_name": row["item"],
        "level1": row["level1"],
        "level2": row["level2"],
        "name": row["name"],
        "annual_target": row["target"],
        "actual": row["actual"],
        "score": row["score"] or None,
        "fund_version": fund_version,
    }


def _indicators(session, principal, fund_id: int) -> list[dict[str, Any]]:
    from app.services import fund_reports

    view = funds.fund_view(session=session, principal=principal, fund_id=fund_id)
    if view.evaluation is None:
        return []
    return [_indicator_public(r, view.fund.version) for r in fund_reports.indicator_rows(session, view)]


def _indicator_fields(body: FundIndicatorWrite) -> tuple[funds.IndicatorFields, int | None]:
    fields = body.model_dump()
    version = fields.pop("version")
    return funds.IndicatorFields(**fields), version


@router.get(
    "/funds/{fund_id}/indicators",
    response_model=list[FundIndicatorPublic],
    summary="专项资金的绩效目标指标",
    responses=READ_ERRORS,
)
@requires("read")
def list_indicators(session: SessionDep, principal: PrincipalDep, fund_id: FundId) -> Any:
    """专项资金自己的绩效目标指标：目标值、实际完成值、计入的评分项目和得分（用款单位为空列表）。"""
    return _indicators(session, principal, fund_id)


@router.post(
    "/funds/{fund_id}/indicators",
    status_code=201,
    response_model=list[FundIndicatorPublic],
    summary="添加绩效目标指标",
    responses=WRITE_ERRORS,
)
@requires("write")
def add_indicator(session: SessionDep, principal: PrincipalDep, fund_id: FundId, body: FundIndicatorWrite) -> Any:
    """添加一个指标；计入“按绩效指标计分”的项目时，该项目即按指标规则从这些数据计分。返回全部指标。"""
    data, version = _indicator_fields(body)
    funds.add_indicator(session=session, principal=principal, fund_id=fund_id, data=data, version=version)
    return _indicators(session, principal, fund_id)


@router.put(
    "/fund-indicators/{indicator_id}",
    response_model=list[FundIndicatorPublic],
    summary="修改绩效目标指标（含实际完成值）",
    responses=WRITE_ERRORS,
)
@requires("write")
def put_indicator(
    session: SessionDep, principal: PrincipalDep, indicator_id: IndicatorId, body: FundIndicatorPut
) -> Any:
    """整体替换指标的字段（年底填写实际完成值也用它），带上版本号；返回该专项资金的全部指标。"""
    data, version = _indicator_fields(body)
    row = funds.update_indicator(
        session=session, principal=principal, indicator_id=indicator_id, data=data, version=version
    )
    return _indicators(session, principal, row.fund_id)


@router.delete("/fund-indicators/{indicator_id}", status_code=204, summary="删除绩效目标指标", responses=WRITE_ERRORS)
@requires("write")
def delete_indicator(
    session: SessionDep, principal: PrincipalDep, indicator_id: IndicatorId, version: VersionQuery
) -> Response:
    """删除一个指标（带上版本号，过期则 409）。"""
    funds.delete_indicator(session=session, principal=principal, indicator_id=indicator_id, version=version)
    return Response(status_code=204)
