"""Importing 绩效目标表: one file, one transaction — it loads whole or not at all.

Readers (app.importers) turn files into plain rows; this service matches units and projects,
parses every target, and writes everything in bulk (no per-row round trips).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from app import timeouts
from app.domain.categories import LEVEL2_BY_SLUG, fit_problem
from app.domain.evaluation import FIRST_STATUS, TARGET_EDITING, TARGET_FIRST_STATUS, TARGET_IMPORTED_STATUS
from app.domain.scoring import TemplateSettings, given_points_note
from app.domain.target_quality import QualitySettings, check_table, quality_settings
from app.domain.targets import TargetParse, parse_target
from app.importers.rows import IndicatorRow, Place, Problem, ProjectRow, ReadLimits, ReadResult
from app.models import (
    Department,
    FiscalYear,
    Indicator,
    IndicatorResult,
    Project,
    ScoringTemplate,
    SelfEvaluation,
    Unit,
)
from app.services import audit, templates
from app.services.accounts import name_key
from app.services.target_tables import (  # noqa: F401 (target_columns: re-exported)
    indicator_columns,
    quality_columns,
    target_columns,
)
from app.services.templates import current_template, settings_of
from app.sqltypes import utcnow

# (rows done, rows total or None, phase): phase "read" while the file is read, "store" while it is written.
Progress = Callable[[int, int | None, str], None]
SUPPORTED = (".xlsx", ".csv", ".txt")
# Who may import tables (the routes, and the upload check before a file is received).
IMPORT_ROLES = ("admin", "finance")


@dataclass
class ImportReport:
    """What an import did (or would do, on a dry run), with every problem and its place."""

    file: str
    year: int | None
    dry_run: bool
    counts: Counter = field(default_factory=Counter)
    errors: list[dict] = field(default_factory=list)
    warnings: list[dict] = field(default_factory=list)
    removed_with_actuals: list[dict] = field(default_factory=list)
    committed: bool = False
    # warnings past MAX_WARNINGS, counted by code (see finish_warnings)
    untold: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> bool:
        return not self.errors

    def warn(self, warning: dict) -> None:
        if len(self.warnings) < MAX_WARNINGS:
            self.warnings.append(warning)
        else:
            self.untold[warning["code"]] += 1

    def finish_warnings(self) -> None:
        """One last warning that says how many more there were, of which kinds."""
        if self.untold:
            kinds = "、".join(f"{code} {n:,} 条" for code, n in self.untold.most_common())
            message = f"另有 {sum(self.untold.values()):,} 条警告未逐条列出（{kinds}）。"
            self.warnings.append(_error(self.file, "more_warnings", message) | {"severity": "warning"})
            self.untold.clear()

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "year": self.year,
            "dry_run": self.dry_run,
            "ok": self.ok,
            "committed": self.committed,
            "counts": dict(self.counts),
            "errors": self.errors,
            "warnings": self.warnings,
            "removed_with_actuals": self.removed_with_actuals,
        }


def problem_json(problem: Problem) -> dict:
    place = problem.place
    return {
        "severity": problem.severity,
        "code": problem.code,
        "message": problem.message,
        "place": {
            "file": place.file,
            "sheet": place.sheet,
            "row": place.row,
            "column": place.column,
            "value": place.value,
        },
        "where": place.describe(),
    }


def _error(file: str, code: str, message: str, **place) -> dict:
    return problem_json(Problem("error", code, message, Place(file=file, **place)))


def read_limits(settings) -> ReadLimits:
    """The read limits of the settings (JIXIAO_IMPORT_MAX_ROWS, _CELLS, _UNCOMPRESSED_BYTES)."""
    return ReadLimits(
        max_rows=settings.import_max_rows,
        max_cells=settings.import_max_cells,
        max_uncompressed_bytes=settings.import_max_uncompressed_bytes,
    )


def read_file(
    *,
    data: bytes,
    filename: str,
    on_progress: Callable[[int, int | None], None] | None = None,
    limits: ReadLimits | None = None,
) -> ReadResult:
    """Pick the reader by the file's type and read it into plain rows."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".txt":
        from app.importers.published import read_published

        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = data.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            return ReadResult(
                problems=[Problem("error", "undecodable", "文件既不是 UTF-8 也不是 GB18030 编码", Place(file=filename))]
            )
        return read_published(text, source=filename)
    from app.importers.tabular import read_table

    return read_table(data, filename=filename, on_progress=on_progress, limits=limits)


