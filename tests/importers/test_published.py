"""The published-text reader on seed 003, on reshuffled/re-wrapped copies of it, and on small cases."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from app.importers.published import read_published
from tests.importers.seed003_projects import (
    BUREAU,
    CENTRE,
    SEED003_INDICATOR_COUNTS,
    SEED003_PROJECTS,
    STATION,
)

SEED = Path(__file__).resolve().parents[1] / "data" / "seed_003.txt"  # the published table, in the repo
SEED_TEXT = SEED.read_text(encoding="utf-8")
APP = Path(__file__).resolve().parents[2] / "app"
# Everything under app/: the reader must work on tables it has never seen, and the demo reads its
# names from the table itself.
READER_CODE = [
    p for p in APP.rglob("*") if p.is_file() and p.suffix in (".py", ".html", ".js", ".css") and "vendor" not in p.parts
]


@pytest.fixture(scope="module")
def seed():
    return read_published(SEED_TEXT, source=SEED.name)


# --- seed 003 --------------------------------------------------------------------------------


def test_seed_yields_3_units_34_projects_168_indicators(seed):
    assert seed.errors == []
    assert len(seed.projects) == 34
    assert sum(len(p.indicators) for p in seed.projects) == 168
    per_unit = Counter()
    indicators = Counter()
    for p in seed.projects:
        per_unit[p.unit_name] += 1
        indicators[p.unit_name] += len(p.indicators)
    assert per_unit == {BUREAU: 12, CENTRE: 8, STATION: 14}
    assert indicators == {BUREAU: 87, CENTRE: 32, STATION: 49}
    # the department comes from "部门名称：…"; its own projects sit in the unit named like it
    assert {p.department_name for p in seed.projects} == {BUREAU}


def test_seed_units_and_first_indicators_match_the_hand_table(seed):
    got = [(p.unit_name, p.indicators[0].name, len(p.indicators)) for p in seed.projects]
    want = [(u, first, n) for (u, _, first), n in zip(SEED003_PROJECTS, SEED003_INDICATOR_COUNTS, strict=False)]
    assert got == want


def test_seed_names_placed_right_and_none_guessed(seed):
    right = [p for p, (_, name, _) in zip(seed.projects, SEED003_PROJECTS, strict=False) if p.project_name == name]
    wrong = [
        (p.project_name, name)
        for p, (_, name, _) in zip(seed.projects, SEED003_PROJECTS, strict=False)
        if p.project_name != name and not p.name_generated
    ]
    assert len(right) >= 30
    assert wrong == []  # a name is either right or visibly generated, never a silent guess
    for p in seed.projects:
        if p.name_generated:
            assert p.project_name.startswith("未命名项目") and p.indicators[0].name in p.project_name
            assert any(w.code == "name_not_placed" for w in p.warnings)


def test_seed_goals_are_attached_and_joined(seed):
    first = seed.projects[0]
    assert first.annual_goal == (
        "通过支持发展第8.5代有机发光二极管显示器件生产项目，补贴推动项目产线建设，建成"
        "月产能超9万大片的OLED面板产线，带动投资、产值和就业，促进我市超高清视频及新型"
        "显示产业影响力进一步提高。"
    )
    by_name = {p.project_name: p for p in seed.projects}
    assert by_name["预备役年度维持性工作经费"].annual_goal.startswith("预备役总体绩效目标：通过开展预备役日常训练")
    # the tabs the extraction left after a goal are not part of it
    assert by_name["工业和信息化培训经费"].annual_goal.endswith("提高部门业务工作水平。")
    assert all(p.annual_goal for p in seed.projects)


def test_seed_values_are_raw_after_joining_broken_lines(seed):
    indicators = {(p.project_name, i.order): i for p in seed.projects for i in p.indicators}
    # broken inside "实施周期指标值" and inside a number; "。" instead of "；" after the name
    special = indicators[("中小企业发展专题", 4)]
    assert special.name == "带动培育省级及以上专精特新企业"
    assert (special.period_target, special.annual_target) == ("1,500家以上", "1,500家以上")
    assert (special.level1, special.level2) == ("outcome", "economic")
    # the trailing space of the 年度 value is kept exactly
    minutes = [i for i in indicators.values() if i.name == "无线电管理宣传累计播放公益广告时长"][0]
    assert (minutes.period_target, minutes.annual_target) == ("60分钟", "60分钟 ")
    review = indicators[("资金项目流程管理及工业和信息化项目资金评审工作经费", 1)]
    assert (review.period_target, review.annual_target) == ("85", "＞90%")
    assert review.place.row == 495 and review.place.file == SEED.name


def test_seed_warns_about_duplicate_project_names_in_one_unit(seed):
    duplicates = [w for w in seed.warnings if w.code == "duplicate_project_name"]
    assert len(duplicates) == 2
    assert all("购置经费" in w.message and STATION in w.message for w in duplicates)


def test_no_string_of_the_seed_appears_in_app():
    app_text = "\n".join(p.read_text(encoding="utf-8") for p in READER_CODE)
    seed_strings = {name for _, name, _ in SEED003_PROJECTS} | {BUREAU, CENTRE, STATION}
    seed_strings |= {first for _, _, first in SEED003_PROJECTS if len(first) >= 8}
    seed_strings |= {line.strip() for line in SEED_TEXT.splitlines() if len(line.strip()) >= 10}
    structural = {"绩效目标 绩效指标项目名称（资金使用单位）", "项目支出绩效目标表（含转移支付项目）"}
    leaked = sorted(s for s in seed_strings - structural if s in app_text)
    assert leaked == []


# --- reshuffled and re-wrapped copies ------------------------------------------------------------


def _packed(project) -> str:
    parts = []
    for i in project.indicators:
        parts.append(
            f"{i.order}、{i.level1_raw}；{i.level2_raw}；{i.name}；"
            f"实施周期指标值:{i.period_target}；年度指标值:{i.annual_target}。"
        )
    return "".join(parts)


def _width(s: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WFA" else 1 for c in s)


def _wrap(s: str, width: int) -> list[str]:
    lines, line = [], ""
    for c in s:
        if line and _width(line + c) > width:
            lines.append(line)
            line = ""
        line += c
    return lines + [line] if line else lines


def _chop(s: str, rng: random.Random, width: int) -> list[str]:
    """Break anywhere — inside keywords and numbers too."""
    out = []
    while s:
        n = rng.randint(width - 12, width)
        out.append(s[:n])
        s = s[n:]
    return out


def _build(
    seed_result, *, rng: random.Random, layout: str, name_width: int, goal_width: int, run_width: int
) -> tuple[str, list[tuple[str, str, str]]]:
    """A document in the published shape from the seed's blocks, units kept, projects shuffled."""
    by_unit: dict[str, list] = {}
    for project, (unit, name, _) in zip(seed_result.projects, SEED003_PROJECTS, strict=False):
        by_unit.setdefault(unit, []).append((name, project))
    lines: list[str] = [f"部门名称：{BUREAU}"]
    expected = []
    for n_unit, (unit, projects) in enumerate(by_unit.items()):
        if n_unit:
            lines.append("绩效目标 绩效指标项目名称（资金使用单位）")
        lines.append(unit)
        if n_unit == 0:
            lines.append("项目支出绩效目标表（含转移支付项目）")
        projects = projects[:]
        rng.shuffle(projects)
        expected += [(unit, name, p.indicators[0].name) for name, p in projects]

        def name_lines(name):
            wrapped = _wrap(name, name_width)
            return ["    " + wrapped[0], *wrapped[1:]]

        def block_lines(p):
            return _wrap(p.annual_goal, goal_width) + _chop(_packed(p), rng, run_width)

        k = 0
        while k < len(projects):
            name, p = projects[k]
            if layout == "before":
                lines += name_lines(name) + block_lines(p)
                k += 1
            elif layout == "after":
                lines += block_lines(p) + name_lines(name)
                k += 1
            else:  # "pairs": as the PDF prints two neighbouring rows X, Y
                if k + 1 < len(projects) and rng.random() < 0.8:
                    name_y, q = projects[k + 1]
                    lines += block_lines(p) + name_lines(name_y) + block_lines(q) + name_lines(name)
                    k += 2
                else:
                    lines += (
                        name_lines(name) + block_lines(p) if rng.random() < 0.5 else (block_lines(p) + name_lines(name))
                    )
                    k += 1
            if rng.random() < 0.15:  # a page break repeats the table header
                lines.append("绩效目标 绩效指标项目名称（资金使用单位）")
    separator = "\n\n" if rng.random() < 0.5 else "\n"
    return separator.join(lines) + "\n", expected


