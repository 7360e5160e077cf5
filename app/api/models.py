"""Response models of the /api/v1 read endpoints: stable English names, Chinese descriptions.

Documented fields do not change within v1 (README, "API stability"). Money is a decimal string
in 万元, rates are percentage points as decimal strings, scores are strings at the precision of
the scoring template that scored them (rounding_places: two places by default, "96.80"; "97" at 0):
exact on every database, never a float. Each field's `title` is the Chinese column header of
the CSV / xlsx export.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from app.domain.evaluation import (
    APPROVED,
    HANDED_IN,
    HANDED_IN_LABEL,
    HISTORY_DOC,
    HISTORY_LABELS,
    QUEUE_DEFAULT_STATUS,
    STATUS_CODES,
    STATUS_DOC,
    STATUS_LABELS,
    STATUSES,
    TARGET_FIRST_STATUS,
    TARGET_STATUS_DOC,
    grade_ranges,
)
from app.domain.scoring import FLAGS_DOC, GRADE_DOC, GRADES, NATIONAL_2020, score_text

GRADE_RANGES = grade_ranges(NATIONAL_2020)
Status = Literal[STATUS_CODES]  # type: ignore[valid-type]
_HANDED_IN_DOC = "、".join(f"{c} {STATUS_LABELS[c]}" for c in HANDED_IN)
_APPROVED_DOC = "、".join(f"{c} {STATUS_LABELS[c]}" for c in APPROVED)

# --- formatting -----------------------------------------------------------------------------

_TWO = Decimal("0.01")


def money(value: Decimal | None) -> str | None:
    """万元 as written: trailing zeros dropped, but at least two places (56022.2398, 57550.00)."""
    if value is None:
        return None
    # the trailing zeros dropped from the text (a third of the time of normalize and quantize, three
    # figures a row of the statistics); NaN and infinities take the arithmetic's way, as before
    whole, _, places = format(value, "f").partition(".")
    places = places.rstrip("0")
    if len(places) >= 2:
        return f"{whole}.{places}"
    if value.is_finite():
        return f"{whole}.{places:0<2}"
    trimmed = value.normalize()
    if trimmed.as_tuple().exponent > -2:
        trimmed = value.quantize(_TWO)
    return format(trimmed, "f")


rate = money  # percentage points: the same shape (97.35, 100.00, 12.3456)


def score(value: Decimal | None, places: int | None = 2) -> str | None:
    """A score at its template's precision: 96.80 at two places (the default), 97 at none."""
    return score_text(value, 2 if places is None else places)


def F(title: str, description: str, example: Any, *, decimal: bool = False) -> Any:  # noqa: N802
    """A documented field: Chinese title (export header) and description, one example."""
    extra = {"format": "decimal"} if decimal else None
    examples = None if example is None else [example]
    return Field(title=title, description=description, examples=examples, json_schema_extra=extra)


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


# --- units --------------------------------------------------------------------------------


class UnitPublic(_Public):
    """资金使用单位（预算单位）及其主管部门。"""

    id: int = F("单位ID", "单位的内部编号，在 v1 内保持不变", 12)
    code: str | None = F("单位编码", "单位编码（预算单位编码）；来源表未给出时为 null", "401001")
    name: str = F("单位名称", "单位全称", "示例市无线电监测站")
    department_id: int | None = F("主管部门ID", "主管部门的内部编号；未归属主管部门时为 null", 3)
    department_code: str | None = F("主管部门编码", "主管部门编码；未给出时为 null", "401")
    department: str | None = F("主管部门", "主管部门名称", "示例市工业和信息化局")


# --- projects -----------------------------------------------------------------------------


