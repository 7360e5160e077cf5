"""Checking the arithmetic of a submitted 自评报告 (pure: no database, no web framework).

Reports arrive as Word or PDF text whose lines break wherever the page did (a figure may start on
one line and its 万元 end on the next). The text is read as one flow of characters, each knowing
the line it came from, and the figures a report declares are picked out by the words around them:

- totals (共获得 … 万元, 处室获得 N 万元), allocations (安排/下达 … N 万元), the shares of a list
  (资金分配如下：…；其中 N 万元用于 …), spent (实际支出 N 万元), 结余, received (到位资金), budgets;
- declared rates (支出率 / 执行率 / 到位率 N%);
- scores (总体得分 N 分; "1、投入阶段自评 19.5 分" a category; "项目立项自评 12 分" an item of it;
  scores written before the first category, such as the seed's per-处室 scores, are separate
  evaluations that the total is not made of) and a declared grade.

Then the arithmetic is checked, each check naming every figure (and so every line) it used:
allocations against their total, the shares of a list against its head, spent + 结余 against
the allocation, each declared rate against the one recomputed from the same sentence's amounts
(domain.md §6: flagged when, rounded to the declared precision, it differs by more than
RATE_TOLERANCE_POINTS), item scores against their category, categories against the total, and
the declared grade against the grade the total earns (the template's thresholds). Figures that
nothing in the report lets one recompute are listed as such, never flagged. Decimal only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from app.domain.evaluation import (
    RATE_TOLERANCE_POINTS,
    REPORT_CHECK,
    REPORT_CHECK_OK,
    REPORT_NOT_DERIVABLE,
    grades,
)
from app.domain.scoring import NATIONAL_2020, TemplateSettings, grade_for

# --- what a figure is ------------------------------------------------------------------------

KIND_LABELS: dict[str, str] = {
    "total": "总数",
    "allocation": "分配数",
    "share": "分配明细",
    "budget": "预算数",
    "received": "到位资金",
    "spent": "实际支出",
    "completed": "完成数",
    "balance": "结余",
    "rate": "比率",
    "score_total": "总分",
    "score_category": "类别得分",
    "score_item": "分项得分",
    "score_separate": "单独评价得分",
    "score_part": "子项得分",
    "score": "得分",
    "grade": "等级",
}
MONEY_KINDS = ("total", "allocation", "share", "budget", "received", "spent", "completed", "balance")
# what a rate's denominator may be: the money that was to be spent
BASE_KINDS = ("total", "allocation", "budget", "share")


@dataclass(frozen=True)
class Figure:
    """One declared figure, with the line it came from (1-based) and that line's text."""

    id: int
    kind: str
    value: Decimal | None  # None for a grade
    written: str  # as the report writes it: 57550万元, 97.42%, 96.8分, 优
    label: str  # the words naming it: 资金支出率, 投入阶段, 项目立项
    line: int
    line_text: str
    start: int = field(repr=False, compare=False, default=0)  # offset in the flow

    @property
    def kind_label(self) -> str:
        return KIND_LABELS[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "kind_label": self.kind_label,
            "value": None if self.value is None else _plain(self.value),
            "written": self.written,
            "label": self.label,
            "line": self.line,
            "line_text": self.line_text,
        }