@pytest.mark.parametrize(
    "layout,seed_no,widths",
    [
        ("before", 1, (20, 34, 60)),
        ("after", 2, (24, 40, 45)),
        ("pairs", 3, (26, 38, 50)),
        ("pairs", 4, (18, 30, 70)),
        ("pairs", 5, (22, 44, 33)),
    ],
)
def test_reshuffled_and_rewrapped_copy(seed, layout, seed_no, widths):
    rng = random.Random(seed_no)
    text, expected = _build(
        seed, rng=rng, layout=layout, name_width=widths[0], goal_width=widths[1], run_width=widths[2]
    )
    result = read_published(text, source="copy.txt")
    assert result.errors == []
    assert len(result.projects) == 34
    assert sum(len(p.indicators) for p in result.projects) == 168
    got = [(p.unit_name, p.indicators[0].name) for p in result.projects]
    assert got == [(u, first) for u, _, first in expected]
    right = sum(p.project_name == name for p, (_, name, _) in zip(result.projects, expected, strict=False))
    wrong = [
        (p.project_name, name)
        for p, (_, name, _) in zip(result.projects, expected, strict=False)
        if p.project_name != name and not p.name_generated
    ]
    assert wrong == []
    assert right >= 30, [p.project_name for p in result.projects if p.name_generated]
    # the values survive any wrapping exactly
    values = sorted((i.period_target, i.annual_target) for p in result.projects for i in p.indicators)
    assert values == sorted((i.period_target, i.annual_target) for p in seed.projects for i in p.indicators)