class ProjectPublic(_Public):
    """一个项目在某年度的预算、执行与自评结果。"""

    id: int = F("项目ID", "项目的内部编号，在 v1 内保持不变", 1024)
    year: int = F("年度", "预算年度", 2025)
    project_code: str = F("项目编码", "项目编码；来源表未给出时由系统生成", "44010024T000000123456")
    name: str = F("项目名称", "项目名称（同一单位内可能重名，请以 id 或项目编码区分）", "示例项目：监测设备运维")
    unit_id: int = F("单位ID", "资金使用单位的内部编号", 12)
    unit_code: str | None = F("单位编码", "资金使用单位编码", "401001")
    unit: str = F("单位名称", "资金使用单位名称", "示例市无线电监测站")
    department_id: int | None = F("主管部门ID", "主管部门的内部编号", 3)
    department: str | None = F("主管部门", "主管部门名称", "示例市工业和信息化局")
    initial_budget: str | None = F(
        "年初预算数（万元）", "年初预算数（绩效目标表批复时的数），万元；未给出时为 null", "60000.00", decimal=True
    )
    budget: str | None = F(
        "全年预算数（万元）",
        "全年预算数（年度预算数，调整后），万元，十进制字符串；未填报时为 null",
        "57550.00",
        decimal=True,
    )
    spent: str | None = F(
        "全年执行数（万元）", "全年执行数，万元，十进制字符串；未填报时为 null", "56022.2398", decimal=True
    )
    execution_rate: str | None = F(
        "预算执行率（%）",
        "预算执行率 = 全年执行数 / 全年预算数，以百分点表示（97.35 即 97.35%）；自评尚未计算时为 null",
        "97.35",
        decimal=True,
    )
    status: str = F(
        "自评状态",
        f"自评状态：{STATUS_DOC}",
        QUEUE_DEFAULT_STATUS,
    )
    self_evaluation_id: int | None = F("自评ID", "自评的内部编号；尚无自评时为 null", 88)
    total_score: str | None = F(
        "总分",
        "自评总分（满分 100），按评分模板的保留位数（rounding_places，默认两位）；尚未计算时为 null",
        "96.80",
        decimal=True,
    )
    grade: str | None = F("等级", f"自评等级：{GRADE_DOC}；未完成时为 null", GRADES[0])
    flags: list[str] = F(
        "提示", "自评层面的提示标记（如 execution_low 执行率偏低、budget_missing 缺少预算数）", ["execution_low"]
    )


class TargetPublic(_Public):
    """年度指标值的识别结果。"""

    kind: str = F("指标值类型", "quantity 数量型、qualitative 定性、deadline 时限", "quantity")
    op: str | None = F("比较符", "比较符：>= > <= < = ~（约）range（区间）", ">=")
    value: str | None = F("指标数值", "数值（已换算万、亿等量级），十进制字符串", "12", decimal=True)
    value_max: str | None = F("区间上限", "区间型指标值的上限", None, decimal=True)
    unit: str | None = F("计量单位", "规范化后的计量单位", "份")
    unit_raw: str | None = F("原始计量单位", "原文中的计量单位写法", "份")
    unit_class: str | None = F(
        "单位类别", "count 计数、area 面积、time 时间、money 金额、percent 百分比、ratio 倍数", "count"
    )
    deadline: date | None = F("完成期限", "时限型指标的期限（含当日）", "2025-12-31")
    direction: str | None = F("方向", "higher 越高越好、lower 越低越好", "higher")
    confidence: str = F("识别把握", "high 或 low；low 表示请人工核对", "high")
    warnings: list[Any] = F("识别提示", "识别过程中的提示", [])


