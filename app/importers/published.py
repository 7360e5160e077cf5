"""Reader for the published 绩效目标表 as text (what a PDF extraction gives).

The document is a department's table: "部门名称：…", then per unit a header line and the
unit's name, then per project three cells — 项目名称 (indented), 绩效目标 (a paragraph) and
绩效指标, packed as

    1、1-产出指标；11-数量指标；NAME；实施周期指标值:X；年度指标值:Y。2、…

Nothing here knows any particular table: it keys off the structure only.

- Indicator blocks ("runs") start at a line beginning with "1、" whose first item carries
  "指标值"; line breaks inside a run are artefacts and are removed, so keywords and numbers
  split over lines are whole again. An item ends at "。" followed by the next number.
- The 绩效目标 paragraph is the text right before its run.
- Names are the indented lines. A name wrapped in its narrow column continues on the next
  line(s) when the previous line was full (its width plus the next character would overflow
  the name column, whose width is the widest indented line) and the next line is no wider
  than that column and does not end a sentence.
- Unit headers: "单位名称：X", or a line that looks like an organisation's name (no sentence
  punctuation, ends with 局/中心/站/…) right after a table header or the 部门名称 line.
  Projects seen before any unit header belong to the department's own unit (局本级), which
  is named exactly like the department ("部门名称：X" → unit "X").
- PDF extractions print names out of order: a name lands just before its block, just after
  it, or — for two neighbouring rows X, Y — as  X-block, Y-name, Y-block, X-name.  So a name
  may belong to the block after it, the block before it or the one before that. Inside each
  unit, names are matched to blocks by an optimal assignment (dynamic programming along the
  document) whose weights are the words a name shares with a block's goal and indicators
  (character bigrams weighted by rarity in the document). A name is placed only when every
  alternative assignment is clearly worse (by a margin) — because it shares rare words with
  its block or because the other names leave it no other block. Otherwise the project gets a
  generated name and a warning listing the candidate names: never a silent guess.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from app.domain.categories import level1_from_text, level2_from_text
from app.importers.published_rows import LAYOUT_NAME as ROW_LAYOUT_NAME
from app.importers.published_rows import has_row_layout, read_row_layout
from app.importers.rows import IndicatorRow, Place, Problem, ProjectRow, ReadResult

PACKED_LAYOUT_NAME = "逐条文字版式（“1、1-产出指标；11-数量指标；三级指标；实施周期指标值:…；年度指标值:…。”）"

PERIOD_KEY = "实施周期指标值"
ANNUAL_KEY = "年度指标值"
PACKED_COLUMN = "绩效指标"

# assignment weights: BASE rewards placing a name at all (it dominates), affinity is in [0, 1]
_BASE = 3.0
_PRIOR = {0: 0.02, 1: 0.01, 2: 0.0}  # name before its block > just after > two blocks after
MIN_MARGIN = 0.12  # an alternative assignment closer than this makes the placement uncertain

_SEP = re.compile(r"[；;]")
_ITEM_START = re.compile(r"\s*(\d+)\s*、")
_RUN_START = re.compile(r"^\s*1\s*、[^；;]{1,30}[；;]")
_DEPARTMENT = re.compile(r"^\s*(?:部门名称|主管部门)\s*[:：]\s*(\S.*?)\s*$")
_UNIT = re.compile(r"^\s*(?:单位名称|预算单位|资金使用单位|单位)\s*[:：]\s*(\S.*?)\s*$")
_ORG_SUFFIX = re.compile(
    r"(?:局|厅|委|委员会|办公室|办|中心|站|所|院|馆|队|校|园|会|处|署|社|台|公司|集团|部|室|科|段|场|团)"
    r"(?:[（(][^）)]{1,10}[）)])?$"
)
_SENTENCE_PUNCT = re.compile(r"[，。；;：:,、！？!?]")
_YEAR = re.compile(r"(20\d{2})\s*年")
_PAGE_NUMBER = re.compile(r"^\s*(?:第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?|[-—]\s*\d+\s*[-—]|\d+\s*/\s*\d+)\s*$")
# words of table headers and titles; a line made only of these (and brackets) is a header
_HEADER_WORDS = (
    "项目支出绩效目标表",
    "绩效目标表",
    "含转移支付项目",
    "项目名称",
    "资金使用单位",
    "预算单位",
    "绩效目标",
    "绩效指标",
    "单位名称",
    "主管部门",
    "序号",
    "备注",
    "金额",
    "单位：万元",
    "万元",
    "部门",
    "单位",
    "表",
)


# --- the packed indicator form (also used by the tabular reader's 绩效指标 column) ------------


def parse_packed(text: str, *, place: Callable[[int, str], Place]) -> tuple[list[IndicatorRow], list[Problem]]:
    """Parse "1、一级；二级；名称；实施周期指标值:X；年度指标值:Y。2、…" into indicator rows.

    `text` must already be joined (no line breaks inside); `place(offset, item_text)` gives
    the Place of the item starting at `offset`.
    """
    indicators: list[IndicatorRow] = []
    problems: list[Problem] = []
    items, tail = _split_items(text)
    if tail is not None:
        offset, rest = tail
        problems.append(
            Problem(
                "error",
                "packed_unreadable",
                "无法识别的绩效指标文字：应为“1、一级指标；二级指标；三级指标；实施周期指标值:…；年度指标值:…。”",
                place(offset, rest),
            )
        )
    expected = 1
    for number, offset, item_text, body in items:
        where = place(offset, item_text)
        if number != expected:
            problems.append(
                Problem(
                    "warning",
                    "numbering_gap",
                    f"指标编号不连续：应为 {expected}，实为 {number}。",
                    where,
                )
            )
        expected = number + 1
        row, item_problems = _parse_item(body, order=len(indicators) + 1, place=where)
        problems.extend(item_problems)
        if row is not None:
            indicators.append(row)
    return indicators, problems


def _split_items(text: str) -> tuple[list[tuple[int, int, str, str]], tuple[int, str] | None]:
    """Items as (number, offset, item text, body without "k、" and final "。"), plus an unreadable tail."""
    items: list[tuple[int, int, str, str]] = []
    pos = 0
    end_of_text = len(text.rstrip())
    while pos < end_of_text:
        m = _ITEM_START.match(text, pos)
        if not m:
            return items, (pos, text[pos:end_of_text])
        number = int(m.group(1))
        body_start = m.end()
        # the item ends at "。" + the next number; prefer a boundary after this item's 年度指标值
        boundaries = [b for b in re.finditer(rf"。\s*({number + 1})\s*、", text[body_start:end_of_text])]
        end = None
        for b in boundaries:
            if ANNUAL_KEY in text[body_start : body_start + b.start()]:
                end = body_start + b.start()
                break
        if end is None and boundaries:
            end = body_start + boundaries[0].start()
        if end is None:  # the last item: up to the final "。"
            end = end_of_text - 1 if text[end_of_text - 1] == "。" else end_of_text
            next_pos = end_of_text
        else:
            next_pos = end + 1
        start = m.start() + (len(m.group(0)) - len(m.group(0).lstrip()))
        items.append((number, start, text[start : end + 1].strip(), text[body_start:end]))
        pos = next_pos
    return items, None


def _parse_item(body: str, *, order: int, place: Place) -> tuple[IndicatorRow | None, list[Problem]]:
    problems: list[Problem] = []
    parts = _SEP.split(body, maxsplit=2)
    if len(parts) < 3 or any(k in parts[0] + parts[1] for k in (PERIOD_KEY, ANNUAL_KEY)):
        return None, [
            Problem(
                "error",
                "packed_unreadable",
                "绩效指标缺少一级指标或二级指标（应为“序号、一级指标；二级指标；三级指标；…”）。",
                place,
            )
        ]
    level1_raw, level2_raw, rest = parts[0].strip(), parts[1].strip(), parts[2]
    p = rest.find(PERIOD_KEY)
    a = rest.find(ANNUAL_KEY, p + len(PERIOD_KEY) if p >= 0 else 0)
    cut = p if p >= 0 else a if a >= 0 else len(rest)
    name = rest[:cut].strip()
    name = re.sub(r"[；;。.，,]$", "", name).strip()
    period = None
    if p >= 0:
        period = re.sub(r"^[:：]", "", rest[p + len(PERIOD_KEY) : a if a >= 0 else len(rest)])
        period = re.sub(r"[；;]$", "", period)
    annual = re.sub(r"^[:：]", "", rest[a + len(ANNUAL_KEY) :]) if a >= 0 else None
    if not name:
        problems.append(Problem("error", "missing_indicator_name", "三级指标（指标名称）为空，无法保存。", place))
        return None, problems
    if annual is None:
        problems.append(Problem("warning", "missing_annual_target", f"指标“{name}”缺少年度指标值。", place))
    row = _indicator(order, level1_raw, level2_raw, name, period, annual, None, place, problems)
    return row, problems


def _indicator(
    order,
    level1_raw,
    level2_raw,
    name,
    period,
    annual,
    weight,
    place,
    problems,
    *,
    level1_place: Place | Callable[[], Place] | None = None,
    level2_place: Place | Callable[[], Place] | None = None,
) -> IndicatorRow | None:
    """Build an IndicatorRow, checking the categories (shared by both readers). The places of the
    category cells may be given as callables: made only when a problem is reported there."""
    level1 = level1_from_text(level1_raw)
    if level1 is None:
        problems.append(
            Problem(
                "error",
                "unknown_level1",
                f"无法识别的一级指标“{level1_raw}”：应为产出指标、效益指标、满意度指标或成本指标（如“1-产出指标”）。",
                _made(level1_place) or place,
            )
        )
        return None
    level2 = level2_from_text(level2_raw)
    if level2 is None:
        problems.append(
            Problem(
                "warning",
                "unknown_level2",
                f"无法识别的二级指标“{level2_raw}”，已按原文保存。" if level2_raw else "二级指标为空。",
                _made(level2_place) or place,
            )
        )
    elif level2.level1 != level1.slug:
        problems.append(
            Problem(
                "warning",
                "level2_mismatch",
                f"二级指标“{level2_raw}”不属于一级指标“{level1_raw}”（应属于{_level1_name(level2.level1)}）。",
                _made(level2_place) or place,
            )
        )
    return IndicatorRow(
        order=order,
        level1=level1.slug,
        level1_raw=level1_raw,
        level2=level2.slug if level2 else None,
        level2_raw=level2_raw,
        name=name,
        period_target=period,
        annual_target=annual,
        weight=weight,
        place=place,
    )


def _made(place: Place | Callable[[], Place] | None) -> Place | None:
    return place() if callable(place) else place


def _level1_name(slug: str) -> str:
    from app.domain.categories import LEVEL1_BY_SLUG

    return LEVEL1_BY_SLUG[slug].name


# --- the document ------------------------------------------------------------------------


@dataclass
class _Name:
    text: str
    line: int
    gap: int  # number of the unit's blocks printed before this name
    last_width: int = 0


@dataclass
class _Block:
    line: int
    goal: str
    run: str
    indicators: list[IndicatorRow]


@dataclass
class _Unit:
    name: str | None
    line: int | None
    names: list[_Name] = field(default_factory=list)
    blocks: list[_Block] = field(default_factory=list)


def read_published(text: str, *, source: str) -> ReadResult:
    """Read a published 绩效目标表 (PDF text) into projects; see the module docstring."""
    result = ReadResult()
    problems = result.problems
    lines = [
        (no, raw.rstrip("\r\n"))
        for no, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1)
        if raw.strip()
    ]
    if not lines:
        problems.append(Problem("error", "empty_file", "文件为空，没有可导入的内容。", Place(source)))
        return result

    runs: dict[int, tuple[int, str, list[tuple[int, int]]]] = {}  # first line index → run
    i = 0
    while i < len(lines):
        if _is_run_start(lines, i):
            runs[i] = _consume_run(lines, i)
            i = runs[i][0]
        else:
            i += 1
    if not runs and has_row_layout([raw for _, raw in lines]):
        return read_row_layout(text, source=source)
    in_run = {k for start, (end, _, _) in runs.items() for k in range(start, end)}
    # the name column's width: the widest indented line outside the indicator blocks
    name_width = max(
        (
            _width(raw.strip())
            for k, (_, raw) in enumerate(lines)
            if k not in in_run and _indented(raw) and not _is_header(raw.strip())
        ),
        default=0,
    )
    department: str | None = None
    year: int | None = None
    units: list[_Unit] = []
    unit: _Unit | None = None
    pending_goal: list[tuple[int, str]] = []
    open_name: _Name | None = None
    after_header = True

    def current_unit() -> _Unit:
        nonlocal unit
        if unit is None:
            unit = _Unit(department, None)  # the department's own projects (局本级)
            units.append(unit)
        return unit

    def start_unit(name: str, line: int) -> None:
        nonlocal unit
        _flush_orphan_text(pending_goal, source, problems)
        pending_goal.clear()
        if unit is not None and unit.name == name:
            return  # the same unit repeated on a new page
        if unit is not None and unit.name is None and not unit.blocks and not unit.names:
            unit.name, unit.line = name, line
            return
        unit = _Unit(name, line)
        units.append(unit)

    i = 0
    while i < len(lines):
        no, raw = lines[i]
        s = raw.strip()
        if i in runs:
            j, run_text, offsets = runs[i]
            u = current_unit()
            block_problems: list[Problem] = []

            def place_of(offset: int, item: str, _offsets=offsets) -> Place:
                return Place(source, None, _line_at(_offsets, offset), PACKED_COLUMN, item)

            indicators, block_problems = parse_packed(run_text, place=place_of)
            problems.extend(block_problems)
            goal = "".join(t for _, t in pending_goal)
            u.blocks.append(_Block(no, goal, run_text, indicators))
            pending_goal.clear()
            open_name, after_header = None, False
            i = j
            continue
        i += 1
        if m := _DEPARTMENT.match(s):
            department = m.group(1)
            if unit is not None and unit.name is None:
                unit.name = department
            open_name, after_header = None, True
            continue
        if m := _UNIT.match(s):
            start_unit(m.group(1), no)
            open_name, after_header = None, False
            continue
        if _is_header(s):
            if "绩效目标表" in s and (y := _YEAR.search(s)):
                year = int(y.group(1))
            open_name, after_header = None, True
            continue
        indented = _indented(raw)
        if after_header and not indented and _looks_like_unit(s):
            start_unit(s, no)
            open_name, after_header = None, False
            continue
        after_header = False
        if indented:
            u = current_unit()
            open_name = _Name(s, no, len(u.blocks), _width(s))
            u.names.append(open_name)
        elif open_name is not None and _continues_name(open_name.last_width, s, name_width):
            open_name.text += s
            open_name.last_width = _width(s)
        else:
            open_name = None
            pending_goal.append((no, s))
    _flush_orphan_text(pending_goal, source, problems)

    blocks_all = [b for u in units for b in u.blocks]
    if not blocks_all:
        problems.append(
            Problem(
                "error",
                "no_indicators",
                f"文件中没有找到可识别的绩效指标。可导入的公开文本版式：① {PACKED_LAYOUT_NAME}；"
                f"② {ROW_LAYOUT_NAME}。其他版式请整理成导入模板（xlsx 或 csv）后导入。",
                Place(source),
            )
        )
        return result
    affinity = _Affinity([b.goal + b.run for b in blocks_all])
    for u in units:
        result.projects.extend(_unit_projects(u, department, year, source, affinity, problems))
    _warn_duplicate_names(result.projects, problems)
    return result


def _unit_projects(u: _Unit, department, year, source, affinity: _Affinity, problems) -> list[ProjectRow]:
    if u.name is None and u.blocks:
        problems.append(
            Problem(
                "error",
                "missing_unit",
                "无法确定这些项目所属的单位（文中没有“部门名称：”或单位名称）。",
                Place(source, None, u.blocks[0].line, "单位名称"),
            )
        )
    placed, unsure = _place_names(u, affinity)
    projects = []
    for k, block in enumerate(u.blocks):
        place = Place(source, None, block.line, "项目名称")
        project = ProjectRow(
            year=year,
            department_name=department,
            unit_name=u.name,
            unit_code=None,
            project_name="",
            project_code=None,
            budget=None,
            period_goal=None,
            annual_goal=block.goal or None,
            indicators=block.indicators,
            place=place,
        )
        if k in placed:
            name = u.names[placed[k]]
            project.project_name = name.text
            project.place = Place(source, None, name.line, "项目名称", name.text)
        else:
            first = block.indicators[0].name if block.indicators else ""
            project.project_name = f"未命名项目（第{k + 1}个）：{first}"
            project.name_generated = True
            candidates = "、".join(f"“{u.names[i].text}”" for i in unsure.get(k, []))
            hint = f"可能的名称：{candidates}。" if candidates else "文中没有可对应的名称。"
            warning = Problem(
                "warning",
                "name_not_placed",
                f"无法可靠地确定{u.name or ''}第{k + 1}个项目（首个指标“{first}”）的名称，"
                f"已生成名称“{project.project_name}”，请核对。{hint}",
                place,
            )
            project.warnings.append(warning)
            problems.append(warning)
        if not block.goal:
            w = Problem("warning", "missing_goal", f"项目“{project.project_name}”没有绩效目标。", place)
            project.warnings.append(w)
            problems.append(w)
        projects.append(project)
    used = set(placed.values())
    for i, name in enumerate(u.names):
        if i not in used and not any(i in c for c in unsure.values()):
            problems.append(
                Problem(
                    "warning",
                    "name_without_project",
                    f"项目名称“{name.text}”无法对应到任何绩效指标块，未导入。",
                    Place(source, None, name.line, "项目名称", name.text),
                )
            )
    return projects


def _warn_duplicate_names(projects: list[ProjectRow], problems: list[Problem]) -> None:
    counts = Counter((p.unit_name, p.project_name) for p in projects if not p.name_generated)
    for p in projects:
        n = counts.get((p.unit_name, p.project_name), 0)
        if n > 1:
            w = Problem(
                "warning",
                "duplicate_project_name",
                f"同一单位“{p.unit_name}”内项目名称“{p.project_name}”重复（共{n}个），请用项目编码区分。",
                p.place or Place(""),
            )
            p.warnings.append(w)
            problems.append(w)


def _flush_orphan_text(pending: list[tuple[int, str]], source: str, problems: list[Problem]) -> None:
    if pending:
        text = "".join(t for _, t in pending)
        problems.append(
            Problem(
                "warning",
                "orphan_text",
                f"这段文字不属于任何项目，未导入：“{text[:60]}”",
                Place(source, None, pending[0][0], None, text),
            )
        )


# --- lines -------------------------------------------------------------------------------


def _indented(raw: str) -> bool:
    return raw[:1] in (" ", "\t", "\u3000")


def _width(s: str) -> int:
    """Display width: CJK (and ambiguous, as CJK fonts print them) count 2."""
    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in s)


def _first_unit_width(s: str) -> int:
    m = re.match(r"[A-Za-z0-9]+", s)
    return len(m.group(0)) if m else _width(s[:1])


def _continues_name(prev_width: int, s: str, name_width: int) -> bool:
    """A wrapped name goes on when the previous line was full and this line fits the column."""
    return (
        name_width > 0
        and not s.endswith("。")
        and _width(s) <= name_width + 4
        and prev_width + _first_unit_width(s) > name_width
    )


def _is_header(s: str) -> bool:
    if _PAGE_NUMBER.match(s):
        return True
    if "绩效目标表" in s:
        return True
    rest = _YEAR.sub("", s)
    rest = re.sub(r"度", "", rest) if rest != s else rest
    for word in _HEADER_WORDS:
        rest = rest.replace(word, "")
    return not re.sub(r"[\s（）()\[\]【】：:/|]", "", rest) and s.strip() != ""


def _looks_like_unit(s: str) -> bool:
    return len(s) <= 40 and not _SENTENCE_PUNCT.search(s) and bool(_ORG_SUFFIX.search(s))


def _is_run_start(lines: list[tuple[int, str]], i: int) -> bool:
    head = "".join(raw for _, raw in lines[i : i + 4])
    return bool(_RUN_START.match(head)) and "指标值" in head[:400]


def _consume_run(lines: list[tuple[int, str]], i: int) -> tuple[int, str, list[tuple[int, int]]]:
    """Join the lines of one indicator block; returns (next line index, text, offset→line map)."""
    text = ""
    offsets: list[tuple[int, int]] = []
    j = i
    while j < len(lines):
        no, raw = lines[j]
        if j > i and _run_complete(text):
            k = _items_so_far(text) + 1
            peek = "".join(r for _, r in lines[j : j + 3]).lstrip()
            if not re.match(rf"{k}\s*、", peek):
                break
        elif j > i and (_DEPARTMENT.match(raw) or _is_header(raw.strip())):
            break  # an unfinished item at a header: the item parser reports it
        offsets.append((len(text), no))
        text += raw
        j += 1
    return j, text, offsets


def _run_complete(text: str) -> bool:
    t = text.rstrip()
    if not t.endswith("。"):
        return False
    starts = list(re.finditer(r"(?:^|。)\s*\d+\s*、", t))
    last = starts[-1].end() if starts else 0
    return ANNUAL_KEY in t[last:]


def _items_so_far(text: str) -> int:
    numbers = [int(m.group(1)) for m in re.finditer(r"(?:^|。)\s*(\d+)\s*、", text)]
    return max(numbers, default=0)


def _line_at(offsets: list[tuple[int, int]], offset: int) -> int:
    line = offsets[0][1]
    for start, no in offsets:
        if start > offset:
            break
        line = no
    return line


# --- placing names -------------------------------------------------------------------------


class _Affinity:
    """How much of a name's wording a block shares (rare character bigrams count more)."""

    def __init__(self, block_texts: list[str]):
        self.grams = [_bigrams(t) for t in block_texts]
        df: Counter[str] = Counter()
        for g in self.grams:
            df.update(g)
        n = len(block_texts)
        self.idf = {t: math.log(1 + n / c) for t, c in df.items()}

    def score(self, name: str, block_grams: set[str]) -> float:
        grams = [g for g in _bigrams(name) if g in self.idf]
        total = sum(self.idf[g] for g in grams)
        if not total:
            return 0.0
        return sum(self.idf[g] for g in grams if g in block_grams) / total