def import_file(
    *,
    session: Session,
    data: bytes | None = None,
    path: Path | None = None,
    filename: str,
    year: int | None,
    dry_run: bool = False,
    force: bool = False,
    actor: Any = "cli",
    max_bytes: int | None = None,
    on_progress: Progress | None = None,
    limits: ReadLimits | None = None,
    as_draft: bool = False,
    as_adjustment: bool = False,
    adjustment_reason: str | None = None,
) -> ImportReport:
    """Import one file (its bytes, or better its path: a province's table is never held whole); on
    any error nothing is written and the report says what and where.

    New tables arrive as 已批复 (the bureau's approved targets) or, `as_draft`, as 草稿 for the
    units to edit and 申报. A table that exists is updated in place while it is a draft or was
    returned; one under review is never changed; an approved one is never overwritten: the import
    is refused naming it, or, `as_adjustment`, files an adjustment request (调整申请) with the
    file's values and `adjustment_reason`, reviewed like any other.

    xlsx and csv stream: projects are read one at a time and written in batches (COPY on PostgreSQL)
    inside the one transaction, which is rolled back at the end if anything was wrong — so memory
    stays flat whatever the file's size, and the all-or-nothing rule holds."""
    report = ImportReport(file=filename, year=year, dry_run=dry_run)
    timeouts.allow_long(session)  # a province-scale file runs statements far longer than a page's
    suffix = Path(filename).suffix.lower()
    if suffix not in SUPPORTED:
        report.errors.append(
            _error(filename, "unsupported_type", "不支持的文件类型：请上传 .xlsx、.csv 或已发布绩效目标表的 .txt 文本")
        )
        return report
    size = len(data) if data is not None else path.stat().st_size  # type: ignore[union-attr]
    if max_bytes is not None and size > max_bytes:
        report.errors.append(
            _error(filename, "too_large", f"文件过大（{size / 1048576:.1f} MB），上限为 {max_bytes / 1048576:.0f} MB")
        )
        return report
    if _blank(data, path):
        report.errors.append(_error(filename, "empty", "文件是空的"))
        return report
    sha256 = _sha256(data, path)
    reading = (lambda done, total: on_progress(done, total, "read")) if on_progress else None
    found = ReadResult()
    writer: _Writer | None = None
    try:
        if suffix == ".txt":  # the published text: small, read whole
            text_result = read_file(data=data if data is not None else path.read_bytes(), filename=filename)  # type: ignore[union-attr]
            found.problems = text_result.problems
            projects: Iterator[ProjectRow] = iter(text_result.projects)
        else:
            from app.importers.tabular import iter_table

            source = data if data is not None else path
            projects = iter_table(source, found, filename=filename, on_progress=reading, limits=limits)  # type: ignore[arg-type]
        writer = _Writer(session, report, year=year, force=force, actor=actor, sha256=sha256)
        writer.as_draft, writer.as_adjustment, writer.adjustment_reason = as_draft, as_adjustment, adjustment_reason
        writer.check_names = suffix != ".txt"  # the published text's reader warns of them itself
        read_errors: list[dict] = []
        batch: list[ProjectRow] = []
        rows = 0

        def take_problems() -> None:
            for problem in found.problems:
                entry = problem_json(problem)
                if problem.severity == "error":
                    read_errors.append(entry)
                else:
                    report.warn(entry)
            found.problems.clear()

        try:
            for project in projects:
                take_problems()
                batch.append(project)
                rows += len(project.indicators)
                if rows >= BATCH_ROWS:
                    if not read_errors:
                        writer.add(batch)
                    batch, rows = [], 0
            take_problems()
        except Exception as exc:  # a reader must not take the server down with a malformed file
            writer.background.close()  # nothing may run on the connection while it rolls back
            session.rollback()
            report.errors = [_error(filename, "unreadable", f"无法读取文件：{exc}")]
            report.counts.clear()
            return report
        if not read_errors:
            writer.add(batch)
            writer.finish()
        writer.background.wait()
        if read_errors:
            # the file itself is wrong: those errors alone, as a read that stops before any matching
            report.errors, report.counts = read_errors, Counter()
        elif report.ok and not writer.projects:
            report.errors.append(_error(filename, "no_rows", "文件中没有任何项目或指标"))
        if on_progress and report.ok:
            on_progress(writer.indicators, writer.indicators, "store")
        if report.ok and not dry_run:
            session.commit()
            report.committed = True
        else:
            session.rollback()
    except BaseException:  # also a cancel (raised by on_progress) while a batch's COPYs run
        if writer is not None:
            writer.background.close()
        session.rollback()
        raise
    finally:
        if writer is not None:
            writer.background.close()
    report.finish_warnings()
    return report


# Indicators per batch written at once: large enough that a COPY's round trips do not count, small
# enough that a batch's rows are a few MB.
BATCH_ROWS = 5000
# Warnings kept in full in a report; past that they are counted by kind (a province's file can have
# a hundred thousand "low confidence" notes: no page shows them, and they would fill the memory).
MAX_WARNINGS = 1000


def _blank(data: bytes | None, path: Path | None) -> bool:
    if data is not None:
        return not data.strip()
    with path.open("rb") as f:  # type: ignore[union-attr]
        while chunk := f.read(1 << 20):
            if chunk.strip():
                return False
    return True


def _sha256(data: bytes | None, path: Path | None) -> str:
    if data is not None:
        return hashlib.sha256(data).hexdigest()
    digest = hashlib.sha256()
    with path.open("rb") as f:  # type: ignore[union-attr]
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _refuse_misfits(session: Session, report: ImportReport, pairs: set, misfits, in_force) -> None:
    """An error at every row whose categories do not fit the template in force, naming the template
    that would accept the whole file (if one does). `pairs`: every (一级, 二级) of the file."""
    accepting = next(
        (
            name
            for name, structure in templates.structures(session=session)
            if all(fit_problem(structure, level1, level2) is None for level1, level2 in pairs)
        ),
        None,
    )
    year = report.year
    for indicator, what, template, unit in misfits[:MAX_MISFITS]:
        scope = f"{year} 年度" if in_force(unit.department_id) == in_force(None) else f"{year} 年度本部门"
        message = f"{what}不属于 {scope}所用的评分模板 {template.name}（{templates.short_title(template.name)}）；"
        if accepting:
            message += (
                f"该表符合评分模板 {accepting}（{templates.short_title(accepting)}）："
                "如该年度应按它计分，请财政局先选定"
                f"（jixiao scoring use --year {year} --template {accepting}），再导入。"
            )
        else:
            message += (
                "没有哪个评分模板能接受该表的全部一级、二级指标（表中混用了两套模板的分类），请按所用模板改表后再导入。"
            )
        level1 = what.startswith("一级")
        place = dataclasses.replace(
            indicator.place,
            column="一级指标" if level1 else "二级指标",
            value=indicator.level1_raw if level1 else indicator.level2_raw,
        )
        report.errors.append(problem_json(Problem("error", "template_mismatch", message, place)))
    if len(misfits) > MAX_MISFITS:
        report.errors.append(
            _error(
                report.file, "template_mismatch", f"另有 {len(misfits) - MAX_MISFITS} 行指标同样不属于所用的评分模板。"
            )
        )


