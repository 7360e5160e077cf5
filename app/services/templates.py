"""Scoring templates stored in the database, versioned: every evaluation records which one scored it."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, select

from app.domain.scoring import GUIDELINE_2021, NATIONAL_2020, TemplateSettings
from app.models import ScoringTemplate
from app.services import audit
from app.services.errors import NotFound, ValidationFailed

DEFAULT_TEMPLATE = "national-2020"
GUIDELINE_TEMPLATE = "guideline-2021"
# the templates jixiao ships: each is stored as version 1 with these settings on first use
BUILT_IN: dict[str, TemplateSettings] = {DEFAULT_TEMPLATE: NATIONAL_2020, GUIDELINE_TEMPLATE: GUIDELINE_2021}
TITLES = {
    DEFAULT_TEMPLATE: "项目支出绩效自评（财预〔2020〕10号）",
    GUIDELINE_TEMPLATE: "项目支出绩效自评（2021 指引，财预〔2021〕101号：成本指标为一级指标）",
}


def current_template(*, session: Session, name: str = DEFAULT_TEMPLATE) -> ScoringTemplate:
    """The current version of a template; a built-in one (national-2020, guideline-2021) is created
    as version 1 with its defaults on first use."""
    row = session.exec(
        select(ScoringTemplate)
        .where(ScoringTemplate.name == name, ScoringTemplate.is_current)
        .order_by(ScoringTemplate.version.desc())
    ).first()
    if row is not None:
        return row
    if name not in BUILT_IN:
        raise NotFound(f"评分模板「{name}」不存在（可用：{'、'.join(BUILT_IN)}）")
    row = ScoringTemplate(name=name, version=1, title=TITLES[name], settings=BUILT_IN[name].to_json())
    session.add(row)
    session.flush()
    return row


def settings_of(template: ScoringTemplate) -> TemplateSettings:
    return TemplateSettings.from_json(template.settings)


def current_settings(*, session: Session, name: str = DEFAULT_TEMPLATE) -> TemplateSettings:
    """The rules in force now: what pages about a whole year word their thresholds with."""
    return settings_of(current_template(session=session, name=name))


def label(template: ScoringTemplate) -> str:
    """How an evaluation names its template, e.g. "national-2020@1"."""
    return f"{template.name}@{template.version}"


def new_version(*, session: Session, name: str, changes: dict, actor: Any = "cli") -> ScoringTemplate:
    """Store a new version of a template with some settings changed; it becomes the current one.

    Evaluations already scored keep the version they were scored with until rescored on purpose.
    """
    current = current_template(session=session, name=name)
    merged = {**current.settings, **changes}
    try:
        TemplateSettings.from_json(merged)
    except ValueError as exc:
        raise ValidationFailed(f"评分模板设置无效：{exc}") from None
    current.is_current = False
    session.add(current)
    row = ScoringTemplate(name=name, version=current.version + 1, title=current.title, settings=merged)
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="template.version",
        entity_type="scoring_template",
        entity_id=row.id,
        before=current.settings,
        after=merged,
    )
    session.commit()
    return row
