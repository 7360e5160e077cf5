"""Scoring templates stored in the database, versioned: every evaluation records which one scored it."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import sqlalchemy as sa
from sqlmodel import Session, select

from app.domain.categories import Structure
from app.domain.funds import FUND_TEMPLATE_TITLES, FUND_TEMPLATES, is_item_scored
from app.domain.scoring import GUIDELINE_2021, NATIONAL_2020, TemplateSettings
from app.models import Department, Project, ScoringTemplate, SelfEvaluation, TemplateChoice, Unit
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


SHORT_TITLES = {DEFAULT_TEMPLATE: "财预〔2020〕10号", GUIDELINE_TEMPLATE: "2021 指引，财预〔2021〕101号"}


def short_title(name: str) -> str:
    """How a refusal names a template: "财预〔2020〕10号"."""
    return SHORT_TITLES.get(name, name)


def structures(*, session: Session) -> list[tuple[str, Structure]]:
    """The structure of every project template there is (the built-in ones first, stored or not).

    Item-scored templates (a special fund's 投入/过程/产出/效益) are not project templates: left out.
    """
    stored = {
        row.name: settings.structure
        for row in session.exec(select(ScoringTemplate).where(ScoringTemplate.is_current)).all()
        if not is_item_scored(settings := settings_of(row))
    }
    names = [*BUILT_IN, *sorted(n for n in stored if n not in BUILT_IN)]
    return [(n, stored[n] if n in stored else BUILT_IN[n].structure) for n in names]


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
    if name not in BUILT_IN and name not in FUND_TEMPLATES:
        raise NotFound(f"评分模板「{name}」不存在（可用：{'、'.join([*BUILT_IN, *FUND_TEMPLATES])}）")
    built_in = BUILT_IN.get(name) or FUND_TEMPLATES[name]
    title = TITLES.get(name) or FUND_TEMPLATE_TITLES[name]
    row = ScoringTemplate(name=name, version=1, title=title, settings=built_in.to_json())
    try:
        with session.begin_nested():  # a savepoint: a concurrent first use may create it too
            session.add(row)
    except sa.exc.IntegrityError:
        # the other request's version 1 is there (its commit released our wait on the key)
        return session.exec(
            select(ScoringTemplate).where(ScoringTemplate.name == name, ScoringTemplate.version == 1)
        ).one()
    return row


def settings_of(template: ScoringTemplate) -> TemplateSettings:
    """The template's rules, read once per stored settings (every save and page scores by them)."""
    return settings_from(template.settings)


def settings_from(stored: dict) -> TemplateSettings:
    """The rules of a template's stored settings (a read that selected them as a column), read once."""
    key = _settings_key(stored)
    settings = _SETTINGS.get(key)
    if settings is None:
        settings = TemplateSettings.from_json(stored)
        if len(_SETTINGS) >= 256:
            _SETTINGS.clear()
        _SETTINGS[key] = settings
    return settings


def _settings_key(stored: dict) -> bytes | str:
    """The stored settings' canonical JSON text: orjson with sorted keys (about a quarter of a
    millisecond less per project detail than the standard library's json), or json for what orjson
    refuses (an integer past 64 bits, a key that is not a string). One is bytes, the other str: a text
    of one never equals a text of the other."""
    try:
        return orjson.dumps(stored, option=orjson.OPT_SORT_KEYS, default=str)
    except TypeError:
        return json.dumps(stored, sort_keys=True, ensure_ascii=False, default=str)


# TemplateSettings by the JSON text they were read from (frozen; the same text, the same rules)
_SETTINGS: dict[bytes | str, TemplateSettings] = {}


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
    if changes.get("name", name) != name:
        raise ValidationFailed("评分模板设置无效：模板名不能通过设置修改")
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


# --- which template a year (optionally a department) uses ---------------------------------
# The bureau chooses; the file never does. A year without a choice uses national-2020.


def name_in_force(year: sa.ColumnElement[int], department_id: sa.ColumnElement[int]) -> sa.ColumnElement[str]:
    """The rule for which template is in force, as a column of a query that has the year and the
    department: the department's choice, else the year's, else the default. The rule's one home:
    `template_name_for` and `resolver` evaluate this expression, and a read that needs the name
    anyway selects it with its own row (saving a statement)."""
    chosen = lambda *where: select(TemplateChoice.template_name).where(TemplateChoice.year == year, *where)  # noqa: E731
    return sa.func.coalesce(
        chosen(TemplateChoice.department_id == department_id).scalar_subquery(),
        chosen(TemplateChoice.department_id.is_(None)).scalar_subquery(),
        DEFAULT_TEMPLATE,
    )


def template_name_for(*, session: Session, year: int, department_id: int | None = None) -> str:
    """The template name in force for a year and department (`name_in_force`, one statement)."""
    return session.exec(select(name_in_force(_int(year), _int(department_id)))).one()


def resolver(*, session: Session, year: int) -> Callable[[int | None], str]:
    """A lookup department_id -> template name for one year, for bulk paths: `name_in_force`
    evaluated for every department and for none, in one statement. A department that was not
    there then (an import may add one) has no choice of its own: it gets what "none" gets."""
    departments = select(Department.id, name_in_force(_int(year), Department.id))
    no_department = select(_int(None), name_in_force(_int(year), _int(None)))
    names = dict(session.exec(departments.union_all(no_department)).all())
    return lambda department_id: names.get(department_id, names[None])


def _int(value: int | None) -> sa.ColumnElement[int]:
    return sa.literal(value, sa.Integer)


def template_for(*, session: Session, year: int, department_id: int | None = None) -> ScoringTemplate:
    """The current version of the template in force for a year and department."""
    return current_template(
        session=session, name=template_name_for(session=session, year=year, department_id=department_id)
    )


def choices(*, session: Session, year: int | None = None) -> list[tuple[TemplateChoice, str | None]]:
    """The choices made (with the department's name), by year then department."""
    query = select(TemplateChoice, Department.name).join(Department, isouter=True)
    if year is not None:
        query = query.where(TemplateChoice.year == year)
    return list(session.exec(query.order_by(TemplateChoice.year, TemplateChoice.department_id)).all())


def department_names(*, session: Session) -> list[str]:
    """The departments a choice can be limited to, by name."""
    return list(session.exec(select(Department.name).order_by(Department.name)).all())


def choose(
    *, session: Session, year: int, name: str, department: str | None = None, actor: Any = "cli"
) -> TemplateChoice:
    """Record the template a year's (or one department's) new evaluations use.

    Refused when evaluations of that scope already exist under another template: one year's
    figures never mix rules.
    """
    chosen = current_template(session=session, name=name)  # an unknown name is refused, naming the ones there are
    if is_item_scored(settings_of(chosen)):
        raise ValidationFailed(f"评分模板 {name} 按项目逐项计分，用于专项资金自评，不能用于项目支出绩效自评表。")
    dept = None
    if department:
        dept = session.exec(select(Department).where(Department.name == department.strip())).first()
        if dept is None:
            raise NotFound(f"主管部门「{department}」不存在")
    existing = session.exec(
        select(TemplateChoice).where(
            TemplateChoice.year == year,
            TemplateChoice.department_id == dept.id if dept else TemplateChoice.department_id.is_(None),
        )
    ).first()
    # evaluations of the scope that would keep another template
    own_choice = {
        r.department_id
        for r in session.exec(select(TemplateChoice).where(TemplateChoice.year == year))
        if r.department_id is not None
    }
    query = (
        select(SelfEvaluation.id, ScoringTemplate.name, Unit.department_id)
        .join(ScoringTemplate, ScoringTemplate.id == SelfEvaluation.template_id)
        .join(Project, Project.id == SelfEvaluation.project_id)
        .join(Unit, Unit.id == Project.unit_id)
        .where(SelfEvaluation.year == year, ScoringTemplate.name != name)
    )
    if dept is not None:
        query = query.where(Unit.department_id == dept.id)
    others = [
        row
        for row in session.exec(query).all()
        # a year-wide choice leaves the departments with their own choice alone
        if dept is not None or row[2] not in own_choice
    ]
    scope = f"{year} 年度" + (f"“{dept.name}”" if dept else "")
    if others:
        used = "、".join(sorted({row[1] for row in others}))
        raise ValidationFailed(
            f"{scope}已有 {len(others)} 份自评按评分模板 {used} 建立，不能改用 {name}："
            "同一年度的汇总不混用两套规则。请在导入该年度的表之前选定模板。"
        )
    before = {"template": existing.template_name} if existing else None
    row = existing or TemplateChoice(year=year, department_id=dept.id if dept else None, template_name=name)
    row.template_name = name
    row.chosen_by = str(getattr(actor, "name", actor))[:200]
    session.add(row)
    session.flush()
    audit.record(
        session=session,
        actor=actor,
        action="template.choose",
        entity_type="template_choice",
        entity_id=row.id,
        before=before,
        after={"year": year, "department": dept.name if dept else None, "template": name},
    )
    session.commit()
    return row


# --- read-only views for /api/v1 (no row is created by reading) ---------------------------


@dataclass(frozen=True)
class TemplateView:
    """One version of a template as the API shows it; `stored` is false for a built-in template
    not used yet (it is stored as version 1 with these settings on first use)."""

    name: str
    version: int
    title: str
    rule_name: str
    item_scored: bool
    is_current: bool
    stored: bool
    created_at: datetime | None
    settings: dict[str, Any]


def _view(row: ScoringTemplate) -> TemplateView:
    return TemplateView(
        name=row.name,
        version=row.version,
        title=row.title,
        rule_name=short_title(row.name),
        item_scored=is_item_scored(settings_of(row)),
        is_current=row.is_current,
        stored=True,
        created_at=row.created_at,
        settings=settings_of(row).to_json(),
    )


def _built_in_view(name: str) -> TemplateView:
    settings = BUILT_IN.get(name) or FUND_TEMPLATES[name]
    return TemplateView(
        name=name,
        version=1,
        title=TITLES.get(name) or FUND_TEMPLATE_TITLES[name],
        rule_name=short_title(name),
        item_scored=is_item_scored(settings),
        is_current=True,
        stored=False,
        created_at=None,
        settings=settings.to_json(),
    )


def catalog(*, session: Session) -> list[TemplateView]:
    """The current version of every template there is: the stored ones and the built-in ones not used yet."""
    stored = {row.name: row for row in session.exec(select(ScoringTemplate).where(ScoringTemplate.is_current))}
    names = [*BUILT_IN, *FUND_TEMPLATES, *sorted(n for n in stored if n not in BUILT_IN and n not in FUND_TEMPLATES)]
    return [_view(stored[n]) if n in stored else _built_in_view(n) for n in names]


def versions(*, session: Session, name: str) -> list[TemplateView]:
    """Every stored version of one template, newest first (a built-in one not used yet: its defaults)."""
    rows = session.exec(
        select(ScoringTemplate).where(ScoringTemplate.name == name).order_by(ScoringTemplate.version.desc())
    ).all()
    if rows:
        return [_view(r) for r in rows]
    if name in BUILT_IN or name in FUND_TEMPLATES:
        return [_built_in_view(name)]
    raise NotFound(f"评分模板「{name}」不存在（可用：{'、'.join(v.name for v in catalog(session=session))}）")


@dataclass(frozen=True)
class ChoiceView:
    year: int
    department: str | None
    template: str
    rule_name: str
    chosen_by: str | None
    chosen_at: datetime | None


def choice_views(*, session: Session, year: int | None = None) -> list[ChoiceView]:
    return [
        ChoiceView(
            year=row.year,
            department=department,
            template=row.template_name,
            rule_name=short_title(row.template_name),
            chosen_by=row.chosen_by or None,
            chosen_at=row.chosen_at,
        )
        for row, department in choices(session=session, year=year)
    ]