MAX_MISFITS = 50


def generated_project_code(unit_key: str, year: int, name: str, occurrence: int) -> str:
    """A 21-character code, stable for the same unit, year, name and occurrence of that name."""
    digest = hashlib.sha1(f"{unit_key}|{year}|{name_key(name)}|{occurrence}".encode()).hexdigest()
    return f"G{year}{digest[:16].upper()}"


class _Writer:
    """Matches and writes the projects of one import, batch by batch, in the import's transaction.

    What needs the whole file is kept small and settled in `finish`: the year (from the file when not
    given), the template misfits (refused together, with the template that would accept the file),
    project names repeated within a unit, and the audit events."""

    def __init__(self, session: Session, report: ImportReport, *, year, force: bool, actor: Any, sha256: str):
        self.session, self.report, self.force, self.actor, self.sha256 = session, report, force, actor, sha256
        self.file = report.file
        self.year: int | None = year
        self.given_year = year
        self.years: set[int] = set()
        self.waiting: list[ProjectRow] = []  # projects read before the file said its year
        self.ready = False
        self.failed = False
        self.projects = self.indicators = 0
        self.position = 0
        self.seen_units: set[int] = set()
        self.occurrences: Counter = Counter()
        self.misfits: list[tuple[IndicatorRow, str, ScoringTemplate, Unit]] = []
        self.misfit_count = 0
        self.pairs: set[tuple[str, str | None]] = set()
        # per template name: (一级, 二级) → why it does not fit (None: fits), asked once a pair
        self.fits: dict[str, dict[tuple[str, str | None], str | None]] = {}
        # (unit name, project name) of the projects whose name was read → [[project id, place], …]
        self.names: dict[tuple, list] = {}
        # What the import changes in rows that exist, per target table: {project id: (before, after)}.
        self.changes: dict[int, tuple[dict, dict]] = {}
        self.postgres = session.get_bind().dialect.name == "postgresql"
        self.check_names = True
        self.as_draft = self.as_adjustment = False
        self.adjustment_reason: str | None = None
        self.background = _Background()
        self.copies: list[Callable[[], None]] = []

    # --- setup, once the year is known ---------------------------------------------------------

    def _start(self) -> None:
        session, year = self.session, self.year
        self.report.year = year
        if session.get(FiscalYear, year) is None:
            session.add(FiscalYear(year=year))
            session.flush()
        # the template the bureau chose for the year, or for a project's department
        self.in_force = templates.resolver(session=session, year=year)
        self.by_name: dict[str, tuple[ScoringTemplate, TemplateSettings]] = {}
        self.checks: dict[str, QualitySettings] = {}  # the quality checks each template asks for
        self.departments = {d.name: d for d in session.exec(select(Department))}
        self.units_by_code = {u.code: u for u in session.exec(select(Unit).where(Unit.code.is_not(None)))}
        self.units_by_key = {u.name_key: u for u in session.exec(select(Unit))}
        # a year with no project yet (the first import of a year) looks nothing up per batch
        self.year_has_projects = (
            session.execute(sa.select(Project.id).where(Project.year == year).limit(1)).first() is not None
        )
        self.ready = True

    def template_of(self, unit: Unit) -> tuple[ScoringTemplate, TemplateSettings]:
        name = self.in_force(unit.department_id)
        if name not in self.by_name:
            row = current_template(session=self.session, name=name)
            self.by_name[name] = (row, settings_of(row))
            self.checks[name] = quality_settings(self.by_name[name][1])
        return self.by_name[name]

    def department_for(self, name: str | None) -> Department | None:
        if not name:
            return None
        name = name.strip()
        if name not in self.departments:
            dept = Department(name=name)
            self.session.add(dept)
            self.session.flush()
            self.departments[name] = dept
            self.report.counts["departments_created"] += 1
        return self.departments[name]

    def unit_for(self, p: ProjectRow, *, flush: bool = True) -> Unit:
        """The project's unit, created if new (`flush=False`: its id comes with the next flush)."""
        unit = self.units_by_code.get(p.unit_code) if p.unit_code else None
        key = name_key(p.unit_name or "")
        if unit is None:
            unit = self.units_by_key.get(key)
        if unit is None:
            dept = self.department_for(p.department_name)
            unit = Unit(
                name=p.unit_name.strip(),
                name_key=key,
                code=p.unit_code or None,
                department_id=dept.id if dept else None,
            )
            self.session.add(unit)
            if flush:
                self.session.flush()
            self.units_by_key[key] = unit
            if unit.code:
                self.units_by_code[unit.code] = unit
            self.report.counts["units_created"] += 1
        return unit

    # --- the year --------------------------------------------------------------------------------

    def _year_ok(self, p: ProjectRow) -> bool:
        """Settles the import's year from the projects as they come; False once it cannot be."""
        if p.year is None:
            return True
        if self.given_year is not None:
            if p.year != self.given_year:
                self.report.errors.append(
                    problem_json(
                        Problem(
                            "error",
                            "year_mismatch",
                            f"“年度”列为 {p.year}，与导入时指定的年度 {self.given_year} 不一致",
                            p.place or Place(file=self.file, column="年度", value=str(p.year)),
                        )
                    )
                )
                return False
            return True
        self.years.add(p.year)
        if self.year is None:
            self.year = p.year
        return len(self.years) == 1

    # --- batches -----------------------------------------------------------------------------------

    def add(self, batch: list[ProjectRow]) -> None:
        if self.failed and self.given_year is not None and not self.report.ok and not self.misfits:
            return  # a wrong year: refused, nothing more to find
        for p in batch:
            if not self._year_ok(p) and self.given_year is not None:
                self.failed = True
                return
        if self.year is None:
            self.waiting.extend(batch)  # not one year yet: wait for the file to say it
            return
        if self.waiting:
            batch, self.waiting = self.waiting + batch, []
        if not self.ready:
            self._start()
        self._write(batch)

    def finish(self) -> None:
        report = self.report
        self.background.wait()
        if self.given_year is None:
            if len(self.years) > 1:
                report.errors.append(
                    _error(
                        self.file,
                        "several_years",
                        f"文件包含多个年度（{', '.join(map(str, sorted(self.years)))}），请分开导入",
                    )
                )
                return
            if self.year is None:
                if self.waiting or self.projects:
                    report.errors.append(_error(self.file, "year_missing", "文件没有“年度”列，导入时也没有指定年度"))
                return
        if not self.ready:
            if not self.waiting:
                return
            self._start()
        if self.waiting:
            batch, self.waiting = self.waiting, []
            self._write(batch)
        if not report.ok and not self.misfits:
            return
        if self.misfits:
            # the whole file is refused: one year's evaluations are never scored by two sets of rules
            _refuse_misfits(self.session, report, self.pairs, self.misfits, self.in_force)
            if self.misfit_count > len(self.misfits):
                report.errors[-1] = _error(
                    self.file,
                    "template_mismatch",
                    f"另有 {self.misfit_count - MAX_MISFITS} 行指标同样不属于所用的评分模板。",
                )
            return
        if self.check_names:
            self._duplicate_names()
        if report.removed_with_actuals and not self.force:
            names = "、".join(f"{r['project']}／{r['indicator']}" for r in report.removed_with_actuals[:10])
            report.errors.append(
                _error(
                    self.file,
                    "removes_actuals",
                    f"修订后的表删除了 {len(report.removed_with_actuals)} 个已填报实际完成值的指标（{names}），"
                    "这些实际完成值会随之删除，须确认后才能导入",
                )
            )
            return
        source = f"导入 {self.file}（SHA-256 {self.sha256}）"
        # Changes to rows that existed, and deletions: before and after, one event per target table.
        for project_id, (before, after) in self.changes.items():
            audit.record(
                session=self.session,
                actor=self.actor,
                action="import.update",
                entity_type="project",
                entity_id=project_id,
                before=before,
                after=after,
                note=source,
            )
        # Rows it created: one event for the file (a first import does not double its writes).
        audit.record(
            session=self.session,
            actor=self.actor,
            action="import",
            entity_type="import",
            entity_id=None,
            after={"file": self.file, "sha256": self.sha256, "year": self.year, "counts": dict(report.counts)},
        )

    def _duplicate_names(self) -> None:
        """A project name repeated within one unit: a warning at each, kept on each project too."""
        repeated = {key: seen for key, seen in self.names.items() if len(seen) > 1}
        if not repeated:
            return
        notes: dict[int, str] = {}
        for (unit, name), seen in repeated.items():
            message = f"同一单位“{unit}”内项目名称“{name}”重复（共{len(seen)}个），请用项目编码区分。"
            for project_id, place in seen:
                self.report.warn(problem_json(Problem("warning", "duplicate_project_name", message, place)))
                if project_id is not None:
                    notes[project_id] = message
        if not notes:
            return
        rows = self.session.execute(sa.select(Project.id, Project.warnings).where(Project.id.in_(list(notes))))
        for project_id, warnings in rows.all():
            self.session.execute(
                sa.update(Project)
                .where(Project.id == project_id)
                .values(warnings=[*(warnings or []), notes[project_id]])
            )

    def _write(self, projects: list[ProjectRow]) -> None:
        session, report, year, file = self.session, self.report, self.year, self.file
        assert year is not None
        self.background.wait()
        existing: dict[tuple[int, str], Project] = {}
        planned = []
        # the batch's new units in one flush (one INSERT of many rows), not one round trip each
        units = [self.unit_for(p, flush=False) for p in projects]
        if any(unit.id is None for unit in units):
            session.flush()
        for p, unit in zip(projects, units, strict=True):
            if unit.id not in self.seen_units:
                self.seen_units.add(unit.id)
                report.counts["units"] += 1
            occurrence_key = (unit.id, name_key(p.project_name))
            self.occurrences[occurrence_key] += 1
            code = (p.project_code or "").strip()
            generated = not code
            if generated:
                code = generated_project_code(unit.name_key, year, p.project_name, self.occurrences[occurrence_key])
            planned.append((p, unit, code, generated))
        if self.year_has_projects:
            units = {unit.id for _, unit, _, _ in planned}
            codes = {code for _, _, code, _ in planned}
            for found in session.exec(
                select(Project).where(Project.year == year, Project.unit_id.in_(units), Project.project_code.in_(codes))
            ):
                existing[(found.unit_id, found.project_code)] = found
        new_projects: list[tuple[dict, ProjectRow, int]] = []
        named: list[tuple[list, int]] = []  # [project id, place] of a read name, and its new project
        changed_projects: list[tuple[Project, ProjectRow]] = []
        locked_projects: list[tuple[Project, ProjectRow, dict]] = []
        for p, unit, code, generated in planned:
            self.position += 1
            self.projects += 1
            self.indicators += len(p.indicators)
            project_warnings = [w.message for w in p.warnings]
            template, settings = self.template_of(unit)
            fits = self.fits.setdefault(template.name, {})
            for indicator in p.indicators:
                if not indicator.level1:
                    continue
                pair = (indicator.level1, indicator.level2)
                if pair not in fits:
                    self.pairs.add(pair)
                    fits[pair] = fit_problem(settings.structure, *pair)
                what = fits[pair]
                if what:
                    self.misfit_count += 1
                    if len(self.misfits) < MAX_MISFITS:
                        self.misfits.append((indicator, what, template, unit))
            # 分值 that will not be used as written: said at import, by the template in force
            note = given_points_note(settings, [i.weight for i in p.indicators])
            if note:
                message = f"项目“{p.project_name}”{note}"
                report.warn(problem_json(Problem("warning", "weights_sum", message, p.place or Place(file=file))))
                project_warnings.append(message)
            values = {
                "name": p.project_name.strip(),
                "period_goal": p.period_goal,
                "annual_goal": p.annual_goal,
                # the table's one budget figure is the 年初预算数 it was approved with, and the default of
                # 全年预算数 (which the unit reports on its 自评表, domain.md §1)
                "initial_budget": p.budget,
                "budget": p.budget,
                "position": self.position,
                "source": file[:500],
                "warnings": project_warnings,
            }
            if self.misfits or not report.ok:
                continue  # refused: the rest is only read for its misfits
            quality = _quality_of(p, year, self.checks[template.name])
            current = existing.get((unit.id, code))
            seen = None if p.name_generated else self.names.setdefault((p.unit_name, p.project_name), [])
            if current is None:
                new_projects.append(
                    (
                        {
                            "year": year,
                            "unit_id": unit.id,
                            "project_code": code,
                            "code_generated": generated,
                            "target_status": TARGET_FIRST_STATUS if self.as_draft else TARGET_IMPORTED_STATUS,
                            **values,
                            **quality,
                        },
                        p,
                        template.id,
                    )
                )
                if seen is not None:
                    entry = [None, p.place or Place(file=file)]
                    seen.append(entry)
                    named.append((entry, len(new_projects) - 1))
                continue
            if seen is not None:
                seen.append([current.id, p.place or Place(file=file)])
            if current.target_status not in TARGET_EDITING:
                # not the unit's to edit (under review, approved): never written here
                locked_projects.append((current, p, values))
                continue
            changed_projects.append((current, p))
            for key, value in quality.items():
                setattr(current, key, value)
            session.add(current)
            differs = any(getattr(current, k) != v for k, v in values.items() if k not in ("position", "source"))
            if differs:
                before, after = self.changes.setdefault(current.id, ({}, {}))
                for k, v in values.items():
                    if getattr(current, k) != v:
                        before.setdefault("project", {})[k] = _plain(getattr(current, k))
                        after.setdefault("project", {})[k] = _plain(v)
                for k, v in values.items():
                    setattr(current, k, v)
                current.updated_at = utcnow()
                session.add(current)
                report.counts["projects_updated"] += 1
            else:
                report.counts["projects_unchanged"] += 1
        if self.misfits or not report.ok:
            return
        if locked_projects:
            reason = (self.adjustment_reason or "").strip() or f"重新导入 {file}（SHA-256 {self.sha256[:12]}）"
            existing_indicators: dict[int, list[Indicator]] = {}
            for ind in session.exec(
                select(Indicator)
                .where(Indicator.project_id.in_([project.id for project, _, _ in locked_projects]))
                .order_by(Indicator.position)
            ):
                existing_indicators.setdefault(ind.project_id, []).append(ind)
            _locked(session, report, locked_projects, existing_indicators, self.as_adjustment, reason, self.actor)
            if not report.ok:
                return
        ids = self._insert_new(new_projects)
        for entry, k in named:
            entry[0] = ids[k]
        self._revise(changed_projects)
        session.flush()
        session.expunge_all()  # the batch's rows are written: nothing of them stays in memory
        if self.copies:
            # PostgreSQL: the batch's COPYs run while the next batch is read (joined at the next use of
            # the session; the rows are the batch's own, dropped once written)
            copies, self.copies = self.copies, []
            self.background.submit(copies)

    def _insert_new(self, new_projects: list[tuple[dict, ProjectRow, int]]) -> list[int]:
        if not new_projects:
            return []
        session, report, year = self.session, self.report, self.year
        assert year is not None
        now = utcnow()
        rows = [dict(values, created_at=now, updated_at=now) for values, _, _ in new_projects]
        if self.postgres:
            ids = [
                r[0]
                for r in session.execute(
                    sa.text("SELECT nextval(pg_get_serial_sequence('project', 'id')) FROM generate_series(1, :n)"),
                    {"n": len(rows)},
                )
            ]
            for row, pid in zip(rows, ids, strict=True):
                row["id"] = pid
            self.copies.append(copy_later(session, Project, rows))
        else:
            ids = list(
                session.execute(sa.insert(Project).returning(Project.id, sort_by_parameter_order=True), rows)
                .scalars()
                .all()
            )
        report.counts["projects_created"] += len(ids)
        if self.postgres:
            names, tuples = _indicator_copy_rows(ids, [p for _, p, _ in new_projects], year, report)
            self.copies.append(copy_tuples_later(session, Indicator, names, tuples))
            report.counts["indicators_created"] += len(tuples)
        else:
            indicator_rows = []
            for project_id, (_, p, _) in zip(ids, new_projects, strict=True):
                indicator_rows.extend(_indicator_values(project_id, year, p, report))
            bulk_insert(session, Indicator, indicator_rows)
            report.counts["indicators_created"] += len(indicator_rows)
        write = self._copy if self.postgres else bulk_insert
        write(
            session,
            SelfEvaluation,
            [
                {
                    "project_id": pid,
                    "year": year,
                    "status": FIRST_STATUS,
                    "template_id": template_id,
                    "flags": [],
                    "declared": {},
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                }
                for pid, (_, _, template_id) in zip(ids, new_projects, strict=True)
            ],
        )
        return ids

    def _copy(self, session: Session, model, rows: list[dict]) -> None:
        self.copies.append(copy_later(session, model, rows))

    def _revise(self, changed_projects: list[tuple[Project, ProjectRow]]) -> None:
        """Revised projects: indicators matched by (一级, 二级, 三级, occurrence)."""
        if not changed_projects:
            return
        session, report, year = self.session, self.report, self.year
        assert year is not None
        project_ids = [project.id for project, _ in changed_projects]
        existing_indicators: dict[int, list[Indicator]] = {}
        for ind in session.exec(
            select(Indicator).where(Indicator.project_id.in_(project_ids)).order_by(Indicator.position)
        ):
            existing_indicators.setdefault(ind.project_id, []).append(ind)
        with_actuals = {
            row[0]
            for row in session.execute(
                select(IndicatorResult.indicator_id)
                .join(Indicator, Indicator.id == IndicatorResult.indicator_id)
                .where(
                    Indicator.project_id.in_(project_ids),
                    sa.or_(IndicatorResult.actual.is_not(None), IndicatorResult.qualitative_level.is_not(None)),
                )
            )
        }
        inserts: list[dict] = []
        for project, p in changed_projects:
            old = {
                _indicator_key(i.level1, i.level2, i.name, n): i
                for i, n in _numbered(existing_indicators.get(project.id, []))
            }
            new_values = _indicator_values(project.id, year, p, report)
            keep: set[int] = set()
            for values in _numbered_values(new_values):
                key = _indicator_key(values["level1"], values["level2"], values["name"], values.pop("_n"))
                ind = old.get(key)
                if ind is None:
                    inserts.append(values)
                    report.counts["indicators_created"] += 1
                    continue
                keep.add(ind.id)
                if any(getattr(ind, k) != v for k, v in values.items()):
                    before, after = self.changes.setdefault(project.id, ({}, {}))
                    key = f"indicator:{ind.id}"
                    for k, v in values.items():
                        if getattr(ind, k) != v:
                            before.setdefault(key, {"name": ind.name})[k] = _plain(getattr(ind, k))
                            after.setdefault(key, {"name": ind.name})[k] = _plain(v)
                    for k, v in values.items():
                        setattr(ind, k, v)
                    session.add(ind)
                    report.counts["indicators_updated"] += 1
                else:
                    report.counts["indicators_unchanged"] += 1
            for ind in old.values():
                if ind.id in keep:
                    continue
                report.counts["indicators_removed"] += 1
                if ind.id in with_actuals:
                    report.removed_with_actuals.append(
                        {"project": project.name, "project_code": project.project_code, "indicator": ind.name}
                    )
                    if not self.force:
                        continue
                # Deleted: everything it held, the unit's entries included, stays readable in the audit.
                before, after = self.changes.setdefault(project.id, ({}, {}))
                before[f"indicator:{ind.id}"] = _deleted_state(session, ind)
                after[f"indicator:{ind.id}"] = None
                session.execute(sa.delete(IndicatorResult).where(IndicatorResult.indicator_id == ind.id))
                session.delete(ind)
        if inserts:
            bulk_insert(session, Indicator, inserts)


