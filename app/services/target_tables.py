"""A project's 绩效目标表 entries, one at a time: create, change and delete a project and its
indicators, checked, versioned and audited. The import stores its rows through the same
indicator columns (`indicator_columns`)."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import Session, select

from app.domain import evaluation as lifecycle
from app.domain.categories import LEVEL2_BY_SLUG, level2_from_text
from app.domain.evaluation import FIRST_STATUS, MAX_YEAR, MIN_YEAR
from app.domain.scoring import TemplateSettings
from app.domain.target_quality import QualityReport, QualitySettings, check_table, quality_settings
from app.domain.targets import TargetParse, parse_target
from app.models import Department, FiscalYear, Indicator, IndicatorResult, Project, SelfEvaluation, Unit
from app.security import Principal
from app.services import audit, scope
from app.services.errors import Conflict, FieldError, NotFound, PermissionDenied, Problems, ValidationFailed
from app.services.evaluations import collided, parse_money
from app.services.templates import current_template, settings_of, template_for
from app.sqltypes import page_limit, utcnow

TABLE = lifecycle.TARGET_TRANSITIONS
STALE = "这张绩效目标表已被他人或其他窗口修改，请重新读取后再改（您的修改未保存）"
# Project fields a person writes (the read API's names), with their Chinese labels for messages.
TEXT_FIELDS = {"name": ("项目名称", 500), "period_goal": ("实施周期目标", 20000), "annual_goal": ("年度目标", 20000)}
MONEY_FIELDS = {
    "initial_budget": "年初预算数",
    "budget": "全年预算数",
    "fiscal_funds": "本年财政拨款",
    "carried_over": "上年结转资金",
    "other_funds": "其他资金",
}
PROJECT_FIELDS = (*TEXT_FIELDS, *MONEY_FIELDS)
INDICATOR_FIELDS = ("level1", "level2", "name", "period_target", "annual_target", "weight", "position")
MAX_TARGET = 500


# --- the columns of one indicator row (shared with the import) ----------------------------


def target_columns(parse: TargetParse) -> dict[str, Any]:
    """The parsed fields of an annual target, as indicator columns."""
    data = parse.to_json()
    return {
        "target_kind": parse.kind,
        "target_op": parse.op,
        "target_value": data["value"],
        "target_value_max": data["value_max"],
        "target_unit": parse.unit,
        "target_unit_raw": parse.unit_raw,
        "target_unit_class": parse.unit_class,
        "target_deadline": parse.deadline,
        "target_direction": parse.direction,
        "target_confidence": parse.confidence,
        "target_warnings": list(parse.warnings),
    }


def indicator_warnings(
    period_target: str | None, annual_target: str | None, annual: TargetParse, period: TargetParse | None
) -> list[str]:
    """What an indicator row says about its values (low confidence, period and annual units that disagree)."""
    warnings: list[str] = []
    if annual.confidence == "low":
        warnings.append("年度指标值解析置信度低：" + "；".join(annual.warnings or ("请核对",)))
    if period is not None and annual.unit_class and period.unit_class and annual.unit_class != period.unit_class:
        warnings.append(f"实施周期指标值（{period_target}）与年度指标值（{annual_target}）的单位类别不一致")
    return warnings


def indicator_columns(
    *,
    year: int,
    level1: str,
    level2: str | None,
    level2_name: str | None,
    name: str,
    period_target: str | None,
    annual_target: str | None,
    weight: Decimal | None,
    position: int,
    parse=parse_target,
) -> dict[str, Any]:
    """Every stored column of one indicator row: the raw values, the annual target's parse, warnings."""
    annual = parse(annual_target or "", year=year)
    period = parse(period_target, year=year) if period_target else None
    return {
        "year": year,
        "position": position,
        "level1": level1,
        "level2": level2,
        "level2_code": LEVEL2_BY_SLUG[level2].code if level2 in LEVEL2_BY_SLUG else None,
        "level2_name": (level2_name or "")[:100] or None,
        "name": name[:1000],
        "period_target": period_target,
        "annual_target": annual_target,
        **target_columns(annual),
        "weight": weight,
        "warnings": indicator_warnings(period_target, annual_target, annual, period),
    }


# --- checking what a person sent -----------------------------------------------------------


