"""Scoring templates and the template each year uses, through /api/v1.

Everyone signed in may read the rules (they are what every score is computed by); the finance
bureau and the administrator choose a year's (or a department's) template and store new versions,
as on the page /admin/scoring and with `jixiao scoring use` / `jixiao scoring set`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from app.api.routing import PrefixRouter
from app.api.scopes import requires
from app.auth import PrincipalDep
from app.db import SessionDep
from app.domain.evaluation import MAX_YEAR, MIN_YEAR
from app.services import templates
from app.services.scope import require_role

router = PrefixRouter(prefix="/api/v1", tags=["评分模板"])
MANAGERS = ("admin", "finance")
TemplateName = Annotated[
    str,
    Path(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9._-]+$",
        description="模板名，如 national-2020（财预〔2020〕10号）、guideline-2021（2021 指引）",
        examples=["national-2020"],
    ),
]
ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"description": "仅财政局或管理员可选定模板、保存新版本"},
    404: {"description": "模板或主管部门不存在（消息列出可用的模板）"},
    422: {"description": "设置无效，或该范围已有按其他模板建立的自评（同一年度不混用两套规则）"},
}


class TemplatePublic(BaseModel):
    """评分模板的一个版本：全部可配置的计分规则。"""

    name: str = Field(description="模板名")
    version: int = Field(description="版本号；自评记录其计分所用的版本")
    title: str = Field(description="全称")
    rule_name: str = Field(description="依据的文件，如 财预〔2020〕10号")
    item_scored: bool = Field(description="true：按项目逐项计分（专项资金的投入/过程/产出/效益），不能用于项目自评表")
    is_current: bool = Field(description="是否为现行版本")
    stored: bool = Field(description="false：内置模板尚未使用，首次使用时按这些设置存为第 1 版")
    created_at: datetime | None = Field(description="保存时间（UTC）")
    settings: dict[str, Any] = Field(
        description="全部设置；金额、分值、比例均为字符串形式的十进制数（从不用浮点数）",
        examples=[{"rounding_places": 2, "over_achievement_percent": "120", "category_weights": {"output": "50"}}],
    )


class ChoicePublic(BaseModel):
    """某年度（或某主管部门）新建自评所用的模板。"""

    year: int
    department: str | None = Field(description="主管部门名称；null 表示全年度")
    template: str = Field(description="模板名")
    rule_name: str = Field(description="依据的文件")
    chosen_by: str | None = Field(description="选定者")
    chosen_at: datetime | None = Field(description="首次选定时间（UTC）")


class ChoicesPublic(BaseModel):
    year: int | None = Field(description="查询的年度；不传为全部年度")
    in_force: str | None = Field(description="该年度全年适用的模板名（未选定即 national-2020）；不传年度为 null")
    choices: list[ChoicePublic]


class ChoiceUpdate(BaseModel):
    """选定一个年度（可限于一个主管部门）的评分模板。"""

    model_config = ConfigDict(extra="forbid")
    year: int = Field(ge=MIN_YEAR, le=MAX_YEAR, description="年度", examples=[2025])
    template: str = Field(min_length=1, max_length=64, description="模板名", examples=["guideline-2021"])
    department: str | None = Field(
        None, max_length=200, description="主管部门名称；不传则适用于全年度（已单独选定的部门除外）"
    )


class SettingsUpdate(BaseModel):
    """保存模板的新版本：只传要改的设置，其余沿用现行版本。已计分的自评保留原版本，直至有意重新计分。"""

    model_config = ConfigDict(extra="forbid")
    changes: dict[str, Any] = Field(
        min_length=1,
        description='要改的设置（键名同 settings）；数值请写成字符串，如 "120"',
        examples=[{"rounding_places": 0}],
    )


def _public(view: templates.TemplateView) -> TemplatePublic:
    return TemplatePublic(**view.__dict__)


def _choice(view: templates.ChoiceView) -> ChoicePublic:
    return ChoicePublic(**view.__dict__)


@router.get("/scoring-templates", response_model=list[TemplatePublic], summary="评分模板（现行版本）")
@requires("read")
def list_templates(principal: PrincipalDep, session: SessionDep) -> list[TemplatePublic]:
    """每个模板的现行版本及其全部设置：项目自评模板与专项资金模板。"""
    return [_public(v) for v in templates.catalog(session=session)]


@router.get(
    "/scoring-templates/{name}",
    response_model=list[TemplatePublic],
    summary="一个评分模板的全部版本",
    responses={404: ERRORS[404]},
)
@requires("read")
def template_versions(name: TemplateName, principal: PrincipalDep, session: SessionDep) -> list[TemplatePublic]:
    """该模板保存过的每个版本，新版本在前；自评的 template 字段（如 national-2020@2）指向其中之一。"""
    return [_public(v) for v in templates.versions(session=session, name=name)]


@router.post(
    "/scoring-templates/{name}/versions",
    response_model=TemplatePublic,
    status_code=201,
    summary="保存模板的新版本（财政局、管理员）",
    responses=ERRORS,
)
@requires("admin")
def new_template_version(
    name: TemplateName, body: SettingsUpdate, principal: PrincipalDep, session: SessionDep
) -> TemplatePublic:
    """以现行版本为底，改动所传的设置，存为新版本并成为现行版本；设置无效时 422 并说明。"""
    require_role(principal, *MANAGERS)
    row = templates.new_version(session=session, name=name, changes=body.changes, actor=principal)
    return _public(templates.versions(session=session, name=row.name)[0])


@router.get("/template-choices", response_model=ChoicesPublic, summary="各年度选定的评分模板")
@requires("read")
def list_choices(
    principal: PrincipalDep,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=MIN_YEAR, le=MAX_YEAR, description="年度；不传为全部年度")] = None,
) -> ChoicesPublic:
    """财政局按年度（可按主管部门）选定模板；未选定的年度用 national-2020。"""
    in_force = templates.template_name_for(session=session, year=year) if year is not None else None
    return ChoicesPublic(
        year=year, in_force=in_force, choices=[_choice(v) for v in templates.choice_views(session=session, year=year)]
    )


@router.put(
    "/template-choices",
    response_model=ChoicePublic,
    summary="选定年度（或主管部门）的评分模板（财政局、管理员）",
    responses=ERRORS,
)
@requires("admin")
def put_choice(body: ChoiceUpdate, principal: PrincipalDep, session: SessionDep) -> ChoicePublic:
    """该范围已有按其他模板建立的自评时拒绝（422）：同一年度的汇总不混用两套规则。请在导入该年度的表之前选定。"""
    require_role(principal, *MANAGERS)
    templates.choose(
        session=session, year=body.year, name=body.template.strip(), department=body.department, actor=principal
    )
    department = body.department.strip() if body.department and body.department.strip() else None
    return next(
        _choice(v) for v in templates.choice_views(session=session, year=body.year) if v.department == department
    )