# What a re-import may not change in a table under review or approved, by the file's field name.
LOCKED_PROJECT_FIELDS = {
    "name": "项目名称",
    "period_goal": "实施周期目标",
    "annual_goal": "年度目标",
    "budget": "年度预算数",
}
MAX_NAMED = 10


def _named(projects: list[Project]) -> str:
    names = "、".join(f"“{p.name}”（{p.project_code}）" for p in projects[:MAX_NAMED])
    return names + (f" 等 {len(projects)} 个项目" if len(projects) > MAX_NAMED else "")


def _locked(
    session: Session,
    report: ImportReport,
    locked: list[tuple[Project, ProjectRow, dict]],
    existing_indicators: dict[int, list[Indicator]],
    as_adjustment: bool,
    reason: str,
    actor: Any,
) -> None:
    """Tables the file would change that are under review or approved: an error naming them, or
    (approved ones, `as_adjustment`) an adjustment request each with the file's values. Nothing
    of these tables is written here; the caller rolls back the whole file on any error."""
    from app.services import adjustments
    from app.services.errors import DomainError

    under_review: list[Project] = []
    approved: list[Project] = []
    requests: list[tuple[Project, dict[int, dict], dict]] = []
    for project, p, values in locked:
        fields = {k: v for k, v in values.items() if k in LOCKED_PROJECT_FIELDS and getattr(project, k) != v}
        if project.budget_entered_by_unit and values.get("initial_budget") == project.initial_budget:
            fields.pop("budget", None)  # the unit's 全年预算数, not a change of the table
        old = {
            _indicator_key(i.level1, i.level2, i.name, n): i
            for i, n in _numbered(existing_indicators.get(project.id, []))
        }
        indicators: dict[int, dict] = {}
        added: list[str] = []
        for row in _numbered_values(_indicator_values(project.id, report.year, p, report)):
            ind = old.pop(_indicator_key(row["level1"], row["level2"], row["name"], row.pop("_n")), None)
            if ind is None:
                added.append(row["name"])
                continue
            diff = {k: row[k] for k in adjustments.INDICATOR_FIELDS if getattr(ind, k) != row[k]}
            if diff:
                indicators[ind.id] = diff
        removed = [i.name for i in old.values()]
        if not (fields or indicators or added or removed):
            report.counts["projects_unchanged"] += 1
            report.counts["indicators_unchanged"] += len(p.indicators)
            continue
        if project.target_status != TARGET_IMPORTED_STATUS:
            under_review.append(project)
            continue
        if not as_adjustment:
            approved.append(project)
            continue
        unfit = [LOCKED_PROJECT_FIELDS[k] for k in fields if k not in adjustments.PROJECT_FIELDS]
        if added:
            unfit.append("新增指标 " + "、".join(added[:5]))
        if removed:
            unfit.append("删除指标 " + "、".join(removed[:5]))
        if unfit:
            report.errors.append(
                _error(
                    report.file,
                    "not_adjustable",
                    f"项目“{project.name}”（{project.project_code}）已批复，调整申请只能改指标值、分值和目标，"
                    f"不能改：{'；'.join(unfit)}（资金在自评中如实填报；增删指标请退回后重新申报）",
                )
            )
            continue
        requests.append((project, indicators, {k: v for k, v in fields.items() if k in adjustments.PROJECT_FIELDS}))
    if under_review:
        report.errors.append(
            _error(
                report.file,
                "table_under_review",
                f"绩效目标表正在审核中，导入不能修改：{_named(under_review)}。请审核完成（或退回）后再导入",
            )
        )
    if approved:
        report.errors.append(
            _error(
                report.file,
                "approved_table",
                f"绩效目标表已批复，重新导入不会覆盖：{_named(approved)}。"
                "如需按文件修改，请选择“作为调整申请导入”，经审核批准后生效",
            )
        )
    if not report.ok:
        return
    for project, indicators, fields in requests:
        try:
            adjustments.file_request(
                session=session,
                actor=actor,
                project=project,
                reason=reason,
                indicators=indicators,
                project_fields=fields,
            )
        except DomainError as exc:
            details = "；".join(e.message for e in getattr(exc, "errors", None) or [])
            report.errors.append(
                _error(
                    report.file,
                    "adjustment_refused",
                    f"项目“{project.name}”（{project.project_code}）：{exc.message}"
                    + (f"（{details}）" if details else ""),
                )
            )
            return
        report.counts["adjustments_requested"] += 1