def _bigrams(s: str) -> set[str]:
    chars = [c for c in unicodedata.normalize("NFKC", s).lower() if c.isalnum()]
    return {a + b for a, b in zip(chars, chars[1:], strict=False)}


def _place_names(u: _Unit, affinity: _Affinity) -> tuple[dict[int, int], dict[int, list[int]]]:
    """Block index → name index for the names placed with confidence; block → candidate names otherwise."""
    n_blocks = len(u.blocks)
    gaps = [nm.gap for nm in u.names]
    block_grams = [_bigrams(b.goal + b.run) for b in u.blocks]
    weights: dict[tuple[int, int], float] = {}
    for i, nm in enumerate(u.names):
        for back in (0, 1, 2):
            j = nm.gap - back
            if 0 <= j < n_blocks:
                weights[(i, j)] = _BASE + affinity.score(nm.text, block_grams[j]) + _PRIOR[back]
    best, assignment = _best_matching(gaps, n_blocks, weights, frozenset())
    placed: dict[int, int] = {}
    unsure: dict[int, list[int]] = {}
    for i, j in assignment.items():
        alternative, _ = _best_matching(gaps, n_blocks, weights, frozenset({(i, j)}))
        if best - alternative >= MIN_MARGIN:
            placed[j] = i
    placed_names = set(placed.values())
    for i, j in weights:
        if j not in placed and i not in placed_names:
            unsure.setdefault(j, []).append(i)
    return placed, unsure


