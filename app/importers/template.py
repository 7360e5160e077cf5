"""The empty import template (xlsx): header row, one filled example row, and a sheet 说明."""

from __future__ import annotations

import os

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from app.importers.published import PACKED_COLUMN
from app.importers.tabular import HEADERS, OPTIONAL

SHEET = "导入"
HELP_SHEET = "说明"

EXAMPLE = (
    2024,
    "某某市某某局",
    "某某市某某中心",
    "",
    "业务培训经费",
    "",
    120.5,
    "三年内完成全市业务骨干轮训。",
    "全年举办业务培训不少于4期，参训人员满意度达到95%以上。",
    "1-产出指标",
    "11-数量指标",
    "举办培训期数",
    "≥12期",
    "≥4期",
    None,
)

_HELP: dict[str, str] = {
    "年度": "预算年度，四位数字，如 2024。与导入时选择的年度不一致会报错。",
    "主管部门": "单位的主管部门全称。单位不存在时，将在该主管部门下新建。",
    "单位名称": "资金使用单位（预算单位）全称。按单位编码匹配已有单位，没有编码时按名称匹配（忽略全角/半角和空格）。",  # noqa: E501
    "单位编码": "预算单位编码，可留空。",
    "项目名称": "项目名称。同一单位内项目名称可以重复，请用项目编码区分。",
    "项目编码": "项目编码（国家标准编码为 21 位），可留空；留空时系统按单位、年度、名称和顺序生成。",
    "年度预算数（万元）": "全年预算数，单位万元，可留空。填数字，可带小数，如 56022.2398；不要填公式。"
    "表中金额为元时，把列名写作“年度预算数（元）”，或加一列“金额单位”填“元”，或在数字后写“元”，"
    "导入时精确换算为万元。",
    "实施周期目标": "实施周期绩效目标（文字），可留空。",
    "年度目标": "年度绩效目标（文字）。",
    "一级指标": "产出指标、效益指标或满意度指标（按 2021 指引计分的年度还有成本指标）；也可写作“1-产出指标”“产出”。"
    "无法识别、或不属于该年度所用的评分模板时整份文件不导入。",
    "二级指标": "如“11-数量指标”“数量指标”“数量”；12-质量、13-时效、14-成本、21-经济效益、22-社会效益、"
    "23-生态效益、24-可持续影响、31-服务对象满意度；2021 指引的成本指标下为 41-经济成本、42-社会成本、"
    "43-生态环境成本。与一级指标不符时给出警告。",
    "三级指标": "指标名称，必填。",
    "实施周期指标值": "整个实施周期的指标值，按原文保存，如“≥12份”“不少于1,300亿元”“2024年12月前”“提升”。",
    "年度指标值": "本年度的指标值，年终自评与它比较。写法同上。",
    "分值": "该指标的分值（绝对分），可留空（留空时按一级指标的分值平均分配）。一个项目的每个指标都填了分值且合计为 90"
    "（预算执行率 10 分另计）时按所填分值计分；合计不是 90 时给出警告，并按比例折算为 90 分计分。",
}


def write_template(path: str | os.PathLike) -> None:
    """Write the empty import template as xlsx to `path`."""
    wb = Workbook()
    ws = wb.active
    ws.title = SHEET
    ws.append(list(HEADERS))
    ws.append(list(EXAMPLE))
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FFF2CC")
    for cell in ws[1]:
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if cell.value not in OPTIONAL:
            cell.fill = required_fill
    for cell in ws[2]:
        cell.number_format = "@" if not isinstance(cell.value, (int, float)) else cell.number_format
    for letter, width in zip(
        "ABCDEFGHIJKLMNO", (8, 18, 22, 12, 22, 24, 14, 30, 30, 12, 14, 22, 16, 16, 8), strict=False
    ):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = "A2"

    help_ws = wb.create_sheet(HELP_SHEET)
    help_ws.append(["列名", "是否必填", "说明与可接受的写法"])
    for cell in help_ws[1]:
        cell.font = bold
    for header in HEADERS:
        help_ws.append([header, "可留空" if header in OPTIONAL else "必填", _HELP[header]])
    help_ws.append([])
    help_ws.append(
        [
            PACKED_COLUMN,
            "可选",
            "可用一列“绩效指标”代替最后六列，写出该项目的全部指标，格式同公开的绩效目标表："
            "“1、1-产出指标；11-数量指标；指标名称；实施周期指标值:≥12份；年度指标值:≥12份。2、……”。",
        ]
    )
    help_ws.append(
        [
            "指标性质 / 指标值 / 度量单位",
            "可选",
            "可用这三列代替“实施周期指标值、年度指标值”（四川、云南、湖南等地的表样），"
            "也可写作“指标值类型 / 目标值 / 计量单位”。指标性质填 ≥、≤、＞、＜、＝（也认 ≧、═）、定量或定性；"
            "三格按原样连起来作为年度指标值，如 ≥ | 95 | % → “≥95%”。"
            "指标性质与指标值相矛盾（如“定性”却填了数字，“≥”却填了文字）时整份文件不导入，并指出所在行列。"
            "“权重”列按“分值”读取。",
        ]
    )
    help_ws.append(
        [
            "一般规则",
            "",
            "每行一个指标；同一项目的多个指标连续排列，单位名称和项目编码（无编码时为项目名称）相同的连续行属于同一项目。"
            "第一行为表头，列名须与本模板一致（首尾空格、半角括号均可）。支持 xlsx 和 csv（UTF-8 或 GB18030 编码）。"  # noqa: E501
            "单元格中不要使用公式。单位名称、项目名称、三级指标为空或一级指标无法识别时，整份文件不导入，并指出所在行列。",
        ]
    )
    help_ws.column_dimensions["A"].width = 20
    help_ws.column_dimensions["B"].width = 10
    help_ws.column_dimensions["C"].width = 100
    for row in help_ws.iter_rows(min_row=2):
        row[2].alignment = Alignment(wrap_text=True, vertical="top")
    wb.save(path)