def _plain(value: Any) -> Any:
    """A column value as the audit stores it (exact decimals as strings, dates as ISO text)."""
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    if isinstance(value, date | datetime):
        return value.isoformat()
    return value


def _deleted_state(session: Session, ind: Indicator) -> dict[str, Any]:
    """Every column of an indicator about to be deleted, and of its result (the unit's text)."""
    state = {c.key: _plain(getattr(ind, c.key)) for c in Indicator.__table__.columns}
    result = session.exec(select(IndicatorResult).where(IndicatorResult.indicator_id == ind.id)).first()
    if result is not None:
        state["result"] = {c.key: _plain(getattr(result, c.key)) for c in IndicatorResult.__table__.columns}
    return state


@lru_cache(maxsize=65536)
def _parse(text: str, year: int) -> TargetParse:
    # Real tables repeat their target strings (≥95%, 100%, 提升 …); a parse is immutable.
    return parse_target(text, year=year)


def bulk_insert(session: Session, model, rows: list[dict]) -> None:
    """One Core executemany: measured 1.5× faster than the ORM bulk path and 3× faster than
    INSERT … RETURNING on psycopg, the same on SQLite."""
    if rows:
        session.connection().execute(model.__table__.insert(), rows)


def copy_rows(session: Session, model, rows: list[dict]) -> None:
    """PostgreSQL: the rows by COPY … FROM STDIN on the session's own connection (in its transaction),
    the columns' Python-side defaults filled in as an INSERT would; JSON columns as JSON text."""
    copy_later(session, model, rows)()


