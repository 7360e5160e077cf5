"""The scoring engine of a self-evaluation: load its parts, score them by its template, store.

One small module that the unit's use cases (save, submit), the reviewers' (approve, return)
and the rescoring call, so that one request loads the parts once, parses the template once
and scores once. The rules themselves are the domain's (app/domain/scoring.py); this module
only turns rows into the domain's inputs and the domain's result back into rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache

import sqlalchemy as sa
from sqlmodel import Session, select

from app.domain import scoring
from app.domain.targets import TargetParse, parse_target
from app.models import Indicator, IndicatorResult, Project, ScoringTemplate, SelfEvaluation
from app.services.templates import settings_of
from app.sqltypes import utcnow


@dataclass
class Parts:
    """Everything scoring one evaluation reads, loaded once."""

    evaluation: SelfEvaluation
    project: Project
    indicators: list[Indicator]
    results: dict[int, IndicatorResult]  # by indicator id; a missing one means nothing typed yet
    template: ScoringTemplate
    settings: scoring.TemplateSettings
    # the stored parse of each indicator's annual target (target_of), by indicator id: made once per request
    targets: dict[int, TargetParse] = field(default_factory=dict)

    def target(self, ind: Indicator) -> TargetParse:
        found = self.targets.get(ind.id)
        if found is None:
            found = self.targets[ind.id] = target_of(ind)
        return found

    def indicator(self, indicator_id: int) -> Indicator | None:
        return next((i for i in self.indicators if i.id == indicator_id), None)


# The indicators and their results in one query (a save's round trips are most of its cost): every
# result of an evaluation is of one of its project's indicators. Built once (building it was a cost of
# every save and page), the evaluation and the project as parameters.
_PARTS = (
    select(Indicator, IndicatorResult)
    .outerjoin(
        IndicatorResult,
        sa.and_(
            IndicatorResult.indicator_id == Indicator.id,
            IndicatorResult.self_evaluation_id == sa.bindparam("evaluation_id"),
        ),
    )
    .where(Indicator.project_id == sa.bindparam("project_id"))
    .order_by(Indicator.position, Indicator.id)
)


def load(session: Session, evaluation: SelfEvaluation) -> Parts:
    project = session.get(Project, evaluation.project_id)
    rows = session.execute(_PARTS, {"evaluation_id": evaluation.id, "project_id": project.id}).all()
    indicators = [row[0] for row in rows]
    results = {row[1].indicator_id: row[1] for row in rows if row[1] is not None}
    template = session.get(ScoringTemplate, evaluation.template_id)
    return Parts(evaluation, project, indicators, results, template, settings_of(template))


def target_of(ind: Indicator) -> TargetParse:
    """The stored parse of the annual target, as imported."""
    return TargetParse(
        raw=ind.annual_target or "",
        kind=ind.target_kind,
        op=ind.target_op,
        value=Decimal(ind.target_value) if ind.target_value is not None else None,
        value_max=Decimal(ind.target_value_max) if ind.target_value_max is not None else None,
        unit=ind.target_unit,
        unit_raw=ind.target_unit_raw,
        unit_class=ind.target_unit_class,
        deadline=ind.target_deadline,
        direction=ind.target_direction,
        confidence=ind.target_confidence,
        warnings=tuple(ind.target_warnings or ()),
    )


@lru_cache(maxsize=65536)
def parse_actual(text: str, year: int) -> TargetParse:
    """An actual as typed, parsed (a pure function of the text and the year, and its answer is
    immutable: each save re-scores every row of the evaluation, and parsed each row's actual anew)."""
    return parse_target(text, year=year)


def score(parts: Parts) -> scoring.EvaluationScore:
    """Score the parts as they stand (typed values not yet stored included)."""
    settings, project = parts.settings, parts.project
    inputs = []
    for ind in parts.indicators:
        res = parts.results.get(ind.id)
        actual = parse_actual(res.actual, project.year) if res and res.actual else None
        inputs.append(
            scoring.IndicatorInput(
                key=str(ind.id),
                level1=ind.level1,
                level2=ind.level2,
                name=ind.name,
                target=parts.target(ind),
                given_weight=ind.weight if settings.use_given_weights else None,
                actual=actual,
                qualitative_level=res.qualitative_level if res else None,
                score_in_band=res.score_in_band if res else None,
                deviation_reason=res.deviation_reason if res else None,
                override=res.score_override if res else None,
                self_score=res.self_score if res else None,
                self_score_reason=res.self_score_reason if res else None,
            )
        )
    return scoring.evaluate(settings=settings, budget=project.budget, spent=project.spent, indicators=inputs)


def store(session: Session, parts: Parts, result: scoring.EvaluationScore) -> None:
    """Write the result onto the rows (results that exist, and the evaluation's totals).

    Only the results whose weight, score, met, flags or places change are written (and their
    updated_at moved): a save that changes one row's reason no longer rewrites every other row of
    the evaluation with the same figures. A row the caller changed is the caller's to add."""
    for res in apply(parts, result):
        session.add(res)


def apply(parts: Parts, result: scoring.EvaluationScore) -> list:
    """store()'s changes made on the objects (entities or plain rows): the results whose figures changed."""
    evaluation = parts.evaluation
    changed = []
    by_key = {row.key: row for row in result.indicators}
    now = None
    for ind in parts.indicators:
        res = parts.results.get(ind.id)
        if res is None:
            continue
        s = by_key[str(ind.id)]
        flags = list(s.flags)
        if (
            res.id is not None
            and res.weight == s.weight  # as numbers: the column stores 10 and 10.00 alike
            and res.score == s.score
            and res.met == s.met
            and list(res.flags or ()) == flags
            and res.score_places == result.places
        ):
            continue
        res.weight, res.score, res.met, res.flags = s.weight, s.score, s.met, flags
        res.score_places = result.places
        res.updated_at = now = now or utcnow()
        changed.append(res)
    evaluation.score_places = result.places
    evaluation.target_version = parts.project.target_version
    evaluation.execution_rate = result.execution_rate
    evaluation.execution_score = result.execution_score
    evaluation.total_score = result.total if result.indicators else None
    evaluation.grade = result.grade
    evaluation.flags = sorted(
        set(result.execution_flags) | set(result.flags) | {f for row in result.indicators for f in row.flags}
    )
    return changed