def _fold(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def _level1(settings: TemplateSettings, value: Any, field: str, problems: Problems) -> str | None:
    """A category of the template in force, given by its slug, code or name ("output", "1", "产出指标")."""
    text = _fold(str(value or ""))
    if not text:
        problems.add(field, "一级指标必填")
        return None
    cats = [c for c in settings.structure.categories if c.scoring == "indicators"]
    for c in cats:
        names = {c.slug, c.code, c.name, c.short, f"{c.code}-{c.name}", f"{c.code}-{c.short}"}
        if text in names:
            return c.slug
    allowed = "、".join(f"{c.slug}（{c.name}）" for c in cats)
    problems.add(field, f"一级指标“{value}”不在评分模板的类别中：应为 {allowed}")
    return None


def _level2(
    settings: TemplateSettings, level1: str | None, value: Any, field: str, problems: Problems
) -> tuple[str | None, str | None]:
    """(slug, name as written) of a 二级指标 of `level1`, given by slug, code or name; empty is allowed."""
    text = str(value or "").strip()
    if not text:
        return None, None
    found = LEVEL2_BY_SLUG.get(text) or level2_from_text(text)
    category = settings.structure.category(level1) if level1 else None
    children = category.children if category else ()
    if found is None:
        for child in children:
            if _fold(text) in {child.slug, child.code, child.name}:
                found = child
    if found is None:
        problems.add(field, f"无法识别的二级指标“{text}”（应如 quantity、11 或“数量指标”）")
        return None, None
    if level1 is not None and found.level1 != level1:
        problems.add(field, f"二级指标“{found.name}”不属于一级指标 {level1}")
        return None, None
    return found.slug, found.name


def _weight(value: Any, field: str, problems: Problems) -> Decimal | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        problems.add(field, "分值应为数字，如 10 或 12.5")
        return None
    if not amount.is_finite() or amount < 0 or amount >= 1000:
        problems.add(field, "分值应在 0 到 1000 之间")
        return None
    if amount.as_tuple().exponent < -2:
        problems.add(field, "分值最多保留 2 位小数")
        return None
    return amount


def _text(value: Any, field: str, label: str, limit: int, problems: Problems, *, required: bool = False) -> str | None:
    text = None if value is None else str(value).strip()
    if not text:
        if required:
            problems.add(field, f"{label}必填")
        return None
    if len(text) > limit:
        problems.add(field, f"{label}不能超过 {limit} 个字符")
        return None
    return text


def _project_values(data: dict[str, Any], problems: Problems, *, prefix: str = "") -> dict[str, Any]:
    """The project fields present in `data`, checked (messages named by field)."""
    values: dict[str, Any] = {}
    for key, (label, limit) in TEXT_FIELDS.items():
        if key in data:
            values[key] = _text(data[key], prefix + key, label, limit, problems, required=key == "name")
    for key, label in MONEY_FIELDS.items():
        if key in data:
            values[key] = parse_money(data[key], prefix + key, label, problems)
    return values


def _indicator_input(
    settings: TemplateSettings, year: int, data: dict[str, Any], problems: Problems, *, prefix: str = ""
) -> dict[str, Any]:
    """Every column of an indicator from a complete input (level1, name, annual_target required)."""
    level1 = _level1(settings, data.get("level1"), prefix + "level1", problems)
    level2, level2_name = _level2(settings, level1, data.get("level2"), prefix + "level2", problems)
    name = _text(data.get("name"), prefix + "name", "三级指标名称", 1000, problems, required=True)
    annual = _text(
        data.get("annual_target"), prefix + "annual_target", "年度指标值", MAX_TARGET, problems, required=True
    )
    period = _text(data.get("period_target"), prefix + "period_target", "实施周期指标值", MAX_TARGET, problems)
    weight = _weight(data.get("weight"), prefix + "weight", problems)
    position = data.get("position")
    if level1 is None or name is None or annual is None:
        return {}
    return indicator_columns(
        year=year,
        level1=level1,
        level2=level2,
        level2_name=level2_name,
        name=name,
        period_target=period,
        annual_target=annual,
        weight=weight,
        position=position or 0,
    )


def _template(session: Session, year: int, unit: Unit | None):
    """The scoring template in force for the project's year and department (its categories check level1)."""
    department_id = unit.department_id if unit is not None else None
    return template_for(session=session, year=year, department_id=department_id)


# --- who may change what, and when ------------------------------------------------------------


def check_editable(principal: Principal, project: Project) -> None:
    """The table may be changed by this principal now; 403 by role or scope, 409 by status otherwise."""
    roles = lifecycle.roles_for("save", TABLE)
    if principal.role not in roles:
        who = "或".join(lifecycle.ROLE_LABELS[r] for r in roles)
        raise PermissionDenied(f"只有{who}可以修改绩效目标表")
    if lifecycle.may(principal, "save", project.target_status, table=TABLE):
        return
    if lifecycle.may(lifecycle.RoleOnly(principal.role), "save", project.target_status, table=TABLE):
        raise PermissionDenied("令牌的权限范围（scope）不允许此操作")
    raise Conflict(lifecycle.target_refusal("save", project.target_status))


def _editable_project(*, session: Session, principal: Principal, project_id: int, version: int | None) -> Project:
    roles = lifecycle.roles_for("save", TABLE)
    if principal.role not in roles:  # asked before the project is looked up: no existence leak
        check_editable(principal, Project(target_status=lifecycle.TARGET_FIRST_STATUS))
    project = scope.visible_project(session=session, principal=principal, project_id=project_id)
    check_editable(principal, project)
    if version is None or version != project.version:
        raise Conflict(STALE)
    return project


def _commit_versioned(session: Session, project: Project) -> None:
    """Commit only if nobody changed the table meanwhile: a compare-and-set on its version. A
    collision with another writer that the database reports (unique key, deadlock, SQLite's busy
    writer) is a 409 too, after the rollback — never a 500."""
    expected = project.version
    try:
        session.flush()
        updated = session.execute(
            sa.update(Project)
            .where(Project.id == project.id, Project.version == expected)
            .values(version=expected + 1, updated_at=utcnow())
            .execution_options(synchronize_session=False)
        ).rowcount
        if updated != 1:
            session.rollback()
            raise Conflict(STALE)
        session.commit()
    except sa.exc.DBAPIError as exc:
        _collided(session, exc, STALE)
        raise
    set_committed_value(project, "version", expected + 1)


def _collided(session: Session, exc: sa.exc.DBAPIError, message: str) -> None:
    """Raise Conflict (after the rollback) when the database reports a collision with another writer."""
    if collided(exc):
        session.rollback()
        raise Conflict(message) from exc


def lock_table(session: Session, project_id: int, message: str = STALE) -> None:
    """Hold the table's row until commit (PostgreSQL's row lock, SQLite's write lock) without
    changing it: what is read after this is not changed by another writer meanwhile."""
    table = Project.__table__
    try:
        session.connection().execute(sa.update(table).where(table.c.id == project_id).values(version=table.c.version))
    except sa.exc.DBAPIError as exc:
        _collided(session, exc, message)
        raise


def _record_change(
    session: Session, principal: Principal, action: str, entity_type: str, entity_id: int, before: dict, after: dict
) -> None:
    """An audit event with only the values that changed (none if nothing did)."""
    if after == before:
        return
    audit.record(
        session=session,
        actor=principal,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before={k: v for k, v in before.items() if after[k] != v},
        after={k: v for k, v in after.items() if before[k] != v},
    )


# --- audit snapshots --------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def project_state(project: Project) -> dict[str, Any]:
    return {
        "project_code": project.project_code,
        "year": project.year,
        "unit_id": project.unit_id,
        **{k: _plain(getattr(project, k)) for k in PROJECT_FIELDS},
        "target_status": project.target_status,
    }


def indicator_state(ind: Indicator) -> dict[str, Any]:
    return {"project_id": ind.project_id, **{k: _plain(getattr(ind, k)) for k in INDICATOR_FIELDS}}


# --- projects ----------------------------------------------------------------------------------


@dataclass
class ProjectInput:
    """A new project: where it belongs, its fields, and its indicators (each a dict of the API's fields)."""

    year: int
    unit_id: int | None
    project_code: str | None
    fields: dict[str, Any]
    indicators: list[dict[str, Any]]


def _unit_for(session: Session, principal: Principal, unit_id: int | None, problems: Problems) -> Unit | None:
    if principal.role == "unit":
        if unit_id is not None and unit_id != principal.unit_id:
            problems.add("unit_id", "单位账号只能为本单位新建项目")
            return None
        unit_id = principal.unit_id
    if unit_id is None:
        problems.add("unit_id", "请指定项目所属单位（unit_id）")
        return None
    unit = session.get(Unit, unit_id)
    if unit is None:
        problems.add("unit_id", f"单位 {unit_id} 不存在")
    return unit


def create_project(*, session: Session, principal: Principal, data: ProjectInput) -> Project:
    """A new project's 绩效目标表 as a draft (草稿), with its indicators and its (empty) self-evaluation."""
    check_editable(principal, Project(target_status=lifecycle.TARGET_FIRST_STATUS))
    problems = Problems()
    if not MIN_YEAR <= data.year <= MAX_YEAR:
        problems.add("year", f"年度应在 {MIN_YEAR}–{MAX_YEAR} 之间")
    unit = _unit_for(session, principal, data.unit_id, problems)
    values = _project_values({"name": None, **data.fields}, problems)
    template = _template(session, data.year, unit)
    settings = settings_of(template)
    rows = [
        _indicator_input(settings, data.year, item, problems, prefix=f"indicators[{n}].")
        for n, item in enumerate(data.indicators)
    ]
    code = _text(data.project_code, "project_code", "项目编码", 64, problems)
    if unit is not None and code is not None:
        taken = session.exec(
            select(Project.id).where(
                Project.year == data.year, Project.unit_id == unit.id, Project.project_code == code
            )
        ).first()
        if taken is not None:
            problems.add("project_code", f"本单位 {data.year} 年度已有项目编码为“{code}”的项目")
    problems.raise_if_any()
    from app.services.imports import generated_project_code

    generated = code is None
    if generated:
        same_name = session.exec(
            select(sa.func.count()).where(
                Project.year == data.year, Project.unit_id == unit.id, Project.name == values["name"]
            )
        ).one()
        code = generated_project_code(unit.name_key, data.year, values["name"], same_name + 1)
    _ensure_fiscal_year(session, data.year)
    position = (
        session.exec(
            select(sa.func.coalesce(sa.func.max(Project.position), 0)).where(
                Project.year == data.year, Project.unit_id == unit.id
            )
        ).one()
        + 1
    )
    project = Project(
        year=data.year,
        unit_id=unit.id,
        project_code=code,
        code_generated=generated,
        position=position,
        target_status=lifecycle.TARGET_FIRST_STATUS,
        source="在线填报",
        **values,
    )
    try:
        session.add(project)
        session.flush()
        for n, row in enumerate(rows, start=1):
            row["position"] = row["position"] or n
            session.add(Indicator(project_id=project.id, **row))
        session.add(
            SelfEvaluation(project_id=project.id, year=project.year, status=FIRST_STATUS, template_id=template.id)
        )
        _recheck(session, project)
        audit.record(
            session=session,
            actor=principal,
            action="project.create",
            entity_type="project",
            entity_id=project.id,
            after={**project_state(project), "indicators": len(rows)},
        )
        session.commit()
    except sa.exc.IntegrityError as exc:
        # Another request created the same project (year, unit, code) between our check and our
        # insert: the database's unique key says so. The client may read and retry: a 409.
        session.rollback()
        raise Conflict(
            f"本单位 {data.year} 年度已有项目编码为“{code}”的项目（可能是同时提交的另一请求），请重新读取"
        ) from exc
    return project


def _ensure_fiscal_year(session: Session, year: int) -> None:
    """The fiscal year row, created if missing without racing a concurrent creator (its key
    is the year: a second insert does nothing instead of failing)."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    session.execute(insert(FiscalYear).values(year=year, created_at=utcnow()).on_conflict_do_nothing())


def update_project(
    *, session: Session, principal: Principal, project_id: int, version: int | None, fields: dict[str, Any]
) -> Project:
    """Change the project fields given (PUT gives them all, PATCH some); bumps the table's version."""
    project = _editable_project(session=session, principal=principal, project_id=project_id, version=version)
    problems = Problems()
    values = _project_values(fields, problems)
    problems.raise_if_any()
    before = project_state(project)
    for key, value in values.items():
        setattr(project, key, value)
    session.add(project)
    _record_change(session, principal, "project.update", "project", project.id, before, project_state(project))
    _commit_versioned(session, project)
    return project


def delete_project(*, session: Session, principal: Principal, project_id: int, version: int | None) -> None:
    """Delete a draft table: the project, its indicators and its (unfilled) self-evaluation."""
    project = _editable_project(session=session, principal=principal, project_id=project_id, version=version)
    indicators = session.exec(select(Indicator).where(Indicator.project_id == project.id)).all()
    before = {**project_state(project), "indicators": [indicator_state(i) for i in indicators]}
    ids = [i.id for i in indicators]
    if ids:
        session.execute(sa.delete(IndicatorResult).where(IndicatorResult.indicator_id.in_(ids)))
        session.execute(sa.delete(Indicator).where(Indicator.id.in_(ids)))
    session.execute(sa.delete(SelfEvaluation).where(SelfEvaluation.project_id == project.id))
    gone = session.execute(sa.delete(Project).where(Project.id == project.id, Project.version == version)).rowcount
    if gone != 1:
        session.rollback()
        raise Conflict(STALE)
    audit.record(
        session=session,
        actor=principal,
        action="project.delete",
        entity_type="project",
        entity_id=project_id,
        before=before,
    )
    session.commit()


# --- indicators --------------------------------------------------------------------------------


def _indicator_and_project(
    *, session: Session, principal: Principal, indicator_id: int, version: int | None
) -> tuple[Indicator, Project]:
    ind = session.get(Indicator, indicator_id)
    if ind is None:
        raise NotFound("指标不存在或无权查看")
    try:
        project = _editable_project(session=session, principal=principal, project_id=ind.project_id, version=version)
    except NotFound:
        raise NotFound("指标不存在或无权查看") from None
    return ind, project


def add_indicator(
    *, session: Session, principal: Principal, project_id: int, version: int | None, data: dict[str, Any]
) -> Project:
    """A new indicator row at the end of the table (or at `position`)."""
    project = _editable_project(session=session, principal=principal, project_id=project_id, version=version)
    problems = Problems()
    settings = settings_of(_template(session, project.year, session.get(Unit, project.unit_id)))
    row = _indicator_input(settings, project.year, data, problems)
    problems.raise_if_any()
    if not row["position"]:
        last = session.exec(
            select(sa.func.coalesce(sa.func.max(Indicator.position), 0)).where(Indicator.project_id == project.id)
        ).one()
        row["position"] = last + 1
    ind = Indicator(project_id=project.id, **row)
    session.add(ind)
    session.flush()
    audit.record(
        session=session,
        actor=principal,
        action="indicator.create",
        entity_type="indicator",
        entity_id=ind.id,
        after=indicator_state(ind),
    )
    _recheck(session, project)
    _commit_versioned(session, project)
    return project


def update_indicator(
    *, session: Session, principal: Principal, indicator_id: int, version: int | None, fields: dict[str, Any]
) -> Project:
    """Change the indicator fields given (PUT gives them all, PATCH some); the target is parsed again."""
    ind, project = _indicator_and_project(
        session=session, principal=principal, indicator_id=indicator_id, version=version
    )
    merged = {k: getattr(ind, k) for k in INDICATOR_FIELDS}
    merged["level2"] = ind.level2
    merged.update(fields)
    problems = Problems()
    settings = settings_of(_template(session, project.year, session.get(Unit, project.unit_id)))
    row = _indicator_input(settings, project.year, merged, problems)
    problems.raise_if_any()
    if not row["position"]:
        row["position"] = ind.position
    before = indicator_state(ind)
    for key, value in row.items():
        setattr(ind, key, value)
    session.add(ind)
    _record_change(session, principal, "indicator.update", "indicator", ind.id, before, indicator_state(ind))
    _recheck(session, project)
    _commit_versioned(session, project)
    return project


def delete_indicator(*, session: Session, principal: Principal, indicator_id: int, version: int | None) -> Project:
    """Remove one indicator row (and any result typed against it)."""
    ind, project = _indicator_and_project(
        session=session, principal=principal, indicator_id=indicator_id, version=version
    )
    before = indicator_state(ind)
    session.execute(sa.delete(IndicatorResult).where(IndicatorResult.indicator_id == ind.id))
    session.delete(ind)
    audit.record(
        session=session,
        actor=principal,
        action="indicator.delete",
        entity_type="indicator",
        entity_id=indicator_id,
        before=before,
    )
    _recheck(session, project)
    _commit_versioned(session, project)
    return project


# --- quality ----------------------------------------------------------------------------------


def quality(
    *,
    session: Session,
    project: Project,
    rows: Sequence[Any] | None = None,
    department_id: int | None | bool = False,
    template_name: str | None = None,
) -> QualityReport:
    """The quality checks over a project's indicators, in table order (app/domain/target_quality.py).

    `rows`: the project's indicator rows already read by the caller, in table order (mappings with
    id, level1, level2, name, period_target, annual_target and the table's own 分值 as given_weight),
    so a page that shows them does not read them twice. Target texts are parsed through a cache:
    the same strings recur all over a year's tables, and a parse is immutable. `department_id`: the
    project's unit's department when the caller has read it already (None: the unit has none);
    `template_name`: the name of the template in force for them, when the caller has read it already
    (templates.name_in_force)."""
    if rows is None:
        indicators: Sequence[Any] = session.exec(
            select(Indicator).where(Indicator.project_id == project.id).order_by(Indicator.position, Indicator.id)
        ).all()
    else:
        indicators = _quality_rows(rows)
    if template_name is not None:
        template = current_template(session=session, name=template_name)
    else:
        if department_id is False:
            unit = session.get(Unit, project.unit_id)
            department_id = unit.department_id if unit is not None else None
        template = template_for(session=session, year=project.year, department_id=department_id)
    return check_rows(indicators, year=project.year, settings=settings_of(template))


def quality_of(rows: Sequence[Any], *, year: int, settings: TemplateSettings) -> QualityReport:
    """`quality` over indicator rows already read (the mappings `quality` takes as `rows`) by the rules
    already read: no statement. A report is immutable and depends on nothing else: the report of the
    same rows (their checked columns, each 分值 as written), year and rules is kept per process, so a
    project read again is not checked again."""
    checked = tuple(
        (
            r["id"],
            r["level1"],
            r["level2"],
            r["name"],
            r["period_target"],
            r["annual_target"],
            None if r["given_weight"] is None else str(r["given_weight"]),
        )
        for r in rows
    )
    key = (id(settings), year, checked)
    kept = _QUALITY.get(key)
    if kept is not None and kept[0] is settings:
        return kept[1]
    report = check_rows(_quality_rows(rows), year=year, settings=settings)
    if len(_QUALITY) >= 4096:
        _QUALITY.clear()
    _QUALITY[key] = (settings, report)  # the rules kept with the report: their id is not reused meanwhile
    return report


# quality_of's reports by (the rules' id, year, the rows' checked columns)
_QUALITY: dict[tuple, tuple[TemplateSettings, QualityReport]] = {}


def _quality_rows(rows: Sequence[Any]) -> list[SimpleNamespace]:
    return [
        SimpleNamespace(
            id=r["id"],
            level1=r["level1"],
            level2=r["level2"],
            name=r["name"],
            period_target=r["period_target"],
            annual_target=r["annual_target"],
            weight=r["given_weight"],
        )
        for r in rows
    ]


def check_rows(indicators: Sequence[Any], *, year: int, settings: TemplateSettings) -> QualityReport:
    return check_table(indicators, year=year, settings=_quality_settings(settings), parse=parse_cached)


def _quality_settings(settings: TemplateSettings) -> QualitySettings:
    """quality_settings of a template's rules, made once per rules object (both are immutable)."""
    kept = _QUALITY_SETTINGS.get(id(settings))
    if kept is None or kept[0] is not settings:
        kept = (settings, quality_settings(settings))
        if len(_QUALITY_SETTINGS) >= 256:
            _QUALITY_SETTINGS.clear()
        _QUALITY_SETTINGS[id(settings)] = kept  # the rules kept: their id is not reused meanwhile
    return kept[1]


_QUALITY_SETTINGS: dict[int, tuple[TemplateSettings, QualitySettings]] = {}


@lru_cache(maxsize=65536)
def parse_cached(text: str, year: int | None = None) -> TargetParse:
    return parse_target(text, year=year)


def quality_columns(report: QualityReport) -> dict[str, Any]:
    """The counts of a quality check as the project's columns (the dashboard sorts by them)."""
    return {
        "quality_errors": len(report.errors),
        "quality_warnings": len(report.issues) - len(report.errors),
        "quality_not_measurable": report.not_measurable,
        "quality_share": report.quantitative_share,
    }


def keep_quality(project: Project, report: QualityReport) -> None:
    """Keep the counts of a quality check on the project."""
    for key, value in quality_columns(report).items():
        setattr(project, key, value)


def _recheck(session: Session, project: Project) -> QualityReport:
    """After a change of the table's indicators (flushed): check again and keep the counts."""
    session.flush()
    report = quality(session=session, project=project)
    keep_quality(project, report)
    session.add(project)
    return report


def recheck_year(*, session: Session, year: int, only_unchecked: bool = True) -> int:
    """Check the tables of a year again (those stored before the counts were kept, or all); returns how many."""
    where = [Project.year == year]
    if only_unchecked:
        where.append(Project.quality_errors.is_(None))
    done = 0
    for project in session.exec(select(Project).where(*where).order_by(Project.id)).all():
        _recheck(session, project)
        done += 1
        if done % 500 == 0:
            session.commit()
    session.commit()
    return done


# --- the table's lifecycle: 申报, 审核通过, 批复, 退回 ------------------------------------------------


def act(
    *,
    session: Session,
    principal: Principal,
    project_id: int,
    action: str,
    version: int | None,
    opinion: str | None = None,
) -> Project:
    """One row of TARGET_TRANSITIONS: submit (申报, after the quality checks), approve or return."""
    roles = lifecycle.roles_for(action, TABLE)
    if principal.role not in roles:  # asked before the project is looked up: no existence leak
        who = "或".join(lifecycle.ROLE_LABELS[r] for r in roles) or "（无人）"
        raise PermissionDenied(f"只有{who}可以{lifecycle.TARGET_ACTION_VERBS.get(action, action)}绩效目标表")
    project = scope.visible_project(session=session, principal=principal, project_id=project_id)
    status = project.target_status
    row = lifecycle.transition(principal, action, status, table=TABLE)
    if row is None:
        if lifecycle.may(lifecycle.RoleOnly(principal.role), action, status, table=TABLE):
            raise PermissionDenied("令牌的权限范围（scope）不允许此操作")
        raise Conflict(lifecycle.target_refusal(action, status))
    if version is None or version != project.version:
        raise Conflict(STALE)
    opinion = (opinion or "").strip() or None
    if row.opinion_required and opinion is None:
        raise ValidationFailed("退回须写明意见", errors=[FieldError("opinion", "请写明退回的原因和修改要求")])
    after: dict[str, Any] = {"target_status": lifecycle.target_status(row, status)}
    if action == "submit":
        report = quality(session=session, project=project)
        if report.errors:
            raise ValidationFailed(
                "目标表未通过质量检查，请按提示修改后再申报",
                errors=[FieldError(i.field or "indicators", i.message, i.indicator_id) for i in report.errors],
            )
        after["quality"] = {"warnings": len(report.issues), "not_measurable": report.not_measurable}
        keep_quality(project, report)
    project.target_status = after["target_status"]
    session.add(project)
    audit.record(
        session=session,
        actor=principal,
        action=f"target_table.{action}",
        entity_type="project",
        entity_id=project.id,
        before={"target_status": status},
        after=after,
        note=opinion,
    )
    _commit_versioned(session, project)
    return project


# --- starting from last year's table --------------------------------------------------------------


def copy_table(*, session: Session, principal: Principal, source_id: int, year: int | None = None) -> Project:
    """A new draft for `year` (default: the year after the source's) with the source table's project
    code, name, goals and indicators; money is the new year's and is left empty."""
    source = scope.visible_project(session=session, principal=principal, project_id=source_id)
    year = year or source.year + 1
    if year == source.year:
        raise ValidationFailed("复制须选择另一个年度", errors=[FieldError("year", "请选择目标表的新年度")])
    indicators = session.exec(
        select(Indicator).where(Indicator.project_id == source.id).order_by(Indicator.position, Indicator.id)
    ).all()
    code = None if source.code_generated else source.project_code
    data = ProjectInput(
        year=year,
        unit_id=source.unit_id,
        project_code=code,
        fields={"name": source.name, "period_goal": source.period_goal, "annual_goal": source.annual_goal},
        indicators=[
            {
                "level1": ind.level1,
                "level2": ind.level2 or ind.level2_name,
                "name": ind.name,
                "period_target": ind.period_target,
                "annual_target": ind.annual_target,
                "weight": ind.weight,
                "position": n,
            }
            for n, ind in enumerate(indicators, start=1)
        ],
    )
    project = create_project(session=session, principal=principal, data=data)
    audit.record(
        session=session,
        actor=principal,
        action="project.copy",
        entity_type="project",
        entity_id=project.id,
        after={"copied_from": source.id, "year": year},
    )
    session.commit()
    return project


# --- lists: a unit's tables, and the reviewers' quality dashboard ---------------------------------


@dataclass(frozen=True)
class TableRow:
    """One 绩效目标表 in a list: the project, its unit and department, status and quality counts."""

    id: int
    year: int
    project_code: str
    name: str
    unit_name: str
    department_name: str | None
    target_status: str
    version: int
    indicators: int
    quality_errors: int | None
    quality_warnings: int | None
    quality_not_measurable: int | None
    quality_share: Decimal | None
    updated_at: Any


@dataclass(frozen=True)
class TablePage:
    rows: list[TableRow]
    next_cursor: str | None
    total: int


def _cursor_of(row: TableRow) -> str:
    return f"{-1 if row.quality_errors is None else row.quality_errors}.{row.quality_not_measurable or 0}.{row.id}"


def _parse_cursor(cursor: str | None) -> tuple[int, int, int] | None:
    if not cursor:
        return None
    try:
        errors, not_measurable, last = (int(p) for p in cursor.split("."))
    except ValueError:
        return None
    return errors, not_measurable, last


def list_tables(
    *,
    session: Session,
    principal: Principal,
    year: int,
    statuses: tuple[str, ...] = (),
    q: str | None = None,
    worst_first: bool = False,
    cursor: str | None = None,
    limit: int = 50,
) -> TablePage:
    """The 绩效目标表 of a year the caller may see; reviewers' dashboard lists the worst first
    (most quality errors, then most targets that cannot be measured). Keyset pages."""
    count = (
        select(sa.func.count(Indicator.id))
        .where(Indicator.project_id == Project.id)
        .correlate(Project)
        .scalar_subquery()
    )
    errors_key = sa.func.coalesce(Project.quality_errors, -1)
    nm_key = sa.func.coalesce(Project.quality_not_measurable, 0)
    where: list[sa.ColumnElement[bool]] = [Project.year == year, scope.unit_filter(principal, Project.unit_id)]
    if statuses:
        where.append(Project.target_status.in_(statuses))
    if q and q.strip():
        from app.services.queries import project_matches

        where.append(project_matches(q))
    total = session.exec(select(sa.func.count(Project.id)).where(*where)).one()
    after = _parse_cursor(cursor)
    if worst_first:
        order = (errors_key.desc(), nm_key.desc(), Project.id)
        if after is not None:
            e, n, last = after
            where.append(
                sa.or_(
                    errors_key < e,
                    sa.and_(errors_key == e, nm_key < n),
                    sa.and_(errors_key == e, nm_key == n, Project.id > last),
                )
            )
    else:
        order = (Project.id,)
        if after is not None:
            where.append(Project.id > after[2])
    stmt = (
        select(
            Project.id,
            Project.year,
            Project.project_code,
            Project.name,
            Unit.name.label("unit_name"),
            Department.name.label("department_name"),
            Project.target_status,
            Project.version,
            count.label("indicators"),
            Project.quality_errors,
            Project.quality_warnings,
            Project.quality_not_measurable,
            Project.quality_share,
            Project.updated_at,
        )
        .join(Unit, Unit.id == Project.unit_id)
        .outerjoin(Department, Department.id == Unit.department_id)
        .where(*where)
        .order_by(*order)
        .limit(page_limit(limit + 1))
    )
    rows = [TableRow(**r._mapping) for r in session.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    return TablePage(rows=rows, next_cursor=_cursor_of(rows[-1]) if more and rows else None, total=total)


# --- what the table's page shows ----------------------------------------------------------------


def check_row_of(*, session: Session, project_id: int, indicator_id: int) -> None:
    """The row belongs to the table in the address (who may see the table is checked by the caller's service call)."""
    ind = session.get(Indicator, indicator_id)
    if ind is None or ind.project_id != project_id:
        raise NotFound("指标不存在或无权查看")


def latest_year(*, session: Session, principal: Principal) -> int | None:
    """The latest year with a table the caller may see."""
    return session.exec(select(sa.func.max(Project.year)).where(scope.unit_filter(principal, Project.unit_id))).one()


@dataclass
class TableView:
    """One table on its page: the project, its rows in order, their parses, the checks, and what the
    viewer may do."""

    project: Project
    unit: Unit
    department: Department | None
    indicators: list[Indicator]
    report: QualityReport
    categories: list[Any]
    editable: bool
    actions: list[str]
    history: list[Any]
    adjustments: list[Any] = field(default_factory=list)  # (TargetAdjustment, requester), newest first
    may_request: bool = False  # 申请调整 is open to this viewer now

    @property
    def status(self) -> lifecycle.Status:
        return lifecycle.TARGET_STATUS[self.project.target_status]

    def issues_of(self, indicator_id: int | None) -> list[Any]:
        return [i for i in self.report.issues if i.indicator_id == indicator_id]

    def parse(self, ind: Indicator):
        return parse_target(ind.annual_target or "", year=self.project.year)


def _may_edit(principal: Principal, project: Project) -> bool:
    try:
        check_editable(principal, project)
    except (PermissionDenied, Conflict):
        return False
    return True


def _actions(principal: Principal, project: Project) -> list[str]:
    return [
        row.action
        for row in TABLE
        if row.action != "save" and lifecycle.may(principal, row.action, project.target_status, table=TABLE)
    ]


def page_view(*, session: Session, principal: Principal, project_id: int) -> TableView:
    """Everything the table's page shows (the caller must be able to see the project)."""
    from app.services import history

    project = scope.visible_project(session=session, principal=principal, project_id=project_id)
    unit = session.get(Unit, project.unit_id)
    department = session.get(Department, unit.department_id) if unit and unit.department_id else None
    indicators = list(
        session.exec(
            select(Indicator).where(Indicator.project_id == project.id).order_by(Indicator.position, Indicator.id)
        ).all()
    )
    report = quality(session=session, project=project)
    categories = [
        c for c in settings_of(_template(session, project.year, unit)).structure.categories if c.scoring == "indicators"
    ]
    from app.services import adjustments

    listed = adjustments.list_for(session=session, principal=principal, project_id=project.id)
    pending = any(a.status in lifecycle.ADJUSTMENT_PENDING for a, _ in listed)
    may_request = not pending and lifecycle.may(
        principal, "request", project.target_status, table=lifecycle.ADJUSTMENT_TRANSITIONS
    )
    return TableView(
        project=project,
        unit=unit,
        department=department,
        indicators=indicators,
        report=report,
        categories=categories,
        editable=_may_edit(principal, project),
        actions=_actions(principal, project),
        history=history.target_table_history(session, project.id),
        adjustments=listed,
        may_request=may_request,
    )