def copy_later(session: Session, model, rows: list[dict]) -> Callable[[], None]:
    """copy_rows in two halves: what needs the session now (its flush, its connection), and the COPY
    itself, returned to be run later — on another thread, while nothing else uses the connection."""
    if not rows:
        return lambda: None
    table = model.__table__
    row_defaults = _row_defaults(table, rows[0])
    names = [*rows[0], *row_defaults]
    as_json = _json_columns(table)
    as_json |= {name for name in names if isinstance(rows[0].get(name), list | dict)}
    session.flush()  # what the ORM holds (a new unit, the fiscal year) goes first: the rows refer to it
    driver = session.connection().connection.driver_connection
    extra = tuple(row_defaults.values())
    columns = ", ".join(f'"{n}"' for n in names)
    json_at = [k for k, n in enumerate(names) if n in as_json]

    def run() -> None:
        with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            for row in rows:
                values = [*row.values(), *extra]
                for k in json_at:
                    value = values[k]
                    if value is not None:
                        values[k] = "[]" if value == [] else json.dumps(value, ensure_ascii=False, default=str)
                copy.write_row(values)

    return run


def _row_defaults(table: sa.Table, present) -> dict[str, Any]:
    """The Python-side defaults of the columns a COPY does not name, as an INSERT would fill them."""
    row_defaults = {}
    for column in table.columns:
        default = column.default
        if default is None or column.name in present:
            continue
        if default.is_scalar:
            row_defaults[column.name] = default.arg
        elif default.is_callable:
            row_defaults[column.name] = default.arg(None)
    return row_defaults