class IndicatorDetailPublic(_Public):
    """项目中的一条绩效指标及其实际完成值与得分。"""

    id: int = F("指标ID", "指标的内部编号", 5001)
    position: int = F("序号", "指标在目标表中的顺序", 1)
    level1: str = F("一级指标", "一级指标：output 产出、outcome 效益、satisfaction 满意度", "output")
    level2: str | None = F(
        "二级指标",
        "二级指标代号（quantity 数量、quality 质量、timeliness 时效、cost 成本、"
        "economic 经济效益、social 社会效益、ecological 生态效益、sustainability 可持续影响、"
        "service_satisfaction 服务对象满意度）；无法识别时为 null",
        "quantity",
    )
    level2_code: str | None = F("二级指标编码", "二级指标编码，如 11", "11")
    level2_name: str | None = F("二级指标名称", "二级指标名称（原文）", "数量指标")
    name: str = F("三级指标", "三级指标名称", "示例指标：月度监测报告")
    period_target: str | None = F("实施周期指标值", "实施周期指标值，原文照录", "≥12份")
    annual_target: str | None = F("年度指标值", "年度指标值，原文照录（自评以此为准）", "≥12份")
    target: TargetPublic = F("年度指标值识别", "年度指标值的识别结果", None)
    weight: str | None = F(
        "分值",
        "该指标的分值（权重），按评分模板的保留位数（rounding_places，默认两位）；表中分值更细时（如 22.5）照原样",
        "5.00",
        decimal=True,
    )
    actual: str | None = F("实际完成值", "实际完成值，原文照录；未填写时为 null", "12份")
    actual_parsed: dict[str, Any] | None = F("实际完成值识别", "实际完成值的识别结果", None)
    qualitative_level: str | None = F("达成程度", "定性指标的达成程度：achieved、partial、not_achieved", None)
    score_in_band: str | None = F("区间内得分", "定性指标由单位在档次内选择的得分", None, decimal=True)
    score: str | None = F("计算得分", "系统按评分模板计算的得分", "5.00", decimal=True)
    score_override: str | None = F("审核调整得分", "审核人调整后的得分；未调整时为 null", None, decimal=True)
    override_reason: str | None = F("调整理由", "审核人调整得分的理由", None)
    self_score: str | None = F(
        "单位自评得分",
        "单位自己填写的得分（0 至分值，须说明理由）；未填写时为 null，计算得分保留在 score",
        None,
        decimal=True,
    )
    self_score_reason: str | None = F("自评得分理由", "单位填写自评得分的理由", None)
    effective_score: str | None = F(
        "最终得分", "有审核调整得分时取调整得分，其次取单位自评得分，否则取计算得分", "5.00", decimal=True
    )
    met: bool | None = F("是否达标", "是否达到年度指标值；尚未计分时为 null", True)
    deviation_reason: str | None = F("偏差原因分析及改进措施", "得分低于分值时单位填写的说明", None)
    flags: list[str] = F("提示", f"计分提示标记：{FLAGS_DOC}", ["unmet"])
    warnings: list[Any] = F("导入提示", "导入目标表时对该指标的提示", [])


class HistoryEventPublic(_Public):
    """一条操作记录：谁、何时、做了什么、前后状态（自评的操作历史与项目详情的审核历史同一格式）。"""

    id: int = F("记录编号", "操作记录的内部编号", 301)
    at: datetime = F("时间", "发生时间（UTC，ISO 8601）", "2025-01-15T08:30:00Z")
    actor: str = F("操作人", "操作人（姓名或用户名；令牌调用为 token:名称；命令行为 cli）", "gxj_shenhe")
    role: str | None = F("角色", "操作人角色：unit / department / finance / admin；令牌与命令行为 null", "department")
    action: str = F("操作", f"操作代号：{HISTORY_DOC}", "evaluation.approve")
    action_label: str = F("操作名称", "操作的中文名称", HISTORY_LABELS["evaluation.approve"])
    status_before: Status | None = F("操作前状态", "操作前的自评状态；不涉及状态时为 null", QUEUE_DEFAULT_STATUS)
    status_after: Status | None = F("操作后状态", "操作后的自评状态；不涉及状态时为 null", APPROVED[0])
    opinion: str | None = F("意见", "审核意见或说明", "同意")
    details: list[str] = F("变化说明", "变化说明（中文），如状态、总分、得分调整", [])
    before: dict[str, Any] | None = F("变更前", "变更前的值", None)
    after: dict[str, Any] | None = F("变更后", "变更后的值", None)


