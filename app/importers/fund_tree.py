"""A fund's allocation tree from the xlsx template jixiao writes: one row per node, with its parent path.

No database: rows out, each with its Excel row number; problems name their row and column. The file
is read by the same streaming reader and limits as the 绩效目标表 import (rows, cells, unpacked size).
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal

from app.domain.funds import (
    IMPLEMENTATION_LABELS,
    NODE_KIND_LABELS,
    RECIPIENT_KIND_LABELS,
    implementation_from_text,
    kind_from_text,
    recipient_kind_from_text,
)
from app.importers import tabular
from app.importers.rows import Place, Problem, ReadLimits, ReadResult

SHEET = "资金分配"
PATH = "上级路径"
KIND = "类型"
NAME = "名称"
RECIPIENT_KIND = "收款方类型"
UNIT = "关联单位"
ALLOCATED = "下达金额（万元）"
ARRIVED = "到位金额（万元）"
ARRIVAL_DATES = "到位时间"
SPENT = "实际支出（万元）"
IMPLEMENTATION = "实施方式"
PURPOSE = "用途及绩效目标"
OWN_SCORE = "处室自评得分"
OWN_SCORE_NOTE = "处室自评说明"
COLUMNS: tuple[str, ...] = (PATH, KIND, NAME, RECIPIENT_KIND, UNIT, ALLOCATED, ARRIVED, ARRIVAL_DATES, SPENT)
COLUMNS += (IMPLEMENTATION, PURPOSE, OWN_SCORE, OWN_SCORE_NOTE)
REQUIRED = (KIND, NAME, ALLOCATED)
# names may hold "/" (4K/8K): the path joins them with " > " (spaces around it), split only there
SEPARATOR = " > "
# the field of app/services/funds.NodeFields each column fills, for messages named by column
FIELD_COLUMNS = {
    "kind": KIND,
    "name": NAME,
    "recipient_kind": RECIPIENT_KIND,
    "unit_id": UNIT,
    "allocated": ALLOCATED,
    "arrived": ARRIVED,
    "arrival_dates": ARRIVAL_DATES,
    "spent": SPENT,
    "implementation": IMPLEMENTATION,
    "purpose": PURPOSE,
    "own_score": OWN_SCORE,
    "own_score_note": OWN_SCORE_NOTE,
    "parent_id": PATH,
}
HELP = (
    (PATH, f"上级节点的名称，从最上级写起，用“{SEPARATOR.strip()}”分隔；处室等最上级留空。上级须在本行之前出现"),
    (KIND, "、".join(NODE_KIND_LABELS.values())),
    (NAME, "同一上级下不重复"),
    (RECIPIENT_KIND, "用款单位/地市节点填写：" + "、".join(RECIPIENT_KIND_LABELS.values()) + "（不填为用款单位）"),
    (UNIT, "用款单位在本系统中的单位名称（填写后该单位可登录查看本节点）"),
    (ALLOCATED, "必填，万元，最多 6 位小数；下级合计须等于本级，不等时标记差额，不会自动修正"),
    (ARRIVED, "万元，可空；下级都填时由下级汇总"),
    (ARRIVAL_DATES, "如“2019年4月”，原样保存"),
    (SPENT, "万元，通常填在用款单位/地市一级，由下级逐级汇总；下级都未填时可填在本级"),
    (IMPLEMENTATION, "、".join(IMPLEMENTATION_LABELS.values())),
    (PURPOSE, "安排用途、绩效目标，原样保存"),
    (OWN_SCORE, "处室节点可填该处室的自评得分（与总分并列显示，不计入总分）"),
    (OWN_SCORE_NOTE, "处室自评得分的说明，原样保存"),
)


@dataclass
class TreeRowRead:
    row: int
    path: tuple[str, ...]
    values: dict[str, str | None]  # NodeFields' names → text as given (codes for kinds)
    unit_name: str | None = None


@dataclass
class TreeRead:
    rows: list[TreeRowRead] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def _canon(text: object) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or "")))


_HEADERS = {_canon(c): c for c in COLUMNS}


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    text = str(value).strip()
    return text or None


def read_fund_tree(data: bytes, *, filename: str, limits: ReadLimits | None = None) -> TreeRead:
    """Rows of the fund tree template (xlsx), or the problems that stop it, each at its row and column."""
    out = TreeRead()
    if not data.startswith(b"PK\x03\x04"):
        out.problems.append(
            Problem("error", "not_a_table", "请上传由本系统导出的资金分配 xlsx 模板（.xlsx 文件）。", Place(filename))
        )
        return out
    result = ReadResult()
    counter = tabular._ReadCounter(limits or ReadLimits(), filename)
    sheets = tabular._xlsx_sheets(io.BytesIO(data), filename, result, counter)
    if sheets is None:
        out.problems.extend(result.problems)
        return out
    try:
        for title, _, rows in sheets:
            if title != SHEET:
                continue
            _read_sheet(out, filename, title, rows)
            break
        else:
            out.problems.append(
                Problem("error", "no_sheet", f"文件中没有名为“{SHEET}”的工作表：请使用导出的模板。", Place(filename))
            )
    except tabular._TooBig as exc:
        out.problems.append(Problem("error", "too_large", exc.message, exc.place))
    return out


def _read_sheet(out: TreeRead, filename: str, title: str | None, rows) -> None:
    columns: dict[str, int] | None = None
    for number, cells in rows:
        if columns is None:
            found = {_HEADERS[_canon(c)]: k for k, c in enumerate(cells) if _canon(c) in _HEADERS}
            if NAME in found and ALLOCATED in found:
                columns = found
                missing = [c for c in REQUIRED if c not in found]
                if missing:
                    out.problems.append(
                        Problem(
                            "error", "missing_column", f"缺少列：{'、'.join(missing)}", Place(filename, title, number)
                        )
                    )
                    return
            continue
        if all(_text(c) is None for c in cells):
            continue
        got: dict[str, str | None] = {}
        bad = False
        for column, k in columns.items():
            cell = cells[k] if k < len(cells) else None
            if isinstance(cell, tabular._Formula):
                out.problems.append(
                    Problem(
                        "error",
                        "formula",
                        "单元格是公式，请填写数值或文字（可在 Excel 中“选择性粘贴为数值”）",
                        Place(filename, title, number, column, str(cell)),
                    )
                )
                bad = True
                continue
            got[column] = _text(cell)
        if bad:
            continue
        kind_text = got.get(KIND) or ""
        kind = kind_from_text(kind_text)
        if kind is None:
            out.problems.append(
                Problem(
                    "error",
                    "unknown_kind",
                    f"类型须为 {'、'.join(NODE_KIND_LABELS.values())} 之一",
                    Place(filename, title, number, KIND, kind_text),
                )
            )
            continue
        values: dict[str, str | None] = {
            "kind": kind,
            "name": got.get(NAME),
            "allocated": got.get(ALLOCATED),
            "arrived": got.get(ARRIVED),
            "arrival_dates": got.get(ARRIVAL_DATES),
            "spent": got.get(SPENT),
            "purpose": got.get(PURPOSE),
            "own_score": got.get(OWN_SCORE),
            "own_score_note": got.get(OWN_SCORE_NOTE),
        }
        for column, key, lookup in (
            (IMPLEMENTATION, "implementation", implementation_from_text),
            (RECIPIENT_KIND, "recipient_kind", recipient_kind_from_text),
        ):
            text = got.get(column)
            values[key] = None
            if text:
                code = lookup(text)
                if code is None:
                    labels = IMPLEMENTATION_LABELS if key == "implementation" else RECIPIENT_KIND_LABELS
                    out.problems.append(
                        Problem(
                            "error",
                            f"unknown_{key}",
                            f"{column}须为 {'、'.join(labels.values())} 之一",
                            Place(filename, title, number, column, text),
                        )
                    )
                values[key] = code
        path_text = got.get(PATH) or ""
        path = tuple(p.strip() for p in re.split(r"\s+>\s+", path_text) if p.strip())
        out.rows.append(TreeRowRead(number, path, values, got.get(UNIT)))
    if columns is None:
        out.problems.append(
            Problem(
                "error",
                "no_header",
                f"找不到表头（须有“{NAME}”和“{ALLOCATED}”列）：请使用导出的模板。",
                Place(filename, title),
            )
        )