def _json_columns(table: sa.Table) -> set[str]:
    return {c.name for c in table.columns if isinstance(c.type, sa.JSON) or c.type.__class__.__name__ == "JSONB"}


def copy_tuples_later(session: Session, model, names: list[str], rows: list[tuple]) -> Callable[[], None]:
    """copy_later for rows already in COPY form: tuples in the order of `names`, JSON columns as
    JSON text (no dict and no per-row conversion: the import's indicators, the bulk of a file)."""
    if not rows:
        return lambda: None
    table = model.__table__
    row_defaults = _row_defaults(table, names)
    as_json = _json_columns(table)
    extra = tuple(
        json.dumps(v, ensure_ascii=False, default=str) if k in as_json and v is not None else v
        for k, v in row_defaults.items()
    )
    session.flush()
    driver = session.connection().connection.driver_connection
    columns = ", ".join(f'"{n}"' for n in [*names, *row_defaults])

    def run() -> None:
        with driver.cursor() as cursor, cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            write = copy.write_row
            if extra:
                for row in rows:
                    write(row + extra)
            else:
                for row in rows:
                    write(row)

    return run


class _Background:
    """One batch's COPYs run on a thread while the next batch is read and parsed (the server's
    inserts, index and trigger work overlap the reader's Python). The session's connection is used
    by one side at a time: `wait` before anything else touches it; an error of the COPYs is raised there."""

    def __init__(self) -> None:
        self.pool: ThreadPoolExecutor | None = None
        self.pending: Future | None = None

    def submit(self, steps: list[Callable[[], None]]) -> None:
        self.wait()
        if self.pool is None:
            self.pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-copy")
        self.pending = self.pool.submit(lambda: [step() for step in steps])

    def wait(self) -> None:
        pending, self.pending = self.pending, None
        if pending is not None:
            pending.result()

    def close(self) -> None:
        """Wait for the COPYs in flight (their error, if any, dropped: the caller is already failing or
        has waited) and stop the thread."""
        try:
            if self.pending is not None:
                self.pending.exception()
        finally:
            self.pending = None
            if self.pool is not None:
                self.pool.shutdown(wait=True)
                self.pool = None