def history_fields(entries) -> list[dict[str, Any]]:
    """History entries (app.services.history.HistoryEntry) as the API answers them: HistoryEventPublic's
    fields, in its order (a body written from them directly is the model's)."""
    return [
        dict(
            id=e.id,
            at=e.at,
            actor=e.actor,
            role=e.role,
            action=e.action,
            action_label=e.action_label,
            status_before=e.status_before if e.status_before in STATUS_CODES else None,
            status_after=e.status_after if e.status_after in STATUS_CODES else None,
            opinion=e.note,
            details=e.details,
            before=e.before,
            after=e.after,
        )
        for e in entries
    ]


def history_public(entries) -> list[HistoryEventPublic]:
    """History entries (app.services.history.HistoryEntry) as the API answers them."""
    return [HistoryEventPublic(**fields) for fields in history_fields(entries)]


class QualityIssuePublic(_Public):
    """目标表质量检查发现的一个问题。"""

    code: str = F(
        "问题代码",
        "missing_category 缺少类别 / low_quantitative_share 定量指标占比不足 / not_measurable 不可衡量 / "
        "unit_class_mismatch 周期与年度单位不一致 / timeliness_without_date 时效指标无时间 / "
        "deadline_before_year 完成期限早于本年度 / "
        "rate_without_percent “率”不是百分比 / duplicate 指标重复 / suggested_category 建议设置的类别（如满意度） / "
        "weights_sum 分值合计与模板不符 / weights_incomplete 部分指标未填分值",
        "not_measurable",
    )
    severity: str = F("严重程度", "error 须改正后才能申报；warning 提示", "warning")
    message: str = F(
        "说明", "中文说明，指明哪一行", "第2行“监测能力”的年度指标值“提升”不可衡量：只说了变化的方向，没有说明变化多少"
    )
    indicator_id: int | None = F("指标ID", "所指的指标；整张表的问题为 null", 5002)
    field: str | None = F("字段", "所指字段，如 indicators[5002].annual_target", "indicators[5002].annual_target")
    suggestion: str | None = F("建议", "如何改正", "请写明可衡量的数值，如“≥95%”")


class QualityPublic(_Public):
    """目标表质量检查的结果（每次读取时按当前指标计算）。"""

    indicators: int = F("指标数", "指标总数", 5)
    quantitative: int = F("定量指标数", "年度指标值为数值或日期的指标数", 4)
    quantitative_share: str | None = F("定量指标占比", "百分点，两位小数；无指标时为 null", "80.00", decimal=True)
    min_quantitative_share: str = F("定量指标占比下限", "百分点，默认 60", "60", decimal=True)
    not_measurable: int = F("不可衡量数", "只写“提升”“有效改善”等、没有数值的指标数", 1)
    issues: list[QualityIssuePublic] = F("问题", "按目标表顺序；整张表的问题在前", [])


def quality_fields(report) -> dict[str, Any]:
    """A quality check (app.domain.target_quality.QualityReport) as QualityPublic's fields, in its order."""
    return dict(
        indicators=report.indicators,
        quantitative=report.quantitative,
        quantitative_share=None if report.quantitative_share is None else format(report.quantitative_share, "f"),
        min_quantitative_share=format(report.min_quantitative_share, "f"),
        not_measurable=report.not_measurable,
        issues=[{name: getattr(i, name) for name in _ISSUE_FIELDS} for i in report.issues],
    )


def quality_public(report) -> QualityPublic:
    return QualityPublic(**quality_fields(report))


_ISSUE_FIELDS = tuple(QualityIssuePublic.model_fields)


