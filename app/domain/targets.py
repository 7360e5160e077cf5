"""The language of target values (shared/domain.md §4): one string in, one structured parse out.

Pure: no I/O, no database. Used for 年度指标值 / 实施周期指标值 and for 实际完成值 alike.

How a value is read, in order:
1. normalise (whitespace and U+3000 dropped, NFKC, HTML tags dropped, 1,300 → 1300);
2. the whole text is one quantity ("≥95%", "不少于1,300亿元", "2-4家", "每家20万元", "3个工作日内办结",
   "≤2875元/个") → high confidence;
3. the whole text is one deadline ("2024年12月前", "第四季度", "2024-11-30");
4. the whole text is one quantity with a unit word outside the vocabulary ("192只", "≥50厘米", "2km"):
   the word is kept as the unit, class "other" (tried after deadlines, so "2024年底" stays a date);
5. a quantity or deadline inside a sentence, where exactly one is clearly the target → low confidence;
   a comparator a few words before its number counts ("不少于开展3次培训" → ≥ 3次);
6. anything else is qualitative (with a warning when it held numbers, or was not text at all).
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Literal

Kind = Literal["quantity", "qualitative", "deadline"]
Op = Literal[">=", ">", "<=", "<", "=", "~", "range"]
UnitClass = Literal["count", "area", "time", "money", "percent", "ratio", "other"]
Direction = Literal["higher", "lower"]
Confidence = Literal["high", "low"]

# ---------------------------------------------------------------------------------------
# The vocabulary, as data
# ---------------------------------------------------------------------------------------

# unit as written -> (unit as stored, class). Magnitudes (万/亿/…) are not units: "万元" is 万 + 元.
UNITS: dict[str, tuple[str, UnitClass]] = {
    **{
        u: (u, "count")
        for u in (
            "个 份 家 场 人 人次 批次 辆 期 班次 款 台 次 家次 户 例 台套 项 起 片 张 本 套 部 件 篇"
            " 条 所 座 名 间 处 宗 笔 批 组 种 轮 册 首 幅 门 栋 户次 份次 项次 期次 场次 车次 课时"
        ).split()
    },
    "平方米": ("平方米", "area"),
    "平米": ("平方米", "area"),
    "m2": ("平方米", "area"),  # ㎡ and m² after NFKC
    "平方公里": ("平方公里", "area"),
    "平方千米": ("平方公里", "area"),
    "亩": ("亩", "area"),
    "公顷": ("公顷", "area"),
    "分钟": ("分钟", "time"),
    "小时": ("小时", "time"),
    "秒": ("秒", "time"),
    "天": ("天", "time"),
    "日": ("天", "time"),
    "周": ("周", "time"),
    "个月": ("个月", "time"),
    "工作日": ("工作日", "time"),
    "个工作日": ("工作日", "time"),
    "元": ("元", "money"),
    "%": ("%", "percent"),
    "百分比": ("%", "percent"),
    "百分点": ("百分点", "percent"),
    "个百分点": ("百分点", "percent"),
    "倍": ("倍", "ratio"),
    **{u: (u, "other") for u in "吨 千克 公斤 米 公里 千米 千瓦 千瓦时 兆瓦 度 立方米".split()},
}

# "次/日", "元/亩", "元/生/年": a unit per period or per item is a rate unit, kept whole, class "other".
# A denominator is a known unit, one of these words, or any single character ("元/株").
RATE_DENOMINATORS = "日 天 周 月 年 次 人 小时 分钟 秒 户 家 个 台 辆 h".split()


# power of ten of each magnitude word
MAGNITUDES: dict[str, int] = {"万亿": 12, "千万": 7, "百万": 6, "亿": 8, "万": 4, "千": 3, "百": 2}

# Legal reading (民法典 第一千二百五十九条): 以上/以下/以内 include the number; 超过/不满 exclude it.
PREFIX_COMPARATORS: dict[str, Op] = {
    **dict.fromkeys(
        "≥ 不少于 不低于 不小于 至少 最少 达 达到 可达 可达到 大于等于 大于或等于 高于或等于".split(), ">="
    ),
    **dict.fromkeys("> 超 超过 大于 多于 高于".split(), ">"),
    **dict.fromkeys("≤ 不超过 不高于 不大于 不多于 至多 最多 控制在 小于等于 小于或等于 低于或等于".split(), "<="),
    **dict.fromkeys("< 少于 小于 低于 不满 不足".split(), "<"),
    **dict.fromkeys("= 为 等于".split(), "="),
}
SUFFIX_COMPARATORS: dict[str, Op] = {
    "及以上": ">=",
    "以上": ">=",
    "及以下": "<=",
    "以下": "<=",
    "以内": "<=",
    "之内": "<=",
    "内": "<=",  # a time limit: "5个工作日内", "2小时内到场" — lower is better
}
APPROX_PREFIXES = "约为 大约 约 接近 将近 近 ≈ ~".split()
APPROX_INFIXES = ("多", "余")  # 370多家, 百余例: between the number and its unit
APPROX_SUFFIXES = ("左右", "上下")
RANGE_SEPARATORS = "- ~ 〜 — – 至 到".split()

# 达 inside these verbs (下达, 到达, 送达, …) is not a comparator
VERBS_ENDING_BEFORE_DA = set("下到抵送传转直通表发")

# written forms of one comparator symbol, replaced before parsing
# ═ (U+2550, a box-drawing character) is printed for "=" on some Yunnan forms.
SYMBOL_SPELLINGS = {
    ">=": "≥",
    "<=": "≤",
    "≧": "≥",
    "≦": "≤",
    "⩾": "≥",
    "⩽": "≤",
    "=<": "≤",
    "=>": "≥",
    "═": "=",
}

# A comparator may stand a few words before its number ("至少全年开展2次培训"); only these
# unambiguous words count at a distance (达 and 为 do not: 下达, 认为).
DISTANT_COMPARATORS: dict[str, Op] = {
    **dict.fromkeys("不少于 不低于 不小于 至少 最少 达到 可达到 大于等于".split(), ">="),
    **dict.fromkeys("超过 多于 高于 大于".split(), ">"),
    **dict.fromkeys("不超过 不高于 不大于 不多于 至多 最多 控制在 小于等于".split(), "<="),
    **dict.fromkeys("少于 低于 小于 不足".split(), "<"),
}
DISTANT_GAP = 8  # characters of words allowed between such a comparator and its number

# Units that convert by a fixed factor within their class (to minutes, to square metres);
# any other two units of one class compare only when they are the same unit. Magnitudes
# (万/亿) are already applied to the value, so 万元 and 元 are both 元.
FIXED_FACTORS: dict[str, dict[str, Fraction]] = {
    "time": {
        "秒": Fraction(1, 60),
        "分钟": Fraction(1),
        "小时": Fraction(60),
        "天": Fraction(1440),
        "周": Fraction(10080),
    },
    "area": {"平方米": Fraction(1), "公顷": Fraction(10000), "平方公里": Fraction(1000000)},
}

# "百余例" → 100余例: a magnitude word standing alone for the number
BARE_MAGNITUDE_NUMBERS = {"十": "10", "百": "100", "千": "1000", "万": "10000"}

# chars stripped from both ends before matching the whole text
EDGE_PUNCTUATION = ",;:!?、。．"

DIRECTION_BY_OP: dict[str, Direction] = {
    ">=": "higher",
    ">": "higher",
    "=": "higher",
    "~": "higher",
    "range": "higher",
    "<=": "lower",
    "<": "lower",
}

# ---------------------------------------------------------------------------------------
# What a user reads (fixed sentences; tests compare them)
# ---------------------------------------------------------------------------------------

W_EMPTY = "指标值为空"
W_GARBAGE = "无法识别的指标值，已按定性指标处理"
W_EMBEDDED = "数值取自一段文字，请核对比较方式和数值"
W_UNCLEAR = "文字中含有数字，但无法确定哪一个是目标值，已按定性指标处理"
W_PER_ITEM = "“每…”是单项标准（按每一项计），不是总量"
W_PER_ITEM_LE = "未写比较词，单项标准默认按“不超过”（≤）理解"
# A rate of money ("元/亩"), or a bare per-item figure ("/株"), is a cost standard:
# without a comparator it is read as "at most" (shared/domain.md §4).
W_RATE_LE = "未写比较词，单价标准默认按“不超过”（≤）理解"
W_DISTANT = "比较词与数值之间隔有文字，请核对"
W_BEFORE = "“前”按截至{}（含当天）理解"
W_YEAR_ONLY = "只写了年份，截止日期按当年最后一天理解"
W_NO_YEAR = "未写年份，无法确定截止日期"
W_BAD_DATE = "日期无效，已按定性指标处理"
W_HTML = "已忽略文字中的HTML标签"
W_CONFLICT = "前后比较词不一致，已按前面的比较词理解"
W_RANGE_SWAPPED = "范围上下限写反了，已按从小到大理解"
W_RANGE_UNITS = "范围两端的单位不一致"
W_INTERNAL = "解析出错，已按定性指标处理"


@dataclass(frozen=True)
class TargetParse:
    raw: str
    kind: Kind
    op: Op | None = None
    value: Decimal | None = None  # magnitude (万/亿/…) applied; percent kept in points
    value_max: Decimal | None = None  # upper bound of a range
    unit: str | None = None  # normalised unit ("元" for "亿元", "%" for "百分比")
    unit_raw: str | None = None  # the unit as written ("亿元")
    unit_class: UnitClass | None = None
    deadline: date | None = None
    direction: Direction | None = None
    confidence: Confidence = "high"
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict:
        """The public shape, field names fixed (decimals as strings, dates ISO)."""
        return {
            "raw": self.raw,
            "kind": self.kind,
            "op": self.op,
            "value": _dec(self.value),
            "value_max": _dec(self.value_max),
            "unit": self.unit,
            "unit_raw": self.unit_raw,
            "unit_class": self.unit_class,
            "deadline": self.deadline.isoformat() if self.deadline else None,
            "direction": self.direction,
            "confidence": self.confidence,
            "warnings": list(self.warnings),
        }


def _dec(value: Decimal | None) -> str | None:
    """Plain decimal string, exact (no rounding to a context), no exponent, no trailing zeros."""
    if value is None:
        return None
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# ---------------------------------------------------------------------------------------
# Regular expressions built from the tables
# ---------------------------------------------------------------------------------------


def _alternation(words) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
_CJK_CHAR = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
# a word outside the vocabulary used as a unit: up to three characters that are not a
# comparator, an approximation or a time limit ("只", "厘米", "万粒"), or up to four letters ("km")
_NOT_IN_UNIT_WORD = "|".join(
    re.escape(w) for w in ("以", "及", "之", "内", "左右", "上下", "多", "余", "前", "后", "底", "末")
)
_MAGNITUDE = _alternation(MAGNITUDES)
# a magnitude word before it is a magnitude ("550万粒" is 550 × 10⁴ 粒), and a known unit
# is not the start of a longer word ("≥3台桩" is 3台 in a sentence)
_UNKNOWN_UNIT = (
    rf"(?:(?!{_MAGNITUDE}|{_alternation(UNITS)})(?:(?!{_NOT_IN_UNIT_WORD}){_CJK_CHAR}){{1,3}}|[A-Za-z]{{1,4}})"
)
_DENOMINATOR = rf"(?:{_alternation(set(UNITS) | set(RATE_DENOMINATORS))}|{_CJK_CHAR})"
_PER = rf"(?:/{_DENOMINATOR}){{1,2}}"  # "/亩", "/生/年"
_KNOWN_UNIT = rf"(?:(?:{_alternation(UNITS)})(?:{_PER})?|{_PER})"
_ANY_UNIT = rf"(?:{_KNOWN_UNIT}|{_UNKNOWN_UNIT}(?:{_PER})?)"


def _amount(i: int, unit: str) -> str:
    """A number with its magnitude and unit; units are tried first ("百分比", "千米" are units)."""
    return (
        rf"(?P<neg{i}>-)?(?P<num{i}>{_NUMBER})(?P<about{i}>{_alternation(APPROX_INFIXES)})?"
        rf"(?:(?P<unit{i}>{unit})|(?P<mag{i}>{_MAGNITUDE})(?P<munit{i}>{unit})?)?"
    )


def _quantity_pattern(unit: str, *, whole: bool) -> str:
    # in a whole text a short verb may follow a time limit ("2小时内到场"); not in a sentence
    tail = rf"(?P<tail>(?<=内){_CJK_CHAR}{{1,4}})?" if whole else ""
    return (
        rf"(?P<pre>{_alternation(PREFIX_COMPARATORS)})?(?P<apre>{_alternation(APPROX_PREFIXES)})?"
        rf"{_amount(1, unit)}(?:(?P<sep>{_alternation(RANGE_SEPARATORS)}){_amount(2, unit)})?"
        rf"(?P<apost>{_alternation(APPROX_SUFFIXES)})?(?P<post>{_alternation(SUFFIX_COMPARATORS)})?{tail}"
    )


_SCOPE = r"(?P<scope>每[^0-9≥≤<>=~\-]{1,6}?)?"
# the whole text is one quantity, optionally scoped per item ("每家20万元")
WHOLE_QUANTITY = re.compile(_SCOPE + _quantity_pattern(_KNOWN_UNIT, whole=True))
# the same with a unit word outside the vocabulary ("192只"); tried after deadlines
WHOLE_QUANTITY_ANY_UNIT = re.compile(_SCOPE + _quantity_pattern(_ANY_UNIT, whole=True))
QUANTITY_IN_TEXT = re.compile(_quantity_pattern(_KNOWN_UNIT, whole=False))
DISTANT_COMPARATOR = re.compile(
    rf"(?P<word>{_alternation(DISTANT_COMPARATORS)})(?:(?![0-9]){_CJK_CHAR}){{1,{DISTANT_GAP}}}$"
)

_BEFORE = r"(?P<before>之前|以前|前)?(?:完成|完工|办结|验收)?"
_YEAR = r"(?:(?P<y>[0-9]{4})年)"
DEADLINE_FORMS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile(pattern))
    for name, pattern in (
        ("day", rf"(?P<y>[0-9]{{4}})[-/.](?P<m>[0-9]{{1,2}})[-/.](?P<d>[0-9]{{1,2}})日?{_BEFORE}"),
        ("day", rf"{_YEAR}?(?P<m>[0-9]{{1,2}})月(?P<d>[0-9]{{1,2}})[日号]{_BEFORE}"),
        ("month", rf"(?P<y>[0-9]{{4}})[-/](?P<m>[0-9]{{1,2}}){_BEFORE}"),
        ("month", rf"{_YEAR}?(?P<m>[0-9]{{1,2}})月份?(?:底|末)?{_BEFORE}"),
        ("quarter", rf"{_YEAR}?第?(?P<q>[一二三四1-4])季度(?:末|底)?{_BEFORE}"),
        ("half", rf"{_YEAR}?(?P<h>上|下)半年(?:末|底)?{_BEFORE}"),
        ("year", rf"(?:{_YEAR}度?|年度?)(?:底|末|内){_BEFORE}"),
        ("year_only", rf"(?P<y>[0-9]{{4}})年度?{_BEFORE}"),
    )
)
PERIOD_WORDS = {
    "day": "当天",
    "month": "当月最后一天",
    "quarter": "该季度最后一天",
    "half": "该半年最后一天",
    "year": "当年最后一天",
    "year_only": "当年最后一天",
}
QUARTER_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "1": 1, "2": 2, "3": 3, "4": 4}

HTML_TAG = re.compile(r"<[A-Za-z!/][^<>]*>")
THOUSANDS = re.compile(r"(?<![0-9.])[0-9]{1,3}(?:,[0-9]{3})+(?![0-9])")
BARE_MAGNITUDE = re.compile(r"(?<![0-9])([十百千万])(?=[余多])")
# in a sentence these numbers are never the target: asides in brackets, products (7×24小时),
# years (2024年, 2024-2025年) and codes (GB/T18916)
BRACKETED = re.compile(r"\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】|〔[^〔〕]*〕")
NOT_TARGETS = re.compile(
    r"[0-9]+(?:\.[0-9]+)?(?:[*×xX][0-9]+(?:\.[0-9]+)?)+"
    r"|[0-9]{4}(?:[-~至到][0-9]{4})?年"
    r"|(?<![A-Za-z/\-._])[A-Za-z][A-Za-z/\-._]*[0-9][0-9A-Za-z.\-_/]*"  # from a run's start: linear
)
CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
MASK = "|"

# ---------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------


def parse_target(text: str, *, year: int | None = None) -> TargetParse:
    """Parse one target or actual value; never raises.

    `year` is the reference year for deadlines written without one ("12月底前", "第四季度");
    without it such a deadline gets deadline=None, confidence "low" and a warning.
    """
    raw = text if isinstance(text, str) else ("" if text is None else str(text))
    try:
        return _parse(raw, year)
    except Exception:  # the contract is "never raises": a bug must not break an import
        return TargetParse(raw=raw, kind="qualitative", confidence="low", warnings=(W_INTERNAL,))


def unit_class_of(unit: str | None) -> str | None:
    """Class of a unit as written or stored ("家" → count, "亿元" → money, "平米" → area)."""
    if not unit:
        return None
    text = _drop_whitespace(unicodedata.normalize("NFKC", unit))
    if not text:
        return None
    if text in UNITS:
        return UNITS[text][1]
    if "/" in text:
        return "other"
    for magnitude in sorted(MAGNITUDES, key=len, reverse=True):
        if text.startswith(magnitude):
            rest = text[len(magnitude) :]
            if not rest:
                return None  # a bare magnitude ("亿") is not a unit
            if rest in UNITS:
                return UNITS[rest][1]
    stored = {stored_unit: unit_class for stored_unit, unit_class in UNITS.values()}
    return stored.get(text, "other")


def conversion_factor(source: TargetParse, into: TargetParse) -> Fraction | None:
    """How many of `into`'s unit one of `source`'s unit is worth; None: they cannot be compared.

    One rule (shared/domain.md §4): units of one class compare after conversion where the
    factor is fixed (分钟/小时/天/周, 平方米/平米/公顷; 万/亿 are already in the value), any
    other two units only when they are the same unit. A quantity without a unit takes the
    other side's unit (factor 1). Counts are counts: 个 and 家 compare (factor 1).
    """
    if source.unit_class is None or into.unit_class is None:
        return Fraction(1)
    if source.unit_class != into.unit_class:
        return None
    if source.unit == into.unit or source.unit_class == "count":
        return Fraction(1)
    factors = FIXED_FACTORS.get(source.unit_class, {})
    if source.unit in factors and into.unit in factors:
        return factors[source.unit] / factors[into.unit]
    return None


def units_compatible(a: TargetParse, b: TargetParse) -> bool:
    """Whether two parses can be compared: same kind, and units that convert (see conversion_factor)."""
    if a.kind != b.kind:
        return False
    if a.kind != "quantity":
        return True
    return conversion_factor(a, b) is not None


def magnitude_of(parse: TargetParse) -> int:
    """The power of ten written before the unit ("万元" → 4, "亿" → 8, "元" → 0, "百分比" → 0)."""
    return magnitude_of_unit(parse.unit_raw or "")


def magnitude_of_unit(written: str) -> int:
    """`magnitude_of` for a unit as written (a stored parse's `unit_raw`)."""
    if written in UNITS:  # 千米, 百分比, 千克 are units, not magnitudes
        return 0
    for word in sorted(MAGNITUDES, key=len, reverse=True):
        if written.startswith(word):
            return MAGNITUDES[word]
    return 0


def with_target_unit(actual: TargetParse, target: TargetParse) -> TargetParse | None:
    """A bare number read in the target's unit and magnitude ("95" against "≤90万元" → 950000元).

    None when there is nothing to assume: the actual has a unit or magnitude of its own,
    is not a number, or the target has neither unit nor magnitude.
    """
    if actual.kind != "quantity" or actual.value is None or actual.unit_raw is not None:
        return None
    if target.kind != "quantity" or target.unit_raw is None:
        return None
    exponent = magnitude_of(target)
    return replace(
        actual,
        value=_shift(actual.value, exponent),
        value_max=_shift(actual.value_max, exponent) if actual.value_max is not None else None,
        unit=target.unit,
        unit_raw=target.unit_raw,
        unit_class=target.unit_class,
    )


# ---------------------------------------------------------------------------------------
# The steps
# ---------------------------------------------------------------------------------------


def _parse(raw: str, year: int | None) -> TargetParse:
    text, notes = _normalise(raw)
    if not text:
        empty = not _drop_whitespace(raw)
        return _qualitative(raw, "low", notes + [W_EMPTY if empty else W_GARBAGE])
    whole = WHOLE_QUANTITY.fullmatch(text)
    if whole:
        return _quantity(raw, whole, embedded=False, notes=notes, text=text)
    deadline = _whole_deadline(raw, text, year, notes)
    if deadline:
        return deadline
    whole = WHOLE_QUANTITY_ANY_UNIT.fullmatch(text)
    if whole:
        return _quantity(raw, whole, embedded=False, notes=notes, text=text)
    found = _quantity_in_text(text)
    if found is not None:
        if found == "unclear":
            return _qualitative(raw, "low", notes + [W_UNCLEAR])
        return _quantity(raw, found.match, embedded=True, notes=notes, text=text, distant_op=found.distant_op)
    deadline = _deadline_in_text(raw, text, year, notes)
    if deadline:
        return deadline
    if not CJK.search(text):
        return _qualitative(raw, "low", notes + [W_GARBAGE])
    if re.search(r"[0-9]", text):
        return _qualitative(raw, "low", notes + [W_UNCLEAR])
    return _qualitative(raw, "high", notes)


def _drop_whitespace(text: str) -> str:
    return "".join(ch for ch in text if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf"))


def _normalise(raw: str) -> tuple[str, list[str]]:
    """Whitespace (U+3000 too) dropped, NFKC, one spelling per comparator, no tags, 1,300 → 1300."""
    notes: list[str] = []
    text = _drop_whitespace(unicodedata.normalize("NFKC", _drop_whitespace(raw)))
    for spelling, symbol in SYMBOL_SPELLINGS.items():
        text = text.replace(spelling, symbol)
    if HTML_TAG.search(text):
        text = HTML_TAG.sub("", text)
        notes.append(W_HTML)
    text = THOUSANDS.sub(lambda m: m.group(0).replace(",", ""), text)
    text = BARE_MAGNITUDE.sub(lambda m: BARE_MAGNITUDE_NUMBERS[m.group(1)], text)
    text = text.lstrip(EDGE_PUNCTUATION).rstrip(EDGE_PUNCTUATION + ".")
    return text, notes


def _qualitative(raw: str, confidence: Confidence, warnings: list[str]) -> TargetParse:
    return TargetParse(raw=raw, kind="qualitative", confidence=confidence, warnings=tuple(dict.fromkeys(warnings)))


@dataclass(frozen=True)
class _Amount:
    value: Decimal
    unit: str | None
    unit_raw: str | None
    unit_class: UnitClass | None
    magnitude: int
    approximate: bool


def _read_amount(match: re.Match[str], i: int) -> _Amount | None:
    if match.group(f"num{i}") is None:
        return None
    unit_written = match.group(f"unit{i}") or match.group(f"munit{i}")
    magnitude_word = match.group(f"mag{i}") or ""
    exponent = MAGNITUDES.get(magnitude_word, 0)
    sign = "-" if match.group(f"neg{i}") else ""
    value = Decimal(f"{sign}{match.group(f'num{i}')}E{exponent}")  # exact, whatever the length
    unit, unit_class = _unit(unit_written)
    unit_raw = (magnitude_word + (unit_written or "")) or None
    return _Amount(value, unit, unit_raw, unit_class, exponent, bool(match.group(f"about{i}")))


def _shift(value: Decimal, exponent: int) -> Decimal:
    """value × 10**exponent, exactly (Decimal arithmetic would round to 28 digits)."""
    sign, digits, old = value.as_tuple()
    assert isinstance(old, int)  # a finite amount, never NaN or infinity
    return Decimal((sign, digits, old + exponent))


def _unit(written: str | None) -> tuple[str | None, UnitClass | None]:
    """(unit as stored, class): a rate unit is kept whole; a word outside the vocabulary is "other"."""
    if not written:
        return None, None
    base, per_sign, per = written.partition("/")
    stored, unit_class = UNITS.get(base, (base, "other"))
    if per_sign:
        return f"{stored}/{per}", "other"
    return stored, unit_class


def _op_of(match: re.Match[str]) -> tuple[Op | None, list[str]]:
    """The comparator written before and/or after the number (None: a bare number)."""
    pre = match.group("pre")
    if pre and pre.startswith(("达", "可达")) and _preceded_by_verb(match):
        pre = None  # 下达10个: a verb, not "at least"
    post = match.group("post")
    before = PREFIX_COMPARATORS.get(pre) if pre else None
    after = SUFFIX_COMPARATORS.get(post) if post else None
    if before and after and before != after and before != "=":
        return before, [W_CONFLICT]
    return (after if before in (None, "=") and after else before), []


def _preceded_by_verb(match: re.Match[str]) -> bool:
    start = match.start("pre")
    return start > 0 and match.string[start - 1] in VERBS_ENDING_BEFORE_DA


def _quantity(
    raw: str,
    match: re.Match[str],
    *,
    embedded: bool,
    notes: list[str],
    text: str,
    distant_op: Op | None = None,
) -> TargetParse:
    warnings = list(notes)
    first = _read_amount(match, 1)
    second = _read_amount(match, 2)
    assert first is not None  # the pattern requires the first amount
    op, conflict = _op_of(match)
    warnings += conflict
    if op is None and distant_op is not None:
        op = distant_op
        warnings.append(W_DISTANT)
    value, value_max = first.value, None
    unit, unit_raw, unit_class = first.unit, first.unit_raw, first.unit_class
    if second is not None:
        op = "range"
        if first.unit is None and first.magnitude == 0:  # "2-4万元": 万元 belongs to both ends
            value = _shift(first.value, second.magnitude)
        value_max = second.value
        if second.unit_raw:
            if first.unit_class and second.unit_class and first.unit_class != second.unit_class:
                warnings.append(W_RANGE_UNITS)
            unit, unit_raw, unit_class = second.unit, second.unit_raw, second.unit_class
        if value > value_max:
            value, value_max = value_max, value
            warnings.append(W_RANGE_SWAPPED)
    elif op is None or op == "=":
        approximate = match.group("apre") or match.group("apost") or first.approximate
        op = "~" if approximate else "="
    confidence: Confidence = "low" if embedded or conflict else "high"
    if embedded:
        warnings.append(W_EMBEDDED)
    per_item = text.startswith("每") and (embedded or match.groupdict().get("scope"))
    if per_item:
        warnings.append(W_PER_ITEM)
        if op == "=" and unit_class == "money":  # 每家20万元: a cost standard, at most
            op = "<="
            confidence = "low"
            warnings.append(W_PER_ITEM_LE)
    if op == "=" and unit and "/" in unit and unit.split("/")[0] in ("", "元"):
        op = "<="  # 1600元/亩, 28.40/株: a cost standard, at most
        warnings.append(W_RATE_LE)
    return TargetParse(
        raw=raw,
        kind="quantity",
        op=op,
        value=value,
        value_max=value_max,
        unit=unit,
        unit_raw=unit_raw,
        unit_class=unit_class,
        direction=DIRECTION_BY_OP[op],
        confidence=confidence,
        warnings=tuple(dict.fromkeys(warnings)),
    )


@dataclass(frozen=True)
class _Candidate:
    match: re.Match[str]
    op: Op | None
    unit_class: UnitClass | None
    strong: bool  # a comparator other than "=", an approximation or a range
    distant_op: Op | None = None  # a comparator a few words before the number


def _quantity_in_text(text: str) -> _Candidate | Literal["unclear"] | None:
    """The one quantity of a sentence that is clearly its target.

    Asides in brackets only count when nothing outside them does. The single candidate
    with a comparator wins unless another number of the same unit class competes with it;
    without comparators, a single number with a unit wins. More → "unclear"; none → None.
    """
    masked = NOT_TARGETS.sub(MASK, _mask_deadlines(text))
    outside = masked
    while BRACKETED.search(outside):
        outside = BRACKETED.sub(MASK, outside)
    for scope in (outside, masked):
        candidates = _candidates(scope)
        if candidates:
            return _choose(candidates)
    return None


def _candidates(text: str) -> list[_Candidate]:
    found = []
    for match in QUANTITY_IN_TEXT.finditer(text):
        op, _ = _op_of(match)
        has_unit = bool(
            match.group("unit1")
            or match.group("munit1")
            or match.group("mag1")
            or match.group("unit2")
            or match.group("munit2")
            or match.group("mag2")
        )
        ranged = match.group("sep") is not None
        approximate = bool(match.group("apre") or match.group("apost") or match.group("about1"))
        distant_op = None
        if op is None:
            before = DISTANT_COMPARATOR.search(text[: match.start()])
            distant_op = DISTANT_COMPARATORS[before.group("word")] if before else None
        explicit = op not in (None, "=") or distant_op is not None
        if not has_unit and not explicit:
            continue  # a unit-less number in a sentence (前10位, 近3年) is not a target
        _, unit_class = _unit(
            match.group("unit2") or match.group("munit2") or match.group("unit1") or match.group("munit1")
        )
        found.append(_Candidate(match, op, unit_class, explicit or ranged or approximate, distant_op))
    return found


def _choose(candidates: list[_Candidate]) -> _Candidate | Literal["unclear"]:
    strong = [c for c in candidates if c.strong]
    if len(strong) == 1:
        chosen = strong[0]
        rivals = [c for c in candidates if c is not chosen and c.unit_class == chosen.unit_class]
        return "unclear" if rivals else chosen
    if not strong and len(candidates) == 1:
        return candidates[0]
    return "unclear"


def _mask_deadlines(text: str) -> str:
    for _, pattern in DEADLINE_FORMS:
        text = pattern.sub(lambda m: MASK if m.group(0) else "", text)
    return text


def _whole_deadline(raw: str, text: str, year: int | None, notes: list[str]) -> TargetParse | None:
    for form, pattern in DEADLINE_FORMS:
        match = pattern.fullmatch(text)
        if match:
            return _deadline(raw, form, match, year, notes, embedded=False)
    return None


def _deadline_in_text(raw: str, text: str, year: int | None, notes: list[str]) -> TargetParse | None:
    for form, pattern in DEADLINE_FORMS:
        if form == "year_only":
            continue  # "2024年自主品牌汽车产值" names a year, not a deadline
        for match in pattern.finditer(text):
            if match.group(0):
                return _deadline(raw, form, match, year, notes, embedded=True)
    return None


def _deadline(
    raw: str, form: str, match: re.Match[str], year: int | None, notes: list[str], *, embedded: bool
) -> TargetParse:
    warnings = list(notes)
    groups = match.groupdict()
    written_year = int(groups["y"]) if groups.get("y") else year
    if match.group("before"):
        warnings.append(W_BEFORE.format(PERIOD_WORDS[form]))
    if form == "year_only" and not match.group("before"):
        warnings.append(W_YEAR_ONLY)
    confidence: Confidence = "low" if embedded else "high"
    if embedded:
        warnings.append(W_EMBEDDED)
    if written_year is None:
        try:
            _last_day(form, groups, 2000)  # leap year: only the date itself is checked
        except ValueError:
            return _qualitative(raw, "low", notes + [W_BAD_DATE])
        warnings.append(W_NO_YEAR)
        deadline = None
        confidence = "low"
    else:
        try:
            deadline = _last_day(form, groups, written_year)
        except ValueError:
            return _qualitative(raw, "low", notes + [W_BAD_DATE])
    return TargetParse(
        raw=raw,
        kind="deadline",
        op="<=",
        deadline=deadline,
        direction=DIRECTION_BY_OP["<="],
        confidence=confidence,
        warnings=tuple(dict.fromkeys(warnings)),
    )


def _last_day(form: str, groups: dict, year: int) -> date:
    """The last day the deadline allows ("前" = on or before the end of the period)."""
    if not 1 <= year <= 9999:
        raise ValueError(year)
    if form == "day":
        return date(year, int(groups["m"]), int(groups["d"]))
    if form == "month":
        month = int(groups["m"])
    elif form == "quarter":
        month = 3 * QUARTER_NUMBERS[groups["q"]]
    elif form == "half":
        month = 6 if groups["h"] == "上" else 12
    else:
        month = 12
    if not 1 <= month <= 12:
        raise ValueError(month)
    return date(year, month, calendar.monthrange(year, month)[1])


# ---------------------------------------------------------------------------------------
# Split columns: 指标性质 | 指标值 | 度量单位 printed in separate cells (Sichuan, Yunnan, Hunan)
# ---------------------------------------------------------------------------------------

# what the 指标性质 (or 指标值类型) cell may say, and the comparator it stands for; "" means
# none is written (定量, or an empty cell): the value is read as it stands
NATURE_WORDS: dict[str, str] = {
    **dict.fromkeys(("≥", "≧", ">=", "大于等于", "不低于", "不少于"), "≥"),
    **dict.fromkeys(("≤", "≦", "<=", "小于等于", "不高于", "不超过", "不多于"), "≤"),
    **dict.fromkeys((">", "大于", "高于"), ">"),
    **dict.fromkeys(("<", "小于", "低于"), "<"),
    **dict.fromkeys(("=", "═", "等于"), "="),
    **dict.fromkeys(("定量", "正向", "反向", ""), ""),
    "定性": "定性",
}


def combine_split(nature: str | None, value: str | None, unit: str | None) -> tuple[str | None, list[str]]:
    """The one target text that three split cells make, or the reasons they contradict each other.

    "≥" | "95" | "%" → "≥95%"; "定性" | "好" | "" → "好". Combined exactly: the cells are
    joined as written (a comparator the value already carries, or a unit it already ends
    with, is not repeated). A contradiction — 定性 with a bare number, a comparator with
    text, a comparator or unit different from the one in the value — is an error (Chinese,
    naming the cells), never guessed away.
    """
    raw_nature = (nature or "").strip()
    value_text = (value or "").strip()
    unit_text = (unit or "").strip()
    key = NATURE_WORDS.get(_drop_whitespace(unicodedata.normalize("NFKC", raw_nature)))
    if key is None:
        return None, [f"指标性质“{raw_nature}”无法识别：应为 ≥、≤、＞、＜、＝、定量 或 定性。"]
    if not value_text:
        return None, ["指标值为空。"] if raw_nature or unit_text else []
    own = parse_target(value_text)
    if key == "定性":
        if own.kind == "quantity" and own.confidence == "high":
            return None, [f"指标性质为“定性”，但指标值“{value_text}”是一个数值：请改为 ≥、≤、＝ 等，或填写文字。"]
        return value_text, []
    if parse_target(value_text + unit_text).kind != "quantity":
        if key:
            return None, [f"指标性质为“{raw_nature}”，但指标值“{value_text}”不是数值：请填写数值，或改为“定性”。"]
        return value_text, []
    carries_op = own.kind == "quantity" and own.op not in (None, "=", "~")  # "≥95" in the value cell
    problems = []
    if carries_op and key and _symbol(own.op) != key:
        problems.append(f"指标性质“{raw_nature}”与指标值“{value_text}”中的比较符不一致。")
    if own.kind == "quantity" and own.unit_raw:
        if unit_text and not own.unit_raw.endswith(unicodedata.normalize("NFKC", unit_text)):
            problems.append(f"度量单位“{unit_text}”与指标值“{value_text}”中的单位“{own.unit_raw}”不一致。")
        unit_text = ""  # the value already ends with its unit
    if problems:
        return None, problems
    written = "" if carries_op or not key else raw_nature  # kept as printed ("≧", "═", "大于")
    return f"{written}{value_text}{unit_text}", []


def _symbol(op: str | None) -> str:
    return {">=": "≥", "<=": "≤", ">": ">", "<": "<", "=": "="}.get(op or "", "")