# --- small documents ---------------------------------------------------------------------------------

RUN_A = "1、1-产出指标；11-数量指标；培训人数；实施周期指标值:≥100人；年度指标值:≥100人。"
RUN_B = "1、3-满意度指标；31-服务对象满意度；参训满意度；实施周期指标值:≥90%；年度指标值:≥90%。"


def test_names_in_order_are_placed_even_without_shared_words():
    text = "\n".join(
        [
            "部门名称：某某市某某局",
            "某某市某某局",
            "    甲项目",
            "通过开展甲工作，达到目标。",
            RUN_A,
            "    乙项目",
            "通过开展乙工作，达到目标。",
            RUN_B,
        ]
    )
    result = read_published(text, source="t.txt")
    assert [p.project_name for p in result.projects] == ["甲项目", "乙项目"]
    assert [p.unit_name for p in result.projects] == ["某某市某某局"] * 2
    assert not result.warnings


def test_name_that_cannot_be_placed_gets_a_generated_name_and_a_warning():
    # PDF order X-block, Y-name, Y-block, X-name: with no shared words either way round fits
    text = "\n".join(
        [
            "部门名称：某某市某某局",
            "通过开展甲工作，达到目标。",
            RUN_A,
            "    综合经费",
            "通过开展乙工作，达到目标。",
            RUN_B,
            "    运行经费",
        ]
    )
    result = read_published(text, source="t.txt")
    assert [p.name_generated for p in result.projects] == [True, True]
    assert result.projects[0].project_name == "未命名项目（第1个）：培训人数"
    warning = result.projects[0].warnings[0]
    assert warning.code == "name_not_placed" and warning.place.row == 3
    assert "综合经费" in warning.message and "运行经费" in warning.message
    # the department's own projects: unit named like the department
    assert result.projects[0].unit_name == "某某市某某局"