class ProjectDetailPublic(ProjectPublic):
    """一个项目的完整自评信息：资金、目标、全部指标与审核历史。"""

    target_status: str = F("目标表状态", f"绩效目标表的状态：{TARGET_STATUS_DOC}", TARGET_FIRST_STATUS)
    version: int = F("目标表版本号", "修改目标表（项目或指标）时原样带回，用于防止互相覆盖", 1)
    fiscal_funds: str | None = F("本年财政拨款（万元）", "资金来源：本年财政拨款，万元", "50000.00", decimal=True)
    carried_over: str | None = F("上年结转资金（万元）", "资金来源：上年结转资金，万元", "7550.00", decimal=True)
    other_funds: str | None = F("其他资金（万元）", "资金来源：其他资金，万元", None, decimal=True)
    period_goal: str | None = F("实施周期目标", "实施周期总体目标", None)
    annual_goal: str | None = F("年度目标", "年度总体目标（预期目标）", "按时完成全年监测任务")
    goal_completion: str | None = F("实际完成情况", "年度总体目标的实际完成情况", None)
    execution_score: str | None = F("预算执行率得分", "预算执行率得分（满分 10）", "9.74", decimal=True)
    department_score: str | None = F("主管部门评分", "主管部门给出的评分", None, decimal=True)
    review_opinion: str | None = F("审核意见", "最近一次审核意见", None)
    submitted_at: datetime | None = F("提交时间", "最近一次提交时间（UTC）", None)
    reviewed_at: datetime | None = F("审核时间", "最近一次审核时间（UTC）", None)
    template: str | None = F("评分模板", "所用评分模板及版本（名称@版本）", "national-2020@1")
    warnings: list[Any] = F("导入提示", "导入目标表时对该项目的提示", [])
    indicators: list[IndicatorDetailPublic] = F("绩效指标", "全部绩效指标，按目标表顺序", [])
    history: list[HistoryEventPublic] = F("审核历史", "自评的提交、退回、审核等记录，按时间先后", [])
    quality: QualityPublic | None = F("目标表质量检查", "产出与效益类别、定量指标占比、不可衡量的指标值等", None)


# --- indicators ---------------------------------------------------------------------------


class IndicatorPublic(_Public):
    """跨项目的一条绩效指标行。"""

    id: int = F("指标ID", "指标的内部编号", 5001)
    year: int = F("年度", "预算年度", 2025)
    project_id: int = F("项目ID", "所属项目的内部编号", 1024)
    project_code: str = F("项目编码", "所属项目编码", "44010024T000000123456")
    project_name: str = F("项目名称", "所属项目名称", "示例项目：监测设备运维")
    unit_id: int = F("单位ID", "资金使用单位的内部编号", 12)
    unit: str = F("单位名称", "资金使用单位名称", "示例市无线电监测站")
    department_id: int | None = F("主管部门ID", "主管部门的内部编号", 3)
    department: str | None = F("主管部门", "主管部门名称", "示例市工业和信息化局")
    position: int = F("序号", "指标在目标表中的顺序", 1)
    level1: str = F("一级指标", "一级指标：output 产出、outcome 效益、satisfaction 满意度", "output")
    level2: str | None = F("二级指标", "二级指标代号，如 quantity、social；无法识别时为 null", "quantity")
    level2_code: str | None = F("二级指标编码", "二级指标编码，如 11", "11")
    level2_name: str | None = F("二级指标名称", "二级指标名称（原文）", "数量指标")
    name: str = F("三级指标", "三级指标名称", "示例指标：月度监测报告")
    period_target: str | None = F("实施周期指标值", "实施周期指标值，原文照录", "≥12份")
    annual_target: str | None = F("年度指标值", "年度指标值，原文照录", "≥12份")
    target_kind: str = F("指标值类型", "quantity 数量型、qualitative 定性、deadline 时限", "quantity")
    target_op: str | None = F("比较符", "年度指标值的比较符", ">=")
    target_value: str | None = F("指标数值", "年度指标值的数值（已换算量级）", "12", decimal=True)
    target_value_max: str | None = F("区间上限", "区间型指标值的上限", None, decimal=True)
    target_unit: str | None = F("计量单位", "年度指标值的计量单位", "份")
    target_confidence: str = F("识别把握", "high 或 low", "high")
    weight: str | None = F("分值", "该指标的分值（权重）", "5.00", decimal=True)
    given_weight: str | None = F(
        "表中分值",
        "绩效目标表给出的分值（原样）；未给出时为 null。合计不是 90 时按比例折算后的分值见 weight",
        None,
        decimal=True,
    )
    actual: str | None = F("实际完成值", "实际完成值，原文照录", "12份")
    score: str | None = F("计算得分", "系统计算的得分", "5.00", decimal=True)
    score_override: str | None = F("审核调整得分", "审核人调整后的得分", None, decimal=True)
    self_score: str | None = F("单位自评得分", "单位自己填写的得分；未填写时为 null", None, decimal=True)
    effective_score: str | None = F(
        "最终得分", "有审核调整得分时取调整得分，其次取单位自评得分，否则取计算得分", "5.00", decimal=True
    )
    met: bool | None = F("是否达标", "是否达到年度指标值；尚未计分时为 null", True)
    flags: list[str] = F("提示", "计分提示标记", [])


