"""The target-value parser for API clients."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, Field

from app.api.routing import PrefixRouter
from app.api.scopes import requires
from app.auth import PrincipalDep
from app.domain.evaluation import MAX_YEAR, MIN_YEAR
from app.domain.targets import parse_target

router = PrefixRouter(prefix="/api/v1", tags=["targets"])


class TargetParsePublic(BaseModel):
    """指标值的解析结果（字段名固定）。"""

    raw: str = Field(description="原文，原样保留", examples=["不少于1,300亿元"])
    kind: str = Field(description="类型：quantity 数量 / qualitative 定性 / deadline 期限", examples=["quantity"])
    op: str | None = Field(description="比较方式：>= > <= < = ~（约）range（区间），定性为 null", examples=[">="])
    value: str | None = Field(description="数值（已乘以万、亿等量级；百分比为百分点）", examples=["130000000000"])
    value_max: str | None = Field(description="区间上限", examples=[None])
    unit: str | None = Field(description="计量单位（基本单位）", examples=["元"])
    unit_raw: str | None = Field(description="原文中的单位写法", examples=["亿元"])
    unit_class: str | None = Field(
        description="单位类别：count 计数 / area 面积 / time 时间 / money 金额 / percent 百分比 / ratio 倍数 / other",
        examples=["money"],
    )
    deadline: str | None = Field(description="期限日期（ISO 8601）", examples=[None])
    direction: str | None = Field(description="higher 越高越好 / lower 越低越好", examples=["higher"])
    confidence: str = Field(description="解析置信度：high / low（数字取自句子等）", examples=["high"])
    warnings: list[str] = Field(description="中文提示", examples=[[]])


@router.get("/targets/parse", response_model=TargetParsePublic, summary="解析一个指标值")
@requires("read")
def parse(
    _principal: PrincipalDep,
    text: Annotated[str, Query(max_length=10000, description="指标值原文，如“≥95%”")],
    year: Annotated[int | None, Query(ge=MIN_YEAR, le=MAX_YEAR, description="参考年度，用于“12月底前”等期限")] = None,
) -> dict:
    """Parse one target or actual value, exactly as the pages and the importer do."""
    return parse_target(text, year=year).to_json()