@dataclass(frozen=True)
class Finding:
    """One check: the declared figure, the figures it was recomputed from, and whether they agree."""

    code: str
    ok: bool
    declared: Figure
    parts: tuple[Figure, ...]
    computed: Decimal | str  # the recomputed value (a grade for the grade check)
    message: str

    @property
    def label(self) -> str:
        kind = REPORT_CHECK[self.code]
        return REPORT_CHECK_OK if self.ok else kind.flag

    @property
    def figures(self) -> tuple[Figure, ...]:
        return (self.declared, *self.parts)

    @property
    def lines(self) -> tuple[int, ...]:
        return tuple(sorted({f.line for f in self.figures}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.code,
            "check_label": REPORT_CHECK[self.code].label,
            "ok": self.ok,
            "label": self.label,
            "declared": self.declared.to_dict(),
            "parts": [f.to_dict() for f in self.parts],
            "computed": self.computed if isinstance(self.computed, str) else _plain(self.computed),
            "lines": list(self.lines),
            "message": self.message,
        }


@dataclass(frozen=True)
class ReportCheck:
    """Everything the checker found in one report."""

    figures: tuple[Figure, ...]
    findings: tuple[Finding, ...]
    not_derivable: tuple[Figure, ...]
    expected_grade: str | None  # what the declared total earns, when there is one
    line_count: int

    @property
    def flags(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if not f.ok)

    @property
    def flagged_lines(self) -> tuple[int, ...]:
        return tuple(sorted({n for f in self.flags for n in f.lines}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "line_count": self.line_count,
            "figure_count": len(self.figures),
            "check_count": len(self.findings),
            "flag_count": len(self.flags),
            "flagged_lines": list(self.flagged_lines),
            "expected_grade": self.expected_grade,
            "flags": [f.to_dict() for f in self.flags],
            "checks": [f.to_dict() for f in self.findings],
            "not_derivable": [{**f.to_dict(), "reason": REPORT_NOT_DERIVABLE} for f in self.not_derivable],
            "figures": [f.to_dict() for f in self.figures],
        }


# --- the flow of text ------------------------------------------------------------------------

LINE_TEXT_MAX = 120  # longer lines are shown around the figure
_WIDE = str.maketrans("０１２３４５６７８９％．", "0123456789%.")
_ASCII_WORD = re.compile(r"[0-9A-Za-z.%]")


@dataclass(frozen=True)
class _Flow:
    text: str
    line_of: tuple[int, ...]  # the 1-based line of every character
    lines: tuple[str, ...]  # the report's lines as given (index 0 = line 1)
    heading_starts: tuple[int, ...]  # offsets where a section heading line begins

    def line(self, offset: int) -> int:
        return self.line_of[min(offset, len(self.line_of) - 1)]

    def line_text(self, offset: int) -> str:
        """The figure's line; around the figure only, when the line is long (a .docx table row)."""
        text = self.lines[self.line(offset) - 1].strip()
        if len(text) <= LINE_TEXT_MAX:
            return text
        number = self.line(offset)
        first = self.line_of.index(number)
        column = max(0, offset - first - (1 if self.text[first] == " " else 0))
        lo, hi = max(0, column - LINE_TEXT_MAX // 2), column + LINE_TEXT_MAX // 2
        return ("…" if lo else "") + text[lo:hi] + ("…" if hi < len(text) else "")


# 一、基本情况 / （一）… / (1)… : where a section begins (a total's allocations end at the next one)
_MAJOR_HEADING = re.compile(r"^[一二三四五六七八九十]+、")
_SUB_HEADING = re.compile(r"^(?:[（(][一二三四五六七八九十\d]{1,3}[）)])")


def _flow(text: str) -> tuple[_Flow, tuple[int, ...]]:
    """The report as one string (lines joined where the page broke them) and its major headings."""
    lines = tuple(text.translate(_WIDE).splitlines())
    parts: list[str] = []
    line_of: list[int] = []
    majors: list[int] = []
    headings: list[int] = []
    length = 0
    for number, raw in enumerate(lines, 1):
        piece = raw.strip()
        if not piece:
            continue
        if parts and _ASCII_WORD.match(piece[0]) and _ASCII_WORD.match(parts[-1][-1]):
            # "3468" at a line's end and "2 珠海" at the next's start are two numbers, not one
            parts.append(" ")
            line_of.append(number)
            length += 1
        if _MAJOR_HEADING.match(piece):
            majors.append(length)
        if _MAJOR_HEADING.match(piece) or _SUB_HEADING.match(piece):
            headings.append(length)
        parts.append(piece)
        line_of.extend([number] * len(piece))
        length += len(piece)
    flow = _Flow("".join(parts), tuple(line_of) or (1,), lines or ("",), tuple(headings))
    return flow, tuple(majors)


# --- picking out the figures -----------------------------------------------------------------

_NUM = r"(\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?)"
# 万元, or 万 alone when no other unit follows (300万户 is households, not money)
_AMOUNT = re.compile(r"(?<![\d.])" + _NUM + r"\s*(万元|万(?![户人个项次家台套件名辆株头亩份册篇场元]))")
_RATE = re.compile(
    r"((?:资金|实际|预算|项目|资金实际)?(支出|执行|到位|使用)率)\s*(?:为|达到|达|是|约)?\s*" + _NUM + r"\s*%"
)
_SCORE = re.compile(
    r"(总体得分|综合得分|总得分|自评总分|综合评分|最终得分|总分|自评得分|评价得分|自评|得分)"
    r"\s*(?:为|是|：|:)?\s*" + _NUM + r"\s*分(?![钟之期配值])"
)
_TOTAL_VERBS = ("总体得分", "综合得分", "总得分", "自评总分", "综合评分", "最终得分", "总分")
_CLAUSE_STOP = set("。；：:，,《》")
_SENTENCE_STOP = set("。")
_LABEL_STOP = set('。，,、；;：:（）()“”"《》!！?？')


def _decimal(text: str) -> Decimal:
    return Decimal(text.replace(",", ""))


def _plain(value: Decimal) -> str:
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def _places(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


@dataclass
class _Amount:
    start: int
    end: int
    value: Decimal
    written: str
    kind: str = "amount"
    label: str = ""
    in_list: bool = False


def _left(flow: _Flow, start: int, width: int) -> str:
    return flow.text[max(0, start - width) : start]


_SPENT_BEFORE = re.compile(r"(实际支出|已支出|累计支出|实际使用|支出数|执行数)(?:资金)?(?:为|了)?\s*$")
_BALANCE_BEFORE = re.compile(r"结余(?:资金)?(?:为)?\s*$")
_RECEIVED_BEFORE = re.compile(r"到位(?:资金)?(?:为)?\s*$")
_COMPLETED_BEFORE = re.compile(r"完成(?:预算)?(?:资金)?(?:为)?\s*$")
_BUDGET_BEFORE = re.compile(r"预算(?:数|资金)?(?:为)?\s*$")
_DIRECT_TOTAL_BEFORE = re.compile(r"获得\s*$")
_TOTAL_WORD = re.compile(r"(?:共|合计|总计)获得")
_ALLOC_WORD = re.compile(r"(?<!已)(?:安排|下达)")


def _clause_gap_ok(gap: str) -> bool:
    return not any(ch in _CLAUSE_STOP for ch in gap)


def _classify(flow: _Flow, amounts: list[_Amount]) -> None:
    """Name each amount by the words just before it (within its clause)."""
    previous_end = 0
    for amount in amounts:
        near = _left(flow, amount.start, 10)
        if _SPENT_BEFORE.search(near):
            amount.kind = "spent"
        elif _BALANCE_BEFORE.search(near):
            amount.kind = "balance"
        elif _RECEIVED_BEFORE.search(near):
            amount.kind = "received"
        elif _COMPLETED_BEFORE.search(near):
            amount.kind = "completed"
        elif _DIRECT_TOTAL_BEFORE.search(near):
            amount.kind = "total"
        elif _BUDGET_BEFORE.search(near):
            amount.kind = "budget"
        else:
            window_start = max(previous_end, amount.start - 50)
            window = flow.text[window_start : amount.start]
            total = _last(_TOTAL_WORD.finditer(window))
            alloc = _last(_ALLOC_WORD.finditer(window))
            if total is not None and _clause_gap_ok(window[total.end() :]):
                amount.kind = "total"
            elif alloc is not None and alloc.end() - alloc.start() and _clause_gap_ok(window[alloc.end() :]):
                amount.kind = "allocation"
        previous_end = amount.end


def _last(matches: Iterable[re.Match[str]]) -> re.Match[str] | None:
    found = None
    for m in matches:
        found = m
    return found


def _label_before(flow: _Flow, start: int, width: int = 40) -> str:
    """The words just before a figure, back to the previous punctuation."""
    chars: list[str] = []
    i = start - 1
    while i >= 0 and len(chars) < width and flow.text[i] not in _LABEL_STOP:
        chars.append(flow.text[i])
        i -= 1
    return "".join(reversed(chars)).strip()


# --- lists: 分配如下：… and 其中 N 万元用于 … ---------------------------------------------------


@dataclass
class _List:
    head: _Amount
    members: list[_Amount]


_DISTRIBUTED = re.compile(r"分配(?:情况)?如下[：:]")
_OF_WHICH = re.compile(r"其中[：:，,]?\s*")
_USED_FOR = re.compile(r"\s*用于")
_NEXT_USED = re.compile(r"\s*" + _NUM + r"\s*万元?\s*用于")


def _lists(flow: _Flow, amounts: list[_Amount]) -> list[_List]:
    found: list[_List] = []
    for m in _DISTRIBUTED.finditer(flow.text):
        before = [a for a in amounts if m.start() - 120 <= a.start < m.start() and a.kind not in ("spent", "balance")]
        end = _next_stop(flow.text, m.end(), "。：:")
        members = [a for a in amounts if m.end() <= a.start < end]
        if before and members:
            found.append(_List(before[-1], members))
    for m in _OF_WHICH.finditer(flow.text):
        first = _NEXT_USED.match(flow.text, m.end())
        if first is None:  # 其中 420万元（…）不纳入: a part named, not a list of uses
            continue
        members = []
        position = m.end()
        end = _next_stop(flow.text, position, "。")
        while True:
            for a in amounts:
                if position <= a.start < end and _USED_FOR.match(flow.text, a.end):
                    members.append(a)
            # the list goes on past a full stop when the next sentence is another "N 万元用于"
            if end < len(flow.text) and _NEXT_USED.match(flow.text, end + 1):
                position = end + 1
                end = _next_stop(flow.text, position, "。")
                continue
            break
        heads = [
            a
            for a in amounts
            if m.start() - 200 <= a.start < m.start() and a.kind not in ("spent", "balance") and not a.in_list
        ]
        if members and heads:
            found.append(_List(heads[-1], members))
        for a in members:
            a.in_list = True
    for lst in found:
        if lst.head.kind == "amount":
            lst.head.kind = "total"
        for a in lst.members:
            a.in_list = True
            if a.kind == "amount":
                a.kind = "share"
    return found


def _next_stop(text: str, start: int, stops: str) -> int:
    for i in range(start, len(text)):
        if text[i] in stops:
            return i
    return len(text)


# --- the checker -----------------------------------------------------------------------------


class _Builder:
    def __init__(self, flow: _Flow) -> None:
        self.flow = flow
        self.figures: dict[int, Figure] = {}  # by flow offset: one figure per place in the text

    def figure(self, start: int, kind: str, value: Decimal | None, written: str, label: str) -> Figure:
        existing = self.figures.get(start)
        if existing is not None:
            return existing
        fig = Figure(
            id=len(self.figures) + 1,
            kind=kind,
            value=value,
            written=written,
            label=label,
            line=self.flow.line(start),
            line_text=self.flow.line_text(start),
            start=start,
        )
        self.figures[start] = fig
        return fig

    def amount(self, a: _Amount) -> Figure:
        kind = a.kind if a.kind in MONEY_KINDS else "share"
        return self.figure(a.start, kind, a.value, a.written, a.label)


def _money(value: Decimal) -> str:
    return _plain(value) + "万元"


def _where(figures: Sequence[Figure]) -> str:
    return "、".join(f"第{n}行" for n in sorted({f.line for f in figures}))


def _sum_finding(code: str, declared: Figure, parts: Sequence[Figure], unit: str) -> Finding:
    assert declared.value is not None
    total = sum((p.value for p in parts if p.value is not None), Decimal(0))
    ok = total == declared.value
    terms = " + ".join(_plain(p.value) for p in parts if p.value is not None)
    what = REPORT_CHECK[code].label
    if ok:
        name = declared.label or declared.kind_label
        message = f"{what}：{terms} = {_plain(total)}{unit}，与{name} {declared.written} 相符"
    else:
        message = (
            f"{what}不符：第{declared.line}行的{declared.label or declared.kind_label} {declared.written}，"
            f"而{_where(parts)}的 {terms} = {_plain(total)}{unit}，相差 {_plain(declared.value - total)}{unit}"
        )
    return Finding(code, ok, declared, tuple(parts), total, message)


def check_report(text: str, settings: TemplateSettings = NATIONAL_2020) -> ReportCheck:
    """Extract the declared figures of a report's text and check their arithmetic."""
    flow, majors = _flow(text)
    build = _Builder(flow)
    findings: list[Finding] = []
    not_derivable: list[Figure] = []

    amounts = [
        _Amount(m.start(), m.end(), _decimal(m.group(1)), m.group(0).strip()) for m in _AMOUNT.finditer(flow.text)
    ]
    _classify(flow, amounts)
    for a in amounts:
        a.label = _label_before(flow, a.start, 16)
    lists = _lists(flow, amounts)

    # 1. the shares of a list against its head
    for lst in lists:
        head = build.amount(lst.head)
        parts = [build.amount(a) for a in lst.members]
        findings.append(_sum_finding("allocations", head, parts, "万元"))

    # 2. a total's allocations (until the next total or major heading) against it
    totals = [a for a in amounts if a.kind == "total" and not a.in_list]
    for i, total in enumerate(totals):
        end = totals[i + 1].start if i + 1 < len(totals) else len(flow.text)
        end = min([end, *[h for h in majors if h > total.start]])
        children = [a for a in amounts if total.end <= a.start < end and a.kind == "allocation" and not a.in_list]
        if len(children) >= 2:
            findings.append(
                _sum_finding("allocations", build.amount(total), [build.amount(a) for a in children], "万元")
            )

    # 3. within one sentence: spent + 结余 against the allocation, declared rates against the amounts
    rates = list(_RATE.finditer(flow.text))
    for sentence_start, sentence_end in _sentences(flow.text):
        inside = [a for a in amounts if sentence_start <= a.start < sentence_end]
        used: set[int] = set()
        spent = [a for a in inside if a.kind == "spent"]
        balance = [a for a in inside if a.kind == "balance"]
        if spent and balance:
            first = min(spent[0].start, balance[0].start)
            base = _last_of(inside, first, BASE_KINDS)
            if base is not None:
                findings.append(
                    _sum_finding(
                        "spent_balance", build.amount(base), [build.amount(spent[0]), build.amount(balance[0])], "万元"
                    )
                )
        for m in rates:
            if not sentence_start <= m.start() < sentence_end:
                continue
            word, root, number = m.group(1), m.group(2), m.group(3)
            rate = build.figure(m.start(3), "rate", _decimal(number), f"{number}%", word)
            numerator_kind = "received" if root == "到位" else "spent"
            numerator = next(
                (
                    a
                    for a in reversed(inside)
                    if a.start < m.start(3) and a.kind == numerator_kind and a.start not in used
                ),
                None,
            )
            base = _last_of(inside, numerator.start, BASE_KINDS) if numerator is not None else None
            if numerator is None or base is None or base.value == 0:
                not_derivable.append(rate)
                continue
            used.add(numerator.start)
            findings.append(_rate_finding(rate, build.amount(numerator), build.amount(base), number))

    # 4. scores: items against their category, categories against the total, the grade
    expected_grade = _scores(flow, build, findings, not_derivable, settings)

    # every named amount is listed, whether or not a check could use it
    for a in amounts:
        if a.kind in MONEY_KINDS:
            build.amount(a)
    figures = tuple(sorted(build.figures.values(), key=lambda f: f.start))
    renumbered = {f.start: i for i, f in enumerate(figures, 1)}

    def fix(f: Figure) -> Figure:
        return Figure(renumbered[f.start], f.kind, f.value, f.written, f.label, f.line, f.line_text, f.start)

    return ReportCheck(
        figures=tuple(fix(f) for f in figures),
        findings=tuple(
            Finding(x.code, x.ok, fix(x.declared), tuple(fix(p) for p in x.parts), x.computed, x.message)
            for x in sorted(findings, key=lambda x: x.declared.start)
        ),
        not_derivable=tuple(fix(f) for f in sorted(not_derivable, key=lambda f: f.start)),
        expected_grade=expected_grade,
        line_count=len(flow.lines),
    )


def _sentences(text: str) -> Iterable[tuple[int, int]]:
    start = 0
    for i, ch in enumerate(text):
        if ch in _SENTENCE_STOP:
            yield start, i + 1
            start = i + 1
    if start < len(text):
        yield start, len(text)


def _last_of(amounts: Sequence[_Amount], before: int, kinds: Sequence[str]) -> _Amount | None:
    found = None
    for a in amounts:
        if a.start < before and a.kind in kinds:
            found = a
    return found


def _rate_finding(rate: Figure, numerator: Figure, base: Figure, written: str) -> Finding:
    assert rate.value is not None and numerator.value is not None and base.value is not None
    exact = numerator.value / base.value * 100
    at_precision = exact.quantize(Decimal(1).scaleb(-_places(written)), rounding=ROUND_HALF_UP)
    shown = exact.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    difference = abs(rate.value - at_precision)
    ok = difference <= RATE_TOLERANCE_POINTS
    recomputed = f"{_plain(numerator.value)} ÷ {_plain(base.value)} = {_plain(shown)}%"
    if ok:
        message = f"{rate.label} {rate.written}：{recomputed}，按申报精度为 {_plain(at_precision)}%，相符"
    else:
        message = (
            f"{rate.label}不符：第{rate.line}行申报 {rate.written}，按{_where([numerator, base])}的金额重算为 "
            f"{recomputed}，按申报精度为 {_plain(at_precision)}%，相差 {_plain(difference)} 个百分点"
            f"（超过 {_plain(RATE_TOLERANCE_POINTS)}）"
        )
    return Finding("rate", ok, rate, (numerator, base), at_precision, message)


_CATEGORY_PREFIX = re.compile(r"(?:^|[。：:；;\s])\s*(?:\d{1,2}|[一二三四五六七八九十])\s*[、.．]\s*$")
_PART_LABEL = re.compile(r"(?:一项|该项|此项)$")


def _grade_pattern(settings: TemplateSettings) -> re.Pattern[str]:
    words = "|".join(re.escape(g) for g in sorted(grades(settings), key=len, reverse=True))
    return re.compile(
        r"(?:等级|级别|评级|评价结果|自评结果|评定为|评价为|结果为)\s*(?:为|是|：|:)?\s*[“\"「]?"
        rf"({words})(秀|好|等)?[”\"」]?"
    )


def _scores(
    flow: _Flow,
    build: _Builder,
    findings: list[Finding],
    not_derivable: list[Figure],
    settings: TemplateSettings,
) -> str | None:
    total: Figure | None = None
    categories: list[tuple[Figure, list[Figure]]] = []
    current: list[Figure] | None = None
    category_end = len(flow.text)
    for m in _SCORE.finditer(flow.text):
        verb, number = m.group(1), m.group(2)
        label = _label_before(flow, m.start())
        written = f"{number}分"
        value = _decimal(number)
        if current is not None and m.start() >= category_end:
            current = None
        if verb in _TOTAL_VERBS:
            fig = build.figure(m.start(2), "score_total", value, written, label + verb)
            if total is None:
                total = fig
            else:
                not_derivable.append(fig)
            continue
        if _PART_LABEL.search(label):
            not_derivable.append(build.figure(m.start(2), "score_part", value, written, label))
            continue
        label_start = m.start() - len(label)
        if _CATEGORY_PREFIX.search(_left(flow, label_start, 8)):
            fig = build.figure(m.start(2), "score_category", value, written, label)
            items: list[Figure] = []
            categories.append((fig, items))
            current = items
            category_end = next((h for h in flow.heading_starts if h > m.start()), len(flow.text))
            continue
        if current is not None:
            current.append(build.figure(m.start(2), "score_item", value, written, label))
        elif not categories:
            # written before the first category (the seed's per-处室 scores): their own evaluations
            not_derivable.append(build.figure(m.start(2), "score_separate", value, written, label))
        else:
            not_derivable.append(build.figure(m.start(2), "score", value, written, label))
    for category, items in categories:
        if items:
            findings.append(_sum_finding("item_scores", category, items, "分"))
    if total is not None and len(categories) >= 2:
        findings.append(_sum_finding("category_scores", total, [c for c, _ in categories], "分"))
    if total is None or total.value is None:
        return None
    expected = grade_for(settings, total.value)
    declared = _grade_pattern(settings).search(flow.text)
    if declared is not None:
        word = declared.group(1)
        fig = build.figure(declared.start(1), "grade", None, declared.group(1) + (declared.group(2) or ""), "等级")
        ok = word == expected
        message = (
            f"等级 {fig.written} 与总分 {total.written} 相符"
            if ok
            else f"等级不符：第{fig.line}行申报“{fig.written}”，第{total.line}行总分 {total.written} 应为“{expected}”"
        )
        findings.append(Finding("grade", ok, fig, (total,), expected, message))
    return expected