# --- statistics ---------------------------------------------------------------------------


# 各自评状态的项目数 and 各等级的自评数: one field per status and per grade of the lifecycle and
# the national template, so that the schema says what the domain says.
StatusCounts = create_model(
    "StatusCounts",
    __base__=_Public,
    __doc__="各自评状态的项目数。",
    **{s.code: (int, F(s.label, f"状态为“{s.label}”的项目数", 0)) for s in STATUSES},
)
_GRADE_FIELD_NAMES = ("excellent", "good", "fair", "poor")
GRADE_FIELDS = dict(zip(GRADES, _GRADE_FIELD_NAMES, strict=True))
GradeCounts = create_model(
    "GradeCounts",
    __base__=_Public,
    __doc__="各等级的自评数（仅计已送审且已计分的自评）。",
    **{
        name: (int, F(grade, f"等级为{grade}（{GRADE_RANGES[grade]}）的自评数", 0))
        for grade, name in GRADE_FIELDS.items()
    },
)


class ScoreBin(_Public):
    """得分分布中的一个区间 [lower, upper)，最后一个区间含 100。"""

    lower: str = F("下限", "区间下限（含）", "90")
    upper: str = F("上限", "区间上限（不含；最后一个区间含 100）", "100")
    count: int = F("数量", "落在该区间的自评数", 5)

    def __str__(self) -> str:
        return f"{self.lower}–{self.upper}：{self.count}"


class _StatsPublic(_Public):
    year: int = F("年度", "统计年度", 2025)
    projects: int = F("项目数", "该年度的项目数", 14)
    by_status: StatusCounts = F("按状态", "各自评状态的项目数", None)
    submitted: int = F(HANDED_IN_LABEL, f"{HANDED_IN_LABEL}的自评数（状态为 {_HANDED_IN_DOC}）", 8)
    approved: int = F("已审核", f"审核通过的自评数（状态为 {_APPROVED_DOC}）", 5)
    scored: int = F("计分自评数", "参与平均分、分布和等级统计的自评数（已送审且已计分）", 8)
    average_score: str | None = F(
        "平均分", "已送审自评总分的平均值，两位小数（四舍五入）；没有时为 null", "91.25", decimal=True
    )
    score_distribution: list[ScoreBin] = F("得分分布", "十个区间的得分分布", [])
    grades: GradeCounts = F("等级", "各等级的自评数", None)
    budget: str | None = F("全年预算数合计（万元）", "全年预算数合计，万元，精确求和", "57550.00", decimal=True)
    spent: str | None = F("全年执行数合计（万元）", "全年执行数合计，万元，精确求和", "56022.2398", decimal=True)
    execution_rate: str | None = F(
        "预算执行率（%）", "已填报执行数的项目的执行数合计 / 其预算数合计，百分点，两位小数", "97.35", decimal=True
    )
    unmet_indicators: int = F("未达标指标数", "未达到年度指标值的指标数（含草稿中的）", 3)


