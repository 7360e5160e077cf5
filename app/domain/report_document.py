"""The 自评报告 as a document: numbered sections, generated tables and the unit's narrative (pure).

One structure for every report (a project's and a 专项资金's): the seed's sections —
一、基本情况; 二、自评情况 (一)自评分数 (二)使用绩效 (三)存在的问题; 三、改进意见 — each holding
paragraphs the unit wrote (by section key) and tables generated from the evaluation's data, never
typed twice; and the sign-off every print carries (填报单位（盖章）, 填表人, 联系电话, 日期).
Writers (.docx, the HTML print view) walk this structure; they decide nothing about content.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

# (key, heading, level): level 1 一、…, level 2 （一）…; the keys name the unit's narrative fields
SECTIONS: tuple[tuple[str, str, int], ...] = (
    ("basic", "基本情况", 1),
    ("self_evaluation", "自评情况", 1),
    ("scores", "自评分数", 2),
    ("performance", "使用绩效", 2),
    ("problems", "存在的问题", 2),
    ("improvements", "改进意见", 1),
)
NARRATIVE_KEYS: tuple[str, ...] = tuple(key for key, _, _ in SECTIONS if key != "self_evaluation")
SIGN_OFF: tuple[str, ...] = ("填报单位（盖章）", "填表人", "联系电话", "日期")
CHINESE_NUMERALS = "一二三四五六七八九十"


@dataclass(frozen=True)
class Table:
    caption: str
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Section:
    key: str
    number: str  # 一、 / （一）
    title: str
    level: int
    paragraphs: tuple[str, ...] = ()
    tables: tuple[Table, ...] = ()

    @property
    def heading(self) -> str:
        return f"{self.number}{self.title}"


@dataclass(frozen=True)
class ReportDocument:
    title: str
    subtitle: str
    sections: tuple[Section, ...]
    sign_off: Mapping[str, str] = field(default_factory=dict)  # 填表人 → 张三; blank when not given
    # what travels with the report (两表一报告): the 自评表 of a project, the fund's 自评表 and 评分表
    attachments: tuple[Section, ...] = ()
    # each attachment printed as its own form carries the sign-off too (Guangdong: every print does)
    sign_attachments: bool = False


def numbered(level_counts: list[int], level: int) -> str:
    """一、 for a first-level heading, （一） for a second-level one, counting as the seed does."""
    if level == 1:
        level_counts[0] += 1
        level_counts[1] = 0
        return f"{CHINESE_NUMERALS[level_counts[0] - 1]}、"
    level_counts[1] += 1
    return f"（{CHINESE_NUMERALS[level_counts[1] - 1]}）"


def build_document(
    *,
    title: str,
    subtitle: str,
    narratives: Mapping[str, str],
    tables: Mapping[str, Sequence[Table]],
    sign_off: Mapping[str, str] | None = None,
    attachments: Sequence[tuple[str, Sequence[Table]]] = (),
    headings: Mapping[str, str] | None = None,
    sign_attachments: bool = False,
) -> ReportDocument:
    """The report's sections in the seed's order, numbered, with the unit's text and the generated tables.

    `headings` renames a section for the kind of report (a fund's （二）专项资金使用绩效); the order,
    numbering and keys stay the same for every report.
    """
    counts = [0, 0]
    sections = []
    for key, default, level in SECTIONS:
        heading = (headings or {}).get(key, default)
        text = (narratives.get(key) or "").strip()
        paragraphs = tuple(p.strip() for p in text.split("\n") if p.strip())
        sections.append(Section(key, numbered(counts, level), heading, level, paragraphs, tuple(tables.get(key, ()))))
    attached = tuple(
        Section(f"attachment{n}", f"附件{n}：" if len(attachments) > 1 else "附件：", name, 1, (), tuple(tbls))
        for n, (name, tbls) in enumerate(attachments, 1)
    )
    return ReportDocument(title, subtitle, tuple(sections), dict(sign_off or {}), attached, sign_attachments)


def money_text(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
