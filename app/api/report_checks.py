"""POST /api/v1/report-checks: the arithmetic of a submitted 自评报告 (issue 12 §4)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import File, Request, UploadFile
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from app.api.routing import PrefixRouter
from app.api.scopes import requires
from app.auth import PrincipalDep
from app.domain.evaluation import RATE_TOLERANCE_POINTS, REPORT_CHECKS
from app.domain.report_check import KIND_LABELS
from app.domain.scoring import NATIONAL_2020, grade_for
from app.services import report_checks
from app.uploads import read_upload

router = PrefixRouter(prefix="/api/v1", tags=["自评报告核对"])

KINDS_DOC = " / ".join(f"{code} {label}" for code, label in KIND_LABELS.items())
CHECKS_DOC = " / ".join(f"{k.code} {k.label}" for k in REPORT_CHECKS)


class ReportFigurePublic(BaseModel):
    """报告中申报的一个数字，带出处（行号与该行原文）。"""

    id: int = Field(description="数字编号（按在报告中出现的先后）")
    kind: str = Field(description=f"数字的类别：{KINDS_DOC}")
    kind_label: str = Field(description="类别的中文名")
    value: str | None = Field(
        description="数值（十进制字符串，金额单位万元，比率单位为百分点，得分单位为分）；等级为 null"
    )
    written: str = Field(description="报告中的写法，如 57550万元、97.42%、96.8分")
    label: str = Field(description="数字前面的文字（它是什么），如 资金支出率、投入阶段")
    line: int = Field(description="数字所在的行号（从 1 起，按上传文本的行计）")
    line_text: str = Field(description="该行的原文")


class ReportNotDerivablePublic(ReportFigurePublic):
    """报告中无法由其他数字推算的数字：仅列出，不核对、不标记。"""

    reason: str = Field(description="为什么没有核对")


class ReportFindingPublic(BaseModel):
    """一项核对：申报数、重算所用的数字、是否相符。"""

    check: str = Field(description=f"核对项：{CHECKS_DOC}")
    check_label: str = Field(description="核对项的中文说明")
    ok: bool = Field(description="相符为 true；不符为 false（即标记）")
    label: str = Field(description="结论的中文短语（相符，或不符的标记）")
    declared: ReportFigurePublic = Field(description="被核对的申报数")
    parts: list[ReportFigurePublic] = Field(description="重算所用的数字（分项、分子与分母、总分）")
    computed: str = Field(
        description=f"重算结果：和、按申报精度取舍的比率（相差超过 {RATE_TOLERANCE_POINTS} 个百分点即不符），或应得等级"
    )
    lines: list[int] = Field(description="本项核对涉及的所有行号")
    message: str = Field(description="中文说明：申报数、重算数、所在行")


class ReportCheckPublic(BaseModel):
    """一份自评报告的核对结果。"""

    filename: str = Field(description="上传的文件名")
    line_count: int = Field(description="报告文本的行数")
    figure_count: int = Field(description="识别出的申报数字个数")
    check_count: int = Field(description="做了的核对项数")
    flag_count: int = Field(description="不符（标记）的核对项数")
    flagged_lines: list[int] = Field(description="所有不符核对项涉及的行号")
    expected_grade: str | None = Field(
        description="按报告申报的总分、用评分模板的等级线应得的等级；报告没有总分时为 null"
    )
    flags: list[ReportFindingPublic] = Field(description="不符的核对项（checks 中 ok 为 false 的那些）")
    checks: list[ReportFindingPublic] = Field(description="全部核对项，按被核对数字在报告中的先后")
    not_derivable: list[ReportNotDerivablePublic] = Field(
        description="无法推算、仅列出的数字（如没有金额可依的到位率 100%、各处室单独的自评得分）"
    )
    figures: list[ReportFigurePublic] = Field(description="识别出的全部申报数字")


_FIGURE = {
    "id": 58,
    "kind": "rate",
    "kind_label": "比率",
    "value": "97.42",
    "written": "97.42%",
    "label": "资金支出率",
    "line": 700,
    "line_text": "实际支出 56022.2398万元，资金支出率 97.42%，即“资金支",
}
EXAMPLE: dict[str, Any] = {
    "filename": "2019年信息化和信息产业发展专项资金绩效自评报告.docx",
    "line_count": 1684,
    "figure_count": 101,
    "check_count": 28,
    "flag_count": 1,
    "flagged_lines": [698, 700],
    "expected_grade": grade_for(NATIONAL_2020, Decimal("96.8")),
    "flags": [
        {
            "check": "rate",
            "check_label": "申报的比率与按金额重算的比率",
            "ok": False,
            "label": "比率与重算不符",
            "declared": _FIGURE,
            "parts": [
                {**_FIGURE, "id": 57, "kind": "spent", "kind_label": "实际支出", "value": "56022.2398",
                 "written": "56022.2398万元", "label": "实际支出"},
                {**_FIGURE, "id": 56, "kind": "budget", "kind_label": "预算数", "value": "57550",
                 "written": "57550万元", "label": "专题预算", "line": 698,
                 "line_text": "期，2019年支持信息化和信息产业发展专题预算 57550万元，"},
            ],
            "computed": "97.35",
            "lines": [698, 700],
            "message": "资金支出率不符：第700行申报 97.42%，按第698行、第700行的金额重算为 56022.2398 ÷ 57550 = "
            "97.3453%，按申报精度为 97.35%，相差 0.07 个百分点（超过 0.05）",
        }
    ],
    "checks": [],  # filled below: the flag above among the checks that add up
    "not_derivable": [
        {**_FIGURE, "id": 48, "kind": "score_separate", "kind_label": "单独评价得分", "value": "100",
         "written": "100分", "label": "电视用户推广绩效", "line": 622,
         "line_text": "业处支持 4K电视用户推广绩效自评 100分、",
         "reason": "无法由报告中的其他数字推算，仅列出，未核对"}
    ],
    "figures": [_FIGURE],
}  # fmt: skip
EXAMPLE["checks"] = EXAMPLE["flags"]


@router.post(
    "/report-checks",
    summary="核对自评报告中的数字（上传 .docx / .pdf / .txt）",
    response_model=ReportCheckPublic,
    responses={
        200: {"content": {"application/json": {"example": EXAMPLE}}},
        401: {"description": "未登录，或令牌无效"},
        403: {"description": "令牌没有 read 权限"},
        413: {"description": "文件超过上限（JIXIAO_REPORT_CHECK_MAX_BYTES，默认 20 MB），在读取请求体之前即拒绝"},
        422: {"description": "文件不是可读取文字的 .docx、.pdf 或 .txt（如扫描件 PDF、.doc），message 说明原因"},
    },
)
@requires("read")
async def create_report_check(
    request: Request,
    principal: PrincipalDep,
    file: Annotated[UploadFile, File(description="自评报告：.docx、文字版 .pdf 或 .txt（UTF-8 或 GBK）")],
) -> dict[str, Any]:
    """Extract a report's declared figures (totals, allocations, spent, 结余, rates, scores, grade),
    each with its line, and check their arithmetic; nothing is stored. 200 whether or not it adds up."""
    data = await read_upload(file, request.app.state.settings.report_check_max_bytes)
    filename = file.filename or "upload"
    result = await run_in_threadpool(report_checks.check_file, data=data, filename=filename)
    return {"filename": filename, **result.to_dict()}