class _UnitIdentity(_Public):
    unit_id: int = F("单位ID", "单位的内部编号", 12)
    unit_code: str | None = F("单位编码", "单位编码", "401001")
    unit: str = F("单位名称", "单位名称", "示例市无线电监测站")
    department_id: int | None = F("主管部门ID", "主管部门的内部编号", 3)
    department: str | None = F("主管部门", "主管部门名称", "示例市工业和信息化局")


class _DepartmentIdentity(_Public):
    department_id: int = F("主管部门ID", "主管部门的内部编号", 3)
    department_code: str | None = F("主管部门编码", "主管部门编码", "401")
    department: str = F("主管部门", "主管部门名称", "示例市工业和信息化局")


# The identity fields come first in JSON and in the export columns (pydantic orders the fields
# of the last base first).
class UnitStatsPublic(_StatsPublic, _UnitIdentity):
    """某单位某年度的汇总统计。"""


class DepartmentStatsPublic(_StatsPublic, _DepartmentIdentity):
    """某主管部门（其下您有权查看的单位）某年度的汇总统计。"""


# --- list envelopes -----------------------------------------------------------------------


class _Page(BaseModel):
    next: str | None = F("下一页", "下一页的完整地址；已是最后一页时为 null", "http://jixiao/api/v1/projects?cursor=…")
    next_cursor: str | None = F(
        "下一页游标", "不透明的分页游标，原样作为 cursor 参数传回；最后一页为 null", "eyJhIjoxMDB9.sig"
    )
    limit: int = F("每页条数", "本次请求的每页条数", 100)


class AuditEventPublic(_Public):
    """一条审计记录：谁、何时、对什么、做了什么，修改前后的值。"""

    id: int = F("编号", "审计记录编号，按写入顺序递增", 1024)
    at: datetime = F("时间", "发生时间（UTC）", "2024-12-31T08:00:00Z")
    actor: str = F("操作者", "用户名、token:令牌名，或命令行的 cli:系统账号", "caizhengju")
    user_id: int | None = F("用户ID", "登录用户的编号；令牌与命令行为 null", 3)
    action: str = F("操作", "如 evaluation.save、import.update、login.failure、export", "import.update")
    entity_type: str = F("对象类型", "如 project、self_evaluation、user、api_token", "project")
    entity_id: int | None = F("对象编号", "被操作对象的编号；不针对单一对象时为 null", 7)
    stream: str = F("记录流", "摘要链所属的记录流", "project:7")
    seq: int = F("序号", "在记录流中的序号，从 1 起连续", 3)
    before: dict | None = F("修改前", "修改或删除前的值", {"project": {"budget": "100"}})
    after: dict | None = F("修改后", "修改后的值；删除的为 null", {"project": {"budget": "999"}})
    note: str | None = F("说明", "意见、原因或来源（如导入文件及其 SHA-256）", None)
    hash: str = F("摘要", "SHA-256，链接本条内容与前一条的摘要", "9f86d081884c7d65…")


class AuditEventsPublic(_Page):
    items: list[AuditEventPublic] = F("审计记录", "本页的审计记录，按编号升序", [])


class UnitsPublic(_Page):
    items: list[UnitPublic] = F("单位", "本页的单位，按 id 升序", [])


class ProjectsPublic(_Page):
    items: list[ProjectPublic] = F("项目", "本页的项目，按 id 升序", [])


class IndicatorsPublic(_Page):
    items: list[IndicatorPublic] = F("指标", "本页的指标，按 id 升序", [])


class UnitStatsListPublic(_Page):
    items: list[UnitStatsPublic] = F("单位统计", "本页的单位统计，按单位 id 升序", [])


class DepartmentStatsListPublic(_Page):
    items: list[DepartmentStatsPublic] = F("主管部门统计", "本页的主管部门统计，按主管部门 id 升序", [])
