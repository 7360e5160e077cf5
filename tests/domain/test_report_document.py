"""The 自评报告's structure: the seed's sections, numbered as the seed numbers them."""

from __future__ import annotations

from app.domain.report_document import NARRATIVE_KEYS, SIGN_OFF, Table, build_document


def test_sections_are_numbered_as_in_the_seed_with_the_units_text_and_the_tables():
    table = Table("表1", ("a",), (("1",),))
    doc = build_document(
        title="t",
        subtitle="s",
        narratives={"basic": "第一段。\n\n第二段。", "improvements": "  "},
        tables={"scores": [table]},
        sign_off={"填表人": "张三"},
    )
    assert [s.heading for s in doc.sections] == [
        "一、基本情况",
        "二、自评情况",
        "（一）自评分数",
        "（二）使用绩效",
        "（三）存在的问题",
        "三、改进意见",
    ]
    by_key = {s.key: s for s in doc.sections}
    assert by_key["basic"].paragraphs == ("第一段。", "第二段。") and by_key["improvements"].paragraphs == ()
    assert by_key["scores"].tables == (table,)
    assert "self_evaluation" not in NARRATIVE_KEYS and set(SIGN_OFF) == {
        "填报单位（盖章）",
        "填表人",
        "联系电话",
        "日期",
    }