def _best_matching(
    gaps: list[int], n_blocks: int, weights: dict[tuple[int, int], float], forbidden: frozenset
) -> tuple[float, dict[int, int]]:
    """Maximum-weight matching of names (in document order) to nearby blocks, by DP.

    A name at gap g can take block g (after it), g-1 or g-2 (before it); gaps never decrease,
    so the state only needs the used blocks among the last three.
    """
    layers: list[dict[frozenset, tuple[float, frozenset | None, int | None]]] = []
    states: dict[frozenset, tuple[float, frozenset | None, int | None]] = {frozenset(): (0.0, None, None)}
    for i, g in enumerate(gaps):
        low = g - 2
        nxt: dict[frozenset, tuple[float, frozenset | None, int | None]] = {}
        for st, (score, _, _) in states.items():
            kept = frozenset(x for x in st if x >= low)
            options: list[tuple[frozenset, float, int | None]] = [(kept, score, None)]
            for j in (g, g - 1, g - 2):
                w = weights.get((i, j))
                if w is not None and (i, j) not in forbidden and j not in kept:
                    options.append((kept | {j}, score + w, j))
            for new_state, new_score, choice in options:
                if new_state not in nxt or new_score > nxt[new_state][0] + 1e-12:
                    nxt[new_state] = (new_score, st, choice)
        layers.append(nxt)
        states = nxt
    end_state = max(states, key=lambda s: states[s][0])
    best = states[end_state][0]
    assignment: dict[int, int] = {}
    st = end_state
    for i in range(len(gaps) - 1, -1, -1):
        _, prev, choice = layers[i][st]
        if choice is not None:
            assignment[i] = choice
        assert prev is not None  # every layer's states come from the layer before
        st = prev
    return best, assignment