def _indicator_values(project_id: int, year: int, p: ProjectRow, report: ImportReport) -> list[dict]:
    """Indicator columns for one project's rows (as the API stores them); their warnings go into
    the report with their place."""
    values = []
    for row in p.indicators:
        part = _target_part(row.annual_target, row.period_target, year)
        level2 = LEVEL2_BY_SLUG.get(row.level2) if row.level2 is not None else None
        columns = {
            "project_id": project_id,
            **part,
            "position": row.order,
            "level1": row.level1,
            "level2": row.level2,
            "level2_code": level2.code if level2 is not None else None,
            "level2_name": (row.level2_raw or "")[:100] or None,
            "name": row.name[:1000],
            "weight": row.weight,
            "target_warnings": list(part["target_warnings"]),
            "warnings": list(part["warnings"]),
        }
        for message in part["warnings"]:
            report.warn(problem_json(Problem("warning", "indicator", f"{row.name}：{message}", row.place)))
        values.append(columns)
    return values


@lru_cache(maxsize=8192)
def _target_part(annual_target: str | None, period_target: str | None, year: int) -> dict[str, Any]:
    """indicator_columns of one pair of raw target strings; the caller puts in the row's own
    columns (position, categories, name, weight) and copies the lists. Real tables repeat their
    target strings heavily; bounded, so memory stays flat whatever the file."""
    return indicator_columns(
        year=year,
        level1="",
        level2=None,
        level2_name=None,
        name="",
        period_target=period_target,
        annual_target=annual_target,
        weight=None,
        position=0,
        parse=_parse,
    )


# The columns of an indicator row that are its own; the others come from its pair of target strings.
_ROW_OWN = ("project_id", "position", "level1", "level2", "level2_code", "level2_name", "name", "weight")
_INDICATOR_JSON = _json_columns(Indicator.__table__)  # type: ignore[attr-defined]


def _copy_value(name: str, value: Any) -> Any:
    """A value as COPY takes it (as copy_later writes it): JSON columns, lists and dicts as JSON text."""
    if value is None or not (name in _INDICATOR_JSON or isinstance(value, list | dict)):
        return value
    return "[]" if value == [] else json.dumps(value, ensure_ascii=False, default=str)


@lru_cache(maxsize=8192)
def _target_copy(
    annual_target: str | None, period_target: str | None, year: int
) -> tuple[tuple[str, ...], tuple, tuple[str, ...]]:
    """_target_part as COPY values: (the names of the target's columns, their values with JSON as
    text, the row's warnings). Cached per distinct pair, as _target_part is."""
    part = _target_part(annual_target, period_target, year)
    names = tuple(k for k in part if k not in _ROW_OWN)
    return names, tuple(_copy_value(k, part[k]) for k in names), tuple(part["warnings"])


def _indicator_copy_rows(
    ids: list[int], projects: list[ProjectRow], year: int, report: ImportReport
) -> tuple[list[str], list[tuple]]:
    """The indicator rows of new projects as COPY tuples (column names, rows): the same values as
    _indicator_values' dicts, without a dict or a JSON encoding per row. Warnings as there."""
    names: tuple[str, ...] | None = None
    rows: list[tuple] = []
    append, warn, level2s = rows.append, report.warn, LEVEL2_BY_SLUG
    told, untold = report.warnings, report.untold
    for project_id, p in zip(ids, projects, strict=True):
        for row in p.indicators:
            target_names, target_values, warnings = _target_copy(row.annual_target, row.period_target, year)
            if names is None:
                names = target_names
            elif target_names != names:  # one code path builds them all: never, but never silently
                raise RuntimeError(f"indicator columns differ: {target_names} != {names}")
            level2 = row.level2
            info = level2s.get(level2) if level2 is not None else None
            append(
                (
                    project_id,
                    row.order,
                    row.level1,
                    level2,
                    info.code if info is not None else None,
                    (row.level2_raw or "")[:100] or None,
                    row.name[:1000],
                    row.weight,
                    *target_values,
                )
            )
            for message in warnings:
                if len(told) < MAX_WARNINGS:
                    warn(problem_json(Problem("warning", "indicator", f"{row.name}：{message}", row.place)))
                else:  # what report.warn does past the limit, without making the entry it drops
                    untold["indicator"] += 1
    return [*_ROW_OWN, *(names or ())], rows


def _quality_of(p: ProjectRow, year: int, checks: QualitySettings) -> dict:
    """The table's quality counts as project columns, by the template in force (with the import's
    cached parse). The read rows are checked as they are: they have every field the check reads (no
    id yet; the check numbers them by their row in the table)."""
    return quality_columns(check_table(p.indicators, year=year, settings=checks, parse=_parse))  # type: ignore[arg-type]


def _indicator_key(level1, level2, name, n) -> tuple:
    return (level1, level2, name_key(name), n)


def _numbered(indicators: list[Indicator]):
    seen: Counter = Counter()
    for ind in indicators:
        k = (ind.level1, ind.level2, name_key(ind.name))
        seen[k] += 1
        yield ind, seen[k]


def _numbered_values(values: list[dict]):
    seen: Counter = Counter()
    for v in values:
        k = (v["level1"], v["level2"], name_key(v["name"]))
        seen[k] += 1
        v["_n"] = seen[k]
        yield v
