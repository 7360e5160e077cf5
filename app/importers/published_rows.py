"""Reader for the published 绩效目标表 printed one indicator per line (the common county layout).

What a web page or a PDF of the national 绩效目标申报表 gives as text when each table row is
one printed line:

    项目名称 2018年市级专项扶贫资金基础设施(人大代表扶贫基地) 项目负责人及电话 郭铁梅…
    主管部门 南岳镇政府 实施单位 [610001]湖南省润山润水生态农业发展有限公司
    资金情况(万元) 年度资金总额: 10
    总体目标 年度目标 年度总体目标完成情况
    为水濂村带来观光游客不少于6万人,村集体收入达6万元。
    绩效指标 一级指标 二级指标 三级指标 指标值 备注
    产出指标 数量指标 贫困地区旅游基础设施建设工程 >=20平方米
    流转土地 >=60亩
    质量指标 *贫困地区旅游基础设施建设质量达标率100% >=98%

A line under the header "一级指标 二级指标 三级指标 指标值" is one indicator: it may begin
with a 一级指标 and a 二级指标 (when it does not, they are carried down from the line above),
its last cell is the 指标值 (or, when the header has 分值 after 指标值, the last two cells are
指标值 and 分值), and what lies between is the 三级指标. The table ends at a line that is not
an indicator (审核意见, 总分, 合计, 注, 填表人…) or at the next project. Each "项目名称" line
starts a project; 主管部门, 实施单位 (with its code in brackets), 年度资金总额 (万元) and the
年度目标 paragraph are taken from the lines before the indicator table.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from app.domain.categories import level1_from_text, level2_from_text
from app.importers.rows import IndicatorRow, Place, Problem, ProjectRow, ReadResult

LAYOUT_NAME = "逐行表格版式（表头一行“一级指标 二级指标 三级指标 指标值”，每个指标一行）"

# the header is a line of its own, made of these words only
_HEADER = re.compile(
    r"(?:(?:年度)?绩效指标\s+)?一级指标\s+二级指标\s+三级指标\s+(?:年度)?指标值(?:\s+(?:分值|权重|备注))*"
)
_AFTER_VALUE = re.compile(r"(?:年度)?指标值\s*(.*)$")
_PROJECT = re.compile(r"^项目名称\s+(.+?)(?:\s+项目负责人.*)?$")
_DEPARTMENT = re.compile(r"主管部门\s+(\S+)")
_UNIT = re.compile(r"实施单位\s+(?:[\[［(（](\w+)[\]］)）])?\s*(\S.*?)\s*$")
_BUDGET = re.compile(r"年度资金总额\s*[:：]?\s*([0-9][0-9,]*(?:\.[0-9]+)?)")
_GOALS_HEADER = re.compile(r"^(?:总体目标\s+)?年度目标")
_YEAR = re.compile(r"(20\d{2})\s*年")
# lines that end an indicator table
_STOP = re.compile(
    r"^(?:财政|主管部门审核|区扶贫办|县扶贫办|审核意见|总分|合计|注[:：]|备注[:：]|填表人|填报人|单位负责人|项目负责人[:：])"
)
_CELLS = re.compile(r"\s+")


def has_row_layout(lines: list[str]) -> bool:
    """Whether the text has the header line of this layout."""
    return any(_HEADER.fullmatch(unicodedata.normalize("NFKC", line).strip()) for line in lines)


def read_row_layout(text: str, *, source: str) -> ReadResult:
    """Read a published table printed one indicator per line; see the module docstring."""
    result = ReadResult()
    problems = result.problems
    # values are kept as printed; keywords are matched on the NFKC form
    lines = [(no, raw.strip()) for no, raw in enumerate(text.splitlines(), start=1) if raw.strip()]
    year = next((int(m.group(1)) for _, s in lines if (m := _YEAR.search(s))), None)
    project: ProjectRow | None = None
    in_table = False
    has_weight = False
    goal_next = False
    level1_raw = level2_raw = ""

    def new_project(name: str, no: int) -> ProjectRow:
        p = ProjectRow(
            year=year,
            department_name=None,
            unit_name=None,
            unit_code=None,
            project_name=name,
            project_code=None,
            budget=None,
            period_goal=None,
            annual_goal=None,
            place=Place(source, None, no, "项目名称", name),
        )
        result.projects.append(p)
        return p

    for no, s in lines:
        n = unicodedata.normalize("NFKC", s)
        if m := _PROJECT.match(s):
            project = new_project(m.group(1).strip(), no)
            in_table, goal_next, level1_raw, level2_raw = False, False, "", ""
            continue
        if _HEADER.fullmatch(n):
            if project is None:
                project = new_project(f"未命名项目（第{len(result.projects) + 1}个）", no)
                project.name_generated = True
                _warn(
                    project, problems, "name_not_placed", "表中没有“项目名称”一行，已生成项目名称，请核对。", no, source
                )
            after = _AFTER_VALUE.search(s)
            has_weight = bool(after and after.group(1).startswith(("分值", "权重")))
            in_table, goal_next, level1_raw, level2_raw = True, False, "", ""
            continue
        if project is None:
            continue
        if in_table:
            if _STOP.match(n):
                in_table = False
                continue
            row = _indicator_line(s, no, source, level1_raw, level2_raw, has_weight, len(project.indicators) + 1)
            if isinstance(row, Problem):
                problems.append(row)
                continue
            level1_raw, level2_raw = row.level1_raw, row.level2_raw
            project.indicators.append(row)
            continue
        if goal_next:
            project.annual_goal = s
            goal_next = False
            continue
        if _GOALS_HEADER.match(n):
            goal_next = True
            continue
        if m := _DEPARTMENT.search(s):
            project.department_name = m.group(1)
        if m := _UNIT.search(s):
            project.unit_code, project.unit_name = m.group(1), m.group(2)
        if m := _BUDGET.search(n):
            try:
                project.budget = Decimal(m.group(1).replace(",", ""))
            except InvalidOperation:
                pass

    for p in result.projects:
        if p.unit_name is None:
            problems.append(
                Problem(
                    "error", "missing_unit", "表中没有“实施单位”，无法确定项目所属的单位。", p.place or Place(source)
                )
            )
        if not p.indicators:
            problems.append(
                Problem("error", "no_indicators", f"项目“{p.project_name}”下没有绩效指标。", p.place or Place(source))
            )
        if p.annual_goal is None:
            _warn(
                p,
                problems,
                "missing_goal",
                f"项目“{p.project_name}”没有年度目标。",
                p.place.row if p.place else None,
                source,
            )
    return result


def _starts_level1(cells: list[str]) -> bool:
    """Whether a row's first cell is a 一级指标. "成本指标" is both a level-1 category (2021
    guideline) and a level-2 one under 产出 (national 2020): it is level-1 only when the next cell
    is one of its level-2 categories ("成本指标 经济成本指标 …")."""
    level1 = level1_from_text(cells[0])
    if level1 is None:
        return False
    if level2_from_text(cells[0]) is None:
        return True
    following = level2_from_text(cells[1]) if len(cells) > 1 else None
    return following is not None and following.level1 == level1.slug


def _indicator_line(
    s: str, no: int, source: str, level1_raw: str, level2_raw: str, has_weight: bool, order: int
) -> IndicatorRow | Problem:
    cells = _CELLS.split(s)
    place = Place(source, None, no, "三级指标", s)
    if _starts_level1(cells) and len(cells) >= 3:
        level1_raw, cells = cells[0], cells[1:]
        level2_raw = ""  # a new 一级指标 starts its 二级指标 afresh
    if len(cells) >= 3 and level2_from_text(cells[0]) is not None:
        level2_raw, cells = cells[0], cells[1:]
    weight = None
    if has_weight and len(cells) >= 3:
        try:
            weight = Decimal(cells[-1])
            cells = cells[:-1]
        except InvalidOperation:
            return Problem(
                "error", "bad_weight", f"分值“{cells[-1]}”不是数字。", Place(source, None, no, "分值", cells[-1])
            )
    if len(cells) < 2:
        return Problem(
            "error",
            "row_unreadable",
            "无法识别的指标行：应为“[一级指标] [二级指标] 三级指标 指标值”，以空格分隔。",
            place,
        )
    if not level1_raw:
        return Problem(
            "error", "unknown_level1", "指标行之前没有一级指标（产出指标、效益指标、满意度指标或成本指标）。", place
        )
    level1 = level1_from_text(level1_raw)
    level2 = level2_from_text(level2_raw) if level2_raw else None
    if level1 is None:
        return Problem("error", "unknown_level1", f"无法识别的一级指标“{level1_raw}”。", place)
    value, name = cells[-1], " ".join(cells[:-1])  # a name may hold spaces: "数量( ≥**个 )"
    return IndicatorRow(
        order=order,
        level1=level1.slug,
        level1_raw=level1_raw,
        level2=level2.slug if level2 else None,
        level2_raw=level2_raw,
        name=name,
        period_target=None,
        annual_target=value,
        weight=weight,
        place=Place(source, None, no, "三级指标", name),
    )


def _warn(project: ProjectRow, problems: list[Problem], code: str, message: str, row: int | None, source: str) -> None:
    w = Problem("warning", code, message, Place(source, None, row, "项目名称"))
    project.warnings.append(w)
    problems.append(w)
