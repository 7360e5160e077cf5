"""Every table of jixiao, in one file: the schema at a glance.

Names follow the glossary of shared/domain.md §2. Money is in 万元 as exact decimals
(ExactDecimal), timestamps are timezone-aware (`*_at`), dates are `*_date`, enumerations
are strings with CHECK constraints.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from app.domain.evaluation import (
    FIRST_STATUS,
    LEVELS,
    ROLES,
    STATUS_CODES,
    TARGET_IMPORTED_STATUS,
    TARGET_STATUS_CODES,
)
from app.domain.funds import IMPLEMENTATIONS, NODE_KINDS, RECIPIENT_KINDS
from app.domain.monitoring import LIGHTS, ROUND_OPEN, ROUND_STATUSES
from app.sqltypes import ExactDecimal, JSONType, UTCDateTime, utcnow

SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The evaluation's words live in the domain (app/domain/evaluation.py); the CHECKs read them.
EVALUATION_STATUSES = STATUS_CODES
QUALITATIVE_LEVELS = LEVELS
TARGET_KINDS = ("quantity", "qualitative", "deadline")
IMPORT_STATUSES = ("pending", "running", "done", "failed")


def _enum(name: str, values: tuple[str, ...], *, nullable: bool = False, **kw) -> sa.Column:
    return sa.Column(
        sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=20),
        nullable=nullable,
        **kw,
    )


def _money(**kw) -> sa.Column:
    """万元, exact to 0.000001 万元 (one fen)."""
    return sa.Column(ExactDecimal(18, 6), **kw)


def _created_at() -> sa.Column:
    return sa.Column(UTCDateTime(), nullable=False, default=utcnow)


def _at(**kw) -> sa.Column:
    return sa.Column(UTCDateTime(), **kw)


# 主管部门: a supervising department (e.g. 示例市工业和信息化局).
class Department(SQLModel, table=True):
    __tablename__ = "department"

    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, max_length=64, unique=True)
    name: str = Field(max_length=200, unique=True)
    created_at: datetime = Field(sa_column=_created_at())


# 资金使用单位 / 预算单位: has a code (单位编码) and a parent department; a department's own
# office (局本级) is a unit too.
class Unit(SQLModel, table=True):
    __tablename__ = "unit"

    id: int | None = Field(default=None, primary_key=True)
    code: str | None = Field(default=None, max_length=64, unique=True)
    name: str = Field(max_length=200)
    # The name folded for matching (NFKC, no spaces): imports match units by code, else by this.
    name_key: str = Field(max_length=200, unique=True)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    created_at: datetime = Field(sa_column=_created_at())


# A fiscal year that projects belong to.
class FiscalYear(SQLModel, table=True):
    __tablename__ = "fiscal_year"

    year: int = Field(primary_key=True, sa_type=sa.Integer, sa_column_kwargs={"autoincrement": False})
    created_at: datetime = Field(sa_column=_created_at())


# 填报期: when units may fill in and submit their self-evaluations for a year.
# A year without a window is open.
class FilingWindow(SQLModel, table=True):
    __tablename__ = "filing_window"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(foreign_key="fiscal_year.year", unique=True)
    opens_date: date | None = None
    closes_date: date | None = None
    updated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime = Field(sa_column=_created_at())


# A versioned scoring template (national-2020, Guangdong 专项资金, …): the rules are data.
class ScoringTemplate(SQLModel, table=True):
    __tablename__ = "scoring_template"
    __table_args__ = (sa.UniqueConstraint("name", "version"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=64)
    version: int
    title: str = Field(default="", max_length=200)
    settings: dict = Field(default_factory=dict, sa_column=sa.Column(JSONType, nullable=False))
    is_current: bool = Field(default=True)
    created_at: datetime = Field(sa_column=_created_at())


# Which scoring template a year's new evaluations use, chosen by the bureau: one row for the
# whole year (department_id empty) and optionally one per department, which wins for that
# department's units. A year without a row uses national-2020. Imports check files against it.
class TemplateChoice(SQLModel, table=True):
    __tablename__ = "template_choice"
    __table_args__ = (
        sa.UniqueConstraint("year", "department_id"),
        # NULLs are distinct in a unique constraint: the year-wide row is kept single by this index
        sa.Index(
            "uq_template_choice_year_wide",
            "year",
            unique=True,
            sqlite_where=sa.text("department_id IS NULL"),
            postgresql_where=sa.text("department_id IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    year: int
    department_id: int | None = Field(default=None, foreign_key="department.id")
    template_name: str = Field(max_length=64)
    chosen_by: str = Field(default="", max_length=200)
    chosen_at: datetime = Field(sa_column=_created_at())


# 项目: per unit per year. Names repeat, so project_code identifies it (generated when the
# source has none). Budget figures are nullable: published tables often carry none.
class Project(SQLModel, table=True):
    __tablename__ = "project"
    __table_args__ = (
        sa.UniqueConstraint("year", "unit_id", "project_code"),
        # Year-wide keyset lists (ORDER BY id within a year) start at the year, not at id 1.
        sa.Index("ix_project_year_id", "year", "id"),
        # The quality dashboard: a year's tables, most problems first.
        sa.Index("ix_project_year_quality", "year", "quality_errors", "quality_not_measurable", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(foreign_key="fiscal_year.year", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    project_code: str = Field(max_length=64)
    code_generated: bool = Field(default=False)
    name: str = Field(max_length=500)
    position: int = Field(default=0)  # order within the unit's table
    period_goal: str | None = Field(default=None, sa_type=sa.Text)
    annual_goal: str | None = Field(default=None, sa_type=sa.Text)
    initial_budget: Decimal | None = Field(default=None, sa_column=_money())  # 年初预算数
    budget: Decimal | None = Field(default=None, sa_column=_money())  # 全年预算数
    budget_entered_by_unit: bool = Field(default=False)  # the table had none; the unit gave it
    fiscal_funds: Decimal | None = Field(default=None, sa_column=_money())  # 本年财政拨款
    carried_over: Decimal | None = Field(default=None, sa_column=_money())  # 上年结转资金
    other_funds: Decimal | None = Field(default=None, sa_column=_money())  # 其他资金
    spent: Decimal | None = Field(default=None, sa_column=_money())  # 全年执行数
    source: str | None = Field(default=None, max_length=500)  # file (and place) it was imported from
    warnings: list = Field(default_factory=list, sa_column=sa.Column(JSONType, nullable=False))
    # the 绩效目标表's lifecycle (app/domain/evaluation.py TARGET_TRANSITIONS); imported tables are 已批复
    target_status: str = Field(
        default=TARGET_IMPORTED_STATUS,
        sa_column=_enum("target_status", TARGET_STATUS_CODES, server_default=TARGET_IMPORTED_STATUS),
    )
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})  # optimistic locking of the table
    # the table's version: 1 as approved, +1 for each adjustment (调整) that took effect
    target_version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    # the counts of the table's last quality check (app/domain/target_quality.py); None: not checked yet
    quality_errors: int | None = None
    quality_warnings: int | None = None
    quality_not_measurable: int | None = None
    quality_share: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(5, 2)))  # 定量指标占比 %
    created_at: datetime = Field(sa_column=_created_at())
    updated_at: datetime = Field(sa_column=_created_at())


# 绩效指标: one row of the 绩效目标表. Targets are kept raw, exactly as given, plus the parse of
# the annual target (the self-evaluation compares against 年度指标值).
class Indicator(SQLModel, table=True):
    __tablename__ = "indicator"
    __table_args__ = (sa.Index("ix_indicator_year_id", "year", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    year: int  # denormalised from the project for year-wide keyset queries
    position: int
    level1: str = Field(max_length=40)  # a category slug of the scoring template (app/domain/categories.py)
    level2: str | None = Field(default=None, max_length=40)  # glossary slug, None when unknown
    level2_code: str | None = Field(default=None, max_length=10)
    level2_name: str | None = Field(default=None, max_length=100)  # as written
    name: str = Field(max_length=1000)
    period_target: str | None = Field(default=None, sa_type=sa.Text)  # 实施周期指标值, raw
    annual_target: str | None = Field(default=None, sa_type=sa.Text)  # 年度指标值, raw
    target_kind: str = Field(sa_column=_enum("target_kind", TARGET_KINDS))
    target_op: str | None = Field(default=None, max_length=8)
    target_value: str | None = Field(default=None, max_length=64)  # decimal string, magnitude applied
    target_value_max: str | None = Field(default=None, max_length=64)
    target_unit: str | None = Field(default=None, max_length=32)
    target_unit_raw: str | None = Field(default=None, max_length=32)
    target_unit_class: str | None = Field(default=None, max_length=16)
    target_deadline: date | None = None
    target_direction: str | None = Field(default=None, max_length=8)
    target_confidence: str = Field(default="high", max_length=8)
    target_warnings: list = Field(default_factory=list, sa_column=sa.Column(JSONType, nullable=False))
    weight: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(10, 2)))  # 分值 as given
    warnings: list = Field(default_factory=list, sa_column=sa.Column(JSONType, nullable=False))


# 自评: one per project per year, existing from the moment the project does.
class SelfEvaluation(SQLModel, table=True):
    __tablename__ = "self_evaluation"

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", unique=True)
    year: int = Field(index=True)
    status: str = Field(default=FIRST_STATUS, sa_column=_enum("evaluation_status", EVALUATION_STATUSES))
    template_id: int = Field(foreign_key="scoring_template.id")
    execution_rate: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(12, 4)))  # 百分点
    execution_score: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(10, 2)))
    total_score: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(10, 2)))
    grade: str | None = Field(default=None, max_length=2)  # 优 / 良 / 中 / 差
    department_score: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(10, 2)))
    goal_completion: str | None = Field(default=None, sa_type=sa.Text)  # 实际完成情况
    flags: list = Field(default_factory=list, sa_column=sa.Column(JSONType, nullable=False))
    # Figures a source declared (e.g. a stated 执行率), kept beside the recomputed ones.
    declared_execution_rate: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(12, 4)))
    declared_total_score: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(10, 2)))
    declared: dict = Field(default_factory=dict, sa_column=sa.Column(JSONType, nullable=False))
    # the template's rounding_places when the scores were stored: lists and exports show them so
    score_places: int = Field(default=2, sa_column_kwargs={"server_default": "2"})
    # the version of the 绩效目标表 the scores were computed against (project.target_version)
    target_version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    submitted_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    submitted_at: datetime | None = Field(default=None, sa_column=_at())
    reviewed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    reviewed_at: datetime | None = Field(default=None, sa_column=_at())
    review_opinion: str | None = Field(default=None, sa_type=sa.Text)
    # 其中: the fund-source split of 全年预算数 and of 全年执行数 (project.budget / project.spent) the
    # unit reports; None where not given (old forms without the split keep working)
    budget_fiscal_funds: Decimal | None = Field(default=None, sa_column=_money())  # 本年财政拨款
    budget_carried_over: Decimal | None = Field(default=None, sa_column=_money())  # 上年结转资金
    budget_other_funds: Decimal | None = Field(default=None, sa_column=_money())  # 其他资金
    spent_fiscal_funds: Decimal | None = Field(default=None, sa_column=_money())
    spent_carried_over: Decimal | None = Field(default=None, sa_column=_money())
    spent_other_funds: Decimal | None = Field(default=None, sa_column=_money())
    version: int = Field(default=1)  # optimistic locking
    created_at: datetime = Field(sa_column=_created_at())
    updated_at: datetime = Field(sa_column=_created_at())


# 实际完成值 and its score for one indicator of one self-evaluation.
class IndicatorResult(SQLModel, table=True):
    __tablename__ = "indicator_result"
    __table_args__ = (
        sa.Index("ix_indicator_result_year_indicator_id", "year", "indicator_id"),
        # The year-wide unmet list (shared/perf-notes.md): a partial index on what is not met, and a
        # covering index so the join reads met and score without visiting the table.
        sa.Index(
            "ix_indicator_result_unmet",
            "year",
            "indicator_id",
            postgresql_where=sa.text("NOT met"),
            sqlite_where=sa.text("NOT met"),
        ),
        sa.Index("ix_indicator_result_covering", "indicator_id", postgresql_include=["met", "score"]),
        # A department's (or a unit's) unmet list reads its own entries only, in id order.
        sa.Index(
            "ix_indicator_result_department_unmet",
            "year",
            "department_id",
            "indicator_id",
            postgresql_where=sa.text("NOT met"),
            sqlite_where=sa.text("NOT met"),
        ),
        sa.Index("ix_indicator_result_unit", "unit_id", "year", "indicator_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    self_evaluation_id: int = Field(foreign_key="self_evaluation.id", index=True)
    indicator_id: int = Field(foreign_key="indicator.id", unique=True)
    year: int
    # Denormalised from indicator → project → unit, filled and kept by database triggers (migration
    # "maintained unit stats"): the department's unmet list is an index range, not a scan of the year.
    unit_id: int | None = None
    department_id: int | None = None
    actual: str | None = Field(default=None, sa_type=sa.Text)  # raw, as typed
    actual_parsed: dict | None = Field(default=None, sa_column=sa.Column(JSONType))
    qualitative_level: str | None = Field(
        default=None, sa_column=_enum("qualitative_level", QUALITATIVE_LEVELS, nullable=True)
    )
    score_in_band: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(10, 2)))
    weight: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(10, 2)))
    score: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(10, 2)))  # computed
    met: bool | None = None
    score_override: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(10, 2)))
    override_reason: str | None = Field(default=None, sa_type=sa.Text)
    override_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    deviation_reason: str | None = Field(default=None, sa_type=sa.Text)
    # The unit's own score for the row (published forms carry them), with its reason; it counts
    # unless the template forbids it, and the computed score stays in `score` beside it.
    self_score: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(10, 2)))
    self_score_reason: str | None = Field(default=None, sa_type=sa.Text)
    score_places: int = Field(default=2, sa_column_kwargs={"server_default": "2"})  # as on self_evaluation
    flags: list = Field(default_factory=list, sa_column=sa.Column(JSONType, nullable=False))
    updated_at: datetime = Field(sa_column=_created_at())


# A person who logs in. Units and departments see only their own scope.
class User(SQLModel, table=True):
    __tablename__ = "app_user"

    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=64, unique=True)
    display_name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=255)
    role: str = Field(sa_column=_enum("role", ROLES))
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    department_id: int | None = Field(default=None, foreign_key="department.id", index=True)
    is_active: bool = Field(default=True)
    created_at: datetime = Field(sa_column=_created_at())
    last_login_at: datetime | None = Field(default=None, sa_column=_at())


# A Bearer token for the JSON API; only its hash is stored.
class ApiToken(SQLModel, table=True):
    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    token_hash: str = Field(max_length=128, unique=True)
    prefix: str = Field(max_length=16)  # first characters, to recognise a token in lists
    role: str = Field(sa_column=_enum("token_role", ROLES))
    scope: str = Field(default="read", max_length=200)  # space-separated: read write review admin
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    department_id: int | None = Field(default=None, foreign_key="department.id")
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(sa_column=_created_at())
    last_used_at: datetime | None = Field(default=None, sa_column=_at())
    revoked_at: datetime | None = Field(default=None, sa_column=_at())
    expires_at: datetime | None = Field(default=None, sa_column=_at())  # refused from then on


# Who did what, when, to which record, with the values before and after. Append-only: the
# application's database role may only INSERT and SELECT here (app/services/audit.py), and each
# event is chained to the one before it in its stream by SHA-256 (`jixiao audit verify`).
class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (
        sa.Index("ix_audit_event_entity", "entity_type", "entity_id"),
        # one chain per stream; two writers taking the same number collide here and one retries
        sa.UniqueConstraint("stream", "seq"),
        sa.Index("ix_audit_event_at", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_created_at())
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    actor: str = Field(max_length=200)  # username, token name or "cli"
    action: str = Field(max_length=64)
    entity_type: str = Field(max_length=64)
    entity_id: int | None = None
    before: dict | None = Field(default=None, sa_column=sa.Column(JSONType))
    after: dict | None = Field(default=None, sa_column=sa.Column(JSONType))
    note: str | None = Field(default=None, sa_type=sa.Text)
    stream: str = Field(max_length=200)  # e.g. "self_evaluation:12", "project:7", "user:3"
    seq: int  # 1, 2, 3 … within the stream
    prev_hash: str = Field(max_length=64)  # the stream's previous event's hash (64 zeros for the first)
    hash: str = Field(max_length=64)  # SHA-256 over this event's content and prev_hash


LOGIN_THROTTLE_SCOPES = ("account", "address", "pair")


# Failed logins counted per account, per client address and per account-from-address: they set how
# long the next attempt must wait (growing delays, never a permanent lockout). In the database so that
# every replica of the app sees the same counts.
class LoginThrottle(SQLModel, table=True):
    __tablename__ = "login_throttle"
    __table_args__ = (sa.UniqueConstraint("scope", "key"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(sa_column=_enum("login_throttle_scope", LOGIN_THROTTLE_SCOPES))
    key: str = Field(max_length=500)  # the username (normalised), the address, or both
    failures: int = Field(default=0)
    last_failure_at: datetime | None = Field(default=None, sa_column=_at())
    blocked_until: datetime | None = Field(default=None, sa_column=_at())
    last_success_at: datetime | None = Field(default=None, sa_column=_at())


# A logged-in browser session. The cookie carries a random secret and only its SHA-256 is kept, so a
# session can be ended on the server (logout, a password change, disabling the user, an administrator)
# and every replica of the app sees it ended at once. last_seen_at is written at most once a minute.
class LoginSession(SQLModel, table=True):
    __tablename__ = "login_session"

    id: int | None = Field(default=None, primary_key=True)
    secret_hash: str = Field(max_length=64, unique=True)
    user_id: int = Field(foreign_key="app_user.id", index=True)
    created_at: datetime = Field(sa_column=_created_at())
    last_seen_at: datetime = Field(sa_column=_at(nullable=False))
    ended_at: datetime | None = Field(default=None, sa_column=_at())
    end_reason: str | None = Field(default=None, max_length=40)  # logout, password, disabled, admin, …
    address: str = Field(default="", max_length=100)


# One run of an import (file, progress, report), so the upload page can show progress.
class ImportRun(SQLModel, table=True):
    __tablename__ = "import_run"

    id: int | None = Field(default=None, primary_key=True)
    filename: str = Field(max_length=500)
    year: int | None = None
    dry_run: bool = Field(default=False)
    status: str = Field(default="pending", sa_column=_enum("import_status", IMPORT_STATUSES))
    rows_total: int | None = None
    rows_done: int = Field(default=0)
    report: dict | None = Field(default=None, sa_column=sa.Column(JSONType))
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(sa_column=_created_at())
    finished_at: datetime | None = Field(default=None, sa_column=_at())
    # Written every few seconds by the process running the import (PostgreSQL): any replica can tell a
    # live run from one whose process died (app.services.import_runs.fail_stale).
    heartbeat_at: datetime | None = Field(default=None, sa_column=_at())


# 专项资金: a special fund (e.g. 2019 省级促进经济高质量发展专项资金（信息化和信息产业发展）), created by
# the finance bureau or its 主管部门, allocated down a tree of FundNode rows (issue 12 §1).
class SpecialFund(SQLModel, table=True):
    __tablename__ = "special_fund"
    __table_args__ = (sa.UniqueConstraint("year", "department_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    name: str = Field(max_length=500)
    fiscal_power: str = Field(default="", max_length=200)  # 专项资金“财政事权”名称
    policy_tasks: int | None = None  # 对应“政策任务”数量
    total: Decimal = Field(sa_column=_money(nullable=False))  # 本次评价涉及的专项资金 (万元)
    department_id: int = Field(foreign_key="department.id", index=True)  # 主管部门
    template_name: str = Field(max_length=64)  # the item-scored template it is evaluated under
    # figures a report declared (e.g. a stated 资金支出率 97.42), kept beside the recomputed ones
    declared: dict = Field(default_factory=dict, sa_column=sa.Column(JSONType, nullable=False))
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    version: int = Field(default=1)  # optimistic locking of the fund and its tree
    created_at: datetime = Field(sa_column=_created_at())
    updated_at: datetime = Field(sa_column=_created_at())


# One node of a fund's allocation tree: a 处室, a 专题, an item (安排 N 万元用于 …) or a recipient
# (用款单位, or a city when the money goes by 因素法切块). Money in 万元, exact; 支出率, 到位率 and
# 结余 are computed (app/domain/funds.py), never stored.
class FundNode(SQLModel, table=True):
    __tablename__ = "fund_node"

    id: int | None = Field(default=None, primary_key=True)
    fund_id: int = Field(foreign_key="special_fund.id", index=True)
    parent_id: int | None = Field(default=None, foreign_key="fund_node.id", index=True)
    position: int = Field(default=0)  # order among its siblings
    kind: str = Field(sa_column=_enum("fund_node_kind", NODE_KINDS))
    name: str = Field(max_length=500)
    recipient_kind: str | None = Field(default=None, sa_column=_enum("recipient_kind", RECIPIENT_KINDS, nullable=True))
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)  # the recipient's account
    allocated: Decimal = Field(sa_column=_money(nullable=False))  # 下达金额
    arrived: Decimal | None = Field(default=None, sa_column=_money())  # 到位金额
    arrival_dates: str | None = Field(default=None, max_length=200)  # 到位时间, as written (2019年4月)
    spent: Decimal | None = Field(default=None, sa_column=_money())  # 实际支出 as entered
    implementation: str | None = Field(
        default=None, sa_column=_enum("fund_implementation", IMPLEMENTATIONS, nullable=True)
    )
    purpose: str | None = Field(default=None, sa_type=sa.Text)  # 用途 / 绩效目标, as written
    # a 处室's own evaluation score (the seed prints 100, 99, 96.2): shown, never summed into the total
    own_score: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(10, 2)))
    own_score_note: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = Field(sa_column=_created_at())
    updated_at: datetime = Field(sa_column=_created_at())


# A fund's self-evaluation: the same statuses and transition table as a project's
# (app/domain/evaluation.py TRANSITIONS, subject "fund"), scored item by item.
class FundEvaluation(SQLModel, table=True):
    __tablename__ = "fund_evaluation"

    id: int | None = Field(default=None, primary_key=True)
    fund_id: int = Field(foreign_key="special_fund.id", unique=True)
    status: str = Field(default=FIRST_STATUS, sa_column=_enum("fund_evaluation_status", EVALUATION_STATUSES))
    template_id: int = Field(foreign_key="scoring_template.id")
    total_score: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(10, 2)))
    grade: str | None = Field(default=None, max_length=2)
    submitted_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    submitted_at: datetime | None = Field(default=None, sa_column=_at())
    reviewed_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    reviewed_at: datetime | None = Field(default=None, sa_column=_at())
    review_opinion: str | None = Field(default=None, sa_type=sa.Text)
    version: int = Field(default=1)  # optimistic locking
    created_at: datetime = Field(sa_column=_created_at())
    updated_at: datetime = Field(sa_column=_created_at())


# One deduction an evaluator recorded against an item of the fund's template: points, reason,
# optionally the indicator or the node (recipient) it concerns.
class FundDeduction(SQLModel, table=True):
    __tablename__ = "fund_deduction"

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="fund_evaluation.id", index=True)
    item_code: str = Field(max_length=16)
    points: Decimal = Field(sa_column=sa.Column(ExactDecimal(10, 2), nullable=False))
    reason: str = Field(sa_type=sa.Text)
    indicator: str | None = Field(default=None, max_length=200)
    node_id: int | None = Field(default=None, foreign_key="fund_node.id")
    created_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(sa_column=_created_at())


def _count() -> sa.Column:
    return sa.Column(sa.Integer, nullable=False, server_default="0")


def _sum(scale: int) -> sa.Column:
    return sa.Column(ExactDecimal(24, scale), nullable=False, server_default="0")


# The figures of one unit in one year, kept by database triggers in the same transaction as every
# write to project, self_evaluation and indicator_result (saves, imports, deletions, transitions),
# so that statistics read a few thousand rows instead of scanning a million. A sum's `*_n` counts
# the values that were not empty (an all-empty sum is empty, as SQL's SUM is).
class UnitStats(SQLModel, table=True):
    __tablename__ = "unit_stats"

    year: int = Field(primary_key=True, sa_type=sa.Integer, sa_column_kwargs={"autoincrement": False})
    unit_id: int = Field(primary_key=True, sa_type=sa.Integer, sa_column_kwargs={"autoincrement": False})
    projects: int = Field(sa_column=_count())
    evaluations: int = Field(sa_column=_count())
    status_not_started: int = Field(sa_column=_count())
    status_draft: int = Field(sa_column=_count())
    status_submitted: int = Field(sa_column=_count())
    status_returned: int = Field(sa_column=_count())
    status_approved: int = Field(sa_column=_count())
    status_final: int = Field(sa_column=_count())
    scored: int = Field(sa_column=_count())  # handed in, with a total score
    score_sum: Decimal = Field(sa_column=_sum(2))
    grade_0: int = Field(sa_column=_count())  # grades in the order of app.domain.scoring.GRADES
    grade_1: int = Field(sa_column=_count())
    grade_2: int = Field(sa_column=_count())
    grade_3: int = Field(sa_column=_count())
    bin_0: int = Field(sa_column=_count())  # app.services.queries.SCORE_BINS
    bin_1: int = Field(sa_column=_count())
    bin_2: int = Field(sa_column=_count())
    bin_3: int = Field(sa_column=_count())
    bin_4: int = Field(sa_column=_count())
    bin_5: int = Field(sa_column=_count())
    bin_6: int = Field(sa_column=_count())
    bin_7: int = Field(sa_column=_count())
    bin_8: int = Field(sa_column=_count())
    bin_9: int = Field(sa_column=_count())
    budget_sum: Decimal = Field(sa_column=_sum(6))
    budget_n: int = Field(sa_column=_count())
    spent_sum: Decimal = Field(sa_column=_sum(6))
    spent_n: int = Field(sa_column=_count())
    budget_reported_sum: Decimal = Field(sa_column=_sum(6))  # budgets of the projects that report spending
    budget_reported_n: int = Field(sa_column=_count())
    unmet: int = Field(sa_column=_count())


# The 自评报告 a unit writes beside its 自评表 (issue 12 §3): the narrative of each section and the
# sign-off; the figures and tables are generated from the evaluation, never typed here.
class EvaluationReport(SQLModel, table=True):
    __tablename__ = "evaluation_report"

    id: int | None = Field(default=None, primary_key=True)
    evaluation_id: int = Field(foreign_key="self_evaluation.id", unique=True)
    basic: str | None = Field(default=None, sa_type=sa.Text)  # 一、基本情况
    scores: str | None = Field(default=None, sa_type=sa.Text)  # 二、（一）自评分数
    performance: str | None = Field(default=None, sa_type=sa.Text)  # 二、（二）使用绩效
    problems: str | None = Field(default=None, sa_type=sa.Text)  # 二、（三）存在的问题
    improvements: str | None = Field(default=None, sa_type=sa.Text)  # 三、改进意见
    filled_by: str | None = Field(default=None, max_length=50)  # 填表人
    phone: str | None = Field(default=None, max_length=40)  # 联系电话
    report_date: date | None = Field(default=None)  # 日期
    version: int = Field(default=1)  # optimistic locking, as the 自评表
    updated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime = Field(sa_column=_created_at())


# The 自评报告 of a 专项资金 (issue 12 §3): the same sections and sign-off as a project's
# (EvaluationReport); its tables come from the fund's tree, score and indicators.
class FundReport(SQLModel, table=True):
    __tablename__ = "fund_report"

    id: int | None = Field(default=None, primary_key=True)
    fund_id: int = Field(foreign_key="special_fund.id", unique=True)
    basic: str | None = Field(default=None, sa_type=sa.Text)  # 一、基本情况
    scores: str | None = Field(default=None, sa_type=sa.Text)  # 二、（一）自评分数
    performance: str | None = Field(default=None, sa_type=sa.Text)  # 二、（二）专项资金使用绩效
    problems: str | None = Field(default=None, sa_type=sa.Text)  # 二、（三）存在的问题
    improvements: str | None = Field(default=None, sa_type=sa.Text)  # 三、改进意见
    filled_by: str | None = Field(default=None, max_length=50)  # 填表人
    phone: str | None = Field(default=None, max_length=40)  # 联系电话
    report_date: date | None = Field(default=None)  # 日期
    version: int = Field(default=1)  # optimistic locking
    updated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    updated_at: datetime = Field(sa_column=_created_at())


# A 专项资金's own 绩效目标 indicator (产出 / 效益 …) with its actual: listed in the report, and scored
# by the indicator rules when it names an item of the fund's template scored "from indicators".
class FundIndicator(SQLModel, table=True):
    __tablename__ = "fund_indicator"

    id: int | None = Field(default=None, primary_key=True)
    fund_id: int = Field(foreign_key="special_fund.id", index=True)
    item_code: str | None = Field(default=None, max_length=16)  # the template item it counts for; None: listed
    level1: str = Field(max_length=32)  # output / outcome / satisfaction / cost
    level2: str | None = Field(default=None, max_length=32)  # quantity / quality / timeliness …
    name: str = Field(max_length=500)
    annual_target: str = Field(sa_type=sa.Text)  # 年度指标值, raw; parsed by the target parser when scored
    actual: str | None = Field(default=None, sa_type=sa.Text)  # 实际完成值, raw
    qualitative_level: str | None = Field(default=None, max_length=20)
    weight: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(10, 2)))  # 分值, optional
    deviation_reason: str | None = Field(default=None, sa_type=sa.Text)
    position: int = Field(default=0)
    created_at: datetime = Field(sa_column=_created_at())
    updated_at: datetime = Field(sa_column=_created_at())


# 调整: a request to change an approved 绩效目标表 (target values, 分值, goals) with a reason,
# reviewed like the table; the bureau's approval applies it as the table's next version. Each
# change keeps the value before it, so the self-evaluation shows the original beside it.
class TargetAdjustment(SQLModel, table=True):
    __tablename__ = "target_adjustment"
    __table_args__ = (sa.UniqueConstraint("project_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    number: int  # 1, 2, … per project
    status: str = Field(sa_column=_enum("adjustment_status", TARGET_STATUS_CODES))
    reason: str = Field(sa_type=sa.Text)
    # [{"indicator_id": id or None (a project field), "name": …, "field": …, "old": …, "new": …}]
    changes: list = Field(default_factory=list, sa_column=sa.Column(JSONType, nullable=False))
    requested_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    opinion: str | None = Field(default=None, sa_type=sa.Text)
    applied_version: int | None = None  # the table version it created
    version: int = Field(default=1)  # optimistic locking
    created_at: datetime = Field(sa_column=_created_at())
    updated_at: datetime = Field(sa_column=_created_at())


# 绩效运行监控 (双监控): a round the finance bureau opens for a year with a cut-off date (截至 6月30日);
# units report their projects' spending and indicator progress as of that date while it is open.
class MonitoringRound(SQLModel, table=True):
    __tablename__ = "monitoring_round"

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(foreign_key="fiscal_year.year", unique=True)
    cutoff_date: date
    status: str = Field(default=ROUND_OPEN, sa_column=_enum("monitoring_round_status", ROUND_STATUSES))
    opened_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    opened_at: datetime = Field(sa_column=_created_at())
    closed_at: datetime | None = Field(default=None, sa_column=_at())
    version: int = Field(default=1)  # optimistic locking


# One project's monitoring report in a round: 执行数 as of the cut-off (万元, exact); the version
# covers the report and all its indicator entries, as the 自评表's does.
class MonitoringReport(SQLModel, table=True):
    __tablename__ = "monitoring_report"
    __table_args__ = (sa.UniqueConstraint("round_id", "project_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="monitoring_round.id", index=True)
    project_id: int = Field(foreign_key="project.id", index=True)
    spent: Decimal | None = Field(default=None, sa_column=_money())  # 执行数 截至 the cut-off
    version: int = Field(default=1)  # optimistic locking
    updated_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    created_at: datetime = Field(sa_column=_created_at())
    updated_at: datetime = Field(sa_column=_created_at())


# One indicator's progress in a monitoring report: 完成值 so far and the unit's expected year-end
# value (raw as typed, plus the parse of the 自评表's parser), the expected share at the cut-off for
# seasonal work (百分点; empty: time-proportional), the unit's judgement where no number compares
# (a light), and for anything off track the reason and the corrective measure.
class MonitoringEntry(SQLModel, table=True):
    __tablename__ = "monitoring_entry"
    __table_args__ = (sa.UniqueConstraint("report_id", "indicator_id"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="monitoring_report.id", index=True)
    indicator_id: int = Field(foreign_key="indicator.id", index=True)
    progress: str | None = Field(default=None, sa_type=sa.Text)  # 完成值, raw
    progress_parsed: dict | None = Field(default=None, sa_column=sa.Column(JSONType))
    expected_year_end: str | None = Field(default=None, sa_type=sa.Text)  # 年末预计值, raw
    expected_parsed: dict | None = Field(default=None, sa_column=sa.Column(JSONType))
    expected_share: Decimal | None = Field(default=None, sa_column=sa.Column(ExactDecimal(7, 2)))
    judgement: str | None = Field(default=None, sa_column=_enum("monitoring_judgement", LIGHTS, nullable=True))
    reason: str | None = Field(default=None, sa_type=sa.Text)  # 偏差原因
    measure: str | None = Field(default=None, sa_type=sa.Text)  # 纠偏措施
    updated_at: datetime = Field(sa_column=_created_at())


# What a 佐证材料 (evidence attachment) may hang on: a 自评表, one of its indicator rows, a 专项资金
# or one node of its allocation tree.
ATTACHMENT_PARENTS = ("evaluation", "indicator", "fund", "fund_node")


# 佐证材料: a file a unit attaches as evidence. The bytes live on the filesystem under
# JIXIAO_FILES_DIR, addressed by their SHA-256 (app/services/attachments.py); the row holds what
# was uploaded, by whom and when, and the type sniffed from the content. Deleting marks the row.
class Attachment(SQLModel, table=True):
    __tablename__ = "attachment"
    __table_args__ = (sa.Index("ix_attachment_parent", "parent_kind", "parent_id"),)

    id: int | None = Field(default=None, primary_key=True)
    parent_kind: str = Field(sa_column=_enum("attachment_parent", ATTACHMENT_PARENTS))
    parent_id: int = Field(sa_type=sa.BigInteger)
    name: str = Field(max_length=255)  # the file name as uploaded
    size: int = Field(sa_type=sa.BigInteger)  # bytes
    content_type: str = Field(max_length=100)  # sniffed from the content, never the extension
    sha256: str = Field(max_length=64, index=True)
    uploaded_by_id: int | None = Field(default=None, foreign_key="app_user.id")
    uploader: str = Field(max_length=200)  # the uploader's name as shown then
    created_at: datetime = Field(sa_column=_created_at())
    deleted_at: datetime | None = Field(default=None, sa_column=_at())
    deleted_by_id: int | None = Field(default=None, foreign_key="app_user.id")