def test_shared_words_place_names_printed_out_of_order():
    text = "\n".join(
        [
            "部门名称：某某市某某局",
            "通过组织业务培训，提升能力。",
            RUN_A,
            "    满意度调查经费",
            "通过开展调查，了解服务对象满意度。",
            RUN_B,
            "    业务培训经费",
        ]
    )
    result = read_published(text, source="t.txt")
    assert [p.project_name for p in result.projects] == ["业务培训经费", "满意度调查经费"]


def test_line_breaks_inside_keywords_and_numbers():
    text = "单位名称：某某站\n    测试项目\n通过测试。\n1、1-产出指标；11-数\n量指标；面积；实施周期指\n标值:1,30\n0平方米；年度指标值:≥1\n2份。2\n、2-效益指标；22-社会效益；影响。实施周期指标值:提升；年度指标值:提升。\n"  # noqa: E501
    result = read_published(text, source="t.txt")
    assert result.errors == []
    (project,) = result.projects
    assert project.unit_name == "某某站" and project.project_name == "测试项目"
    a, b = project.indicators
    assert (a.level2, a.name, a.period_target, a.annual_target) == (
        "quantity",
        "面积",
        "1,300平方米",
        "≥12份",
    )
    assert (b.name, b.period_target) == ("影响", "提升")
    assert (a.place.row, b.place.row) == (4, 8)


def test_unknown_level1_is_an_error_with_its_line():
    text = "单位名称：某某站\n    测试项目\n通过测试。\n1、1-产出指标；11-数量指标；甲；实施周期指标值:1个；年度指标值:1个。2、9-其他指标；91-其他；乙；实施周期指标值:1个；年度指标值:1个。\n"  # noqa: E501
    result = read_published(text, source="t.txt")
    (error,) = result.errors
    assert error.code == "unknown_level1" and "9-其他指标" in error.message
    assert error.place.row == 4 and error.place.value.startswith("2、9-其他指标")


def test_level2_of_another_level1_is_a_warning():
    text = "单位名称：某某站\n    测试项目\n通过测试。\n1、2-效益指标；31-服务对象满意度；满意度；实施周期指标值:≥90%；年度指标值:≥90%。\n"  # noqa: E501
    result = read_published(text, source="t.txt")
    assert result.errors == []
    assert [w.code for w in result.warnings] == ["level2_mismatch"]
    assert result.projects[0].indicators[0].level2 == "service_satisfaction"


@pytest.mark.parametrize("text", ["", "   \n\n  ", "部门名称：某某局\n只有一段文字。\n"])
def test_empty_or_indicatorless_text_is_an_error(text):
    result = read_published(text, source="t.txt")
    assert result.errors and result.projects == []
    assert result.errors[0].code in {"empty_file", "no_indicators"}


def test_crlf_line_endings_read_the_same(seed):
    result = read_published(SEED_TEXT.replace("\n", "\r\n"), source="crlf.txt")
    assert [p.project_name for p in result.projects] == [p.project_name for p in seed.projects]
    assert [i.annual_target for p in result.projects for i in p.indicators] == [
        i.annual_target for p in seed.projects for i in p.indicators
    ]


def test_year_is_taken_from_a_title_that_states_it():
    text = "部门名称：某某局\n某某局2025年项目支出绩效目标表\n    甲项目\n通过甲。\n" + RUN_A
    result = read_published(text, source="t.txt")
    assert result.projects[0].year == 2025


def test_does_not_break_on_garbage():
    rng = random.Random(7)
    alphabet = "1、；。:年度指标值实施周期产出效益-0123456789\n    项目经费通过"
    for _ in range(200):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 300)))
        result = read_published(text, source="g.txt")
        assert isinstance(result.problems, list)
