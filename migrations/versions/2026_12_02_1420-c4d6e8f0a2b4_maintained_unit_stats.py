"""maintained unit stats: unit_stats kept by triggers; unit and department on indicator_result

Statistics per unit and per department were full scans of project, self_evaluation and
indicator_result (~570 ms each at province scale, issue 14). `unit_stats` holds one row per
(year, unit) with the counts and sums the statistics need; row-level triggers keep it in the same
transaction as every insert, update and delete of project, self_evaluation and indicator_result,
whoever writes (the app, an import's bulk insert, the CLI, psql). The same logic is generated
for PostgreSQL (PL/pgSQL) and SQLite (trigger bodies), from one description below.

`indicator_result` gains `unit_id` and `department_id` (copied from indicator → project → unit by
a trigger on insert, and when a unit changes department) and a partial index
(year, department_id, indicator_id) WHERE NOT met: a department's unmet list reads its own entries.

A project's unit and year never change (the app creates a new project instead): a trigger
refuses it, since the maintained figures and the copied unit would no longer follow.

The words below (status codes, grades) are frozen copies of app/domain at the time of writing:
a migration must not change meaning when the domain module later does.

Revision ID: c4d6e8f0a2b4
Revises: c4d8e2f6a1b3
Create Date: 2026-12-02 14:20:00

"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.sqltypes

# revision identifiers, used by Alembic.
revision: str = "c4d6e8f0a2b4"
down_revision: str | Sequence[str] | None = "c4d8e2f6a1b3"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATUSES = ("not_started", "draft", "submitted", "returned", "approved", "final")
HANDED_IN = ("submitted", "approved", "final")
GRADES = ("优", "良", "中", "差")
BINS = tuple((lo, lo + 10) for lo in range(0, 100, 10))  # the last one includes 100
SCORE_SCALE = 2  # ExactDecimal(10, 2): SQLite stores score × 100

COUNTS = (
    "projects",
    "evaluations",
    *(f"status_{s}" for s in STATUSES),
    "scored",
    *(f"grade_{i}" for i in range(len(GRADES))),
    *(f"bin_{i}" for i in range(len(BINS))),
    "budget_n",
    "spent_n",
    "budget_reported_n",
    "unmet",
)
SUMS = {"score_sum": 2, "budget_sum": 6, "spent_sum": 6, "budget_reported_sum": 6}


def _case(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _terms(table: str, x: str, sqlite: bool) -> tuple[str, str, list[tuple[str, str]]]:
    """(unit id expression, year expression, [(column, contribution)]) of row `x` of `table`."""
    if table == "project":
        return (
            f"{x}.unit_id",
            f"{x}.year",
            [
                ("projects", "1"),
                ("budget_sum", f"COALESCE({x}.budget, 0)"),
                ("budget_n", _case(f"{x}.budget IS NOT NULL")),
                ("spent_sum", f"COALESCE({x}.spent, 0)"),
                ("spent_n", _case(f"{x}.spent IS NOT NULL")),
                ("budget_reported_sum", f"CASE WHEN {x}.spent IS NOT NULL THEN COALESCE({x}.budget, 0) ELSE 0 END"),
                ("budget_reported_n", _case(f"{x}.spent IS NOT NULL AND {x}.budget IS NOT NULL")),
            ],
        )
    if table == "self_evaluation":
        handed_in = ", ".join(f"'{s}'" for s in HANDED_IN)
        counted = f"{x}.status IN ({handed_in}) AND {x}.total_score IS NOT NULL"
        scale = 10**SCORE_SCALE if sqlite else 1
        terms = [("evaluations", "1")]
        terms += [(f"status_{s}", _case(f"{x}.status = '{s}'")) for s in STATUSES]
        terms += [("scored", _case(counted)), ("score_sum", f"CASE WHEN {counted} THEN {x}.total_score ELSE 0 END")]
        terms += [(f"grade_{i}", _case(f"{counted} AND {x}.grade = '{g}'")) for i, g in enumerate(GRADES)]
        for i, (lo, hi) in enumerate(BINS):
            upper = "<=" if i == len(BINS) - 1 else "<"
            score = f"{x}.total_score"
            terms.append((f"bin_{i}", _case(f"{counted} AND {score} >= {lo * scale} AND {score} {upper} {hi * scale}")))
        return f"(SELECT p.unit_id FROM project p WHERE p.id = {x}.project_id)", f"{x}.year", terms
    if table == "indicator_result":
        unit = (
            f"(SELECT p.unit_id FROM indicator i JOIN project p ON p.id = i.project_id WHERE i.id = {x}.indicator_id)"
        )
        return unit, f"{x}.year", [("unmet", _case(f"NOT {x}.met"))]
    raise ValueError(table)


def _upsert(table: str, x: str, sign: int, sqlite: bool) -> str:
    unit, year, terms = _terms(table, x, sqlite)
    columns = ", ".join(c for c, _ in terms)
    values = ", ".join(f"{sign} * ({e})" for _, e in terms)
    sets = ", ".join(f"{c} = unit_stats.{c} + excluded.{c}" for c, _ in terms)
    return (
        f"INSERT INTO unit_stats (year, unit_id, {columns}) "
        f"SELECT k.year, k.unit_id, {values} FROM (SELECT {year} AS year, {unit} AS unit_id) AS k "
        f"WHERE k.unit_id IS NOT NULL "
        f"ON CONFLICT (year, unit_id) DO UPDATE SET {sets}"
    )


# the columns whose change moves a row's contribution
WATCHED = {
    "project": ("unit_id", "year", "budget", "spent"),
    "self_evaluation": ("project_id", "year", "status", "total_score", "grade"),
    "indicator_result": ("indicator_id", "year", "met"),
}
RESULT_PLACE = (
    "SELECT p.unit_id, u.department_id FROM indicator i JOIN project p ON p.id = i.project_id "
    "JOIN unit u ON u.id = p.unit_id WHERE i.id = {x}.indicator_id"
)
FIXED_MESSAGE = "project.unit_id and project.year do not change (create a new project instead)"


def _postgresql_up() -> None:
    for table, watched in WATCHED.items():
        op.execute(
            f"""
CREATE FUNCTION unit_stats_{table}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        {_upsert(table, "OLD", -1, False)};
    END IF;
    IF TG_OP IN ('UPDATE', 'INSERT') THEN
        {_upsert(table, "NEW", 1, False)};
    END IF;
    RETURN NULL;
END $$"""
        )
        changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in watched)
        op.execute(
            f"CREATE TRIGGER unit_stats_{table}_write AFTER INSERT OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION unit_stats_{table}()"
        )
        op.execute(
            f"CREATE TRIGGER unit_stats_{table}_update AFTER UPDATE ON {table} "
            f"FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION unit_stats_{table}()"
        )
    op.execute(
        f"""
CREATE FUNCTION indicator_result_place() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {RESULT_PLACE.format(x="NEW").replace("SELECT p.unit_id, u.department_id", "SELECT p.unit_id, u.department_id INTO NEW.unit_id, NEW.department_id")};
    RETURN NEW;
END $$"""
    )
    op.execute(
        "CREATE TRIGGER indicator_result_place BEFORE INSERT OR UPDATE OF indicator_id ON indicator_result "
        "FOR EACH ROW EXECUTE FUNCTION indicator_result_place()"
    )
    op.execute(
        """
CREATE FUNCTION unit_department_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE indicator_result SET department_id = NEW.department_id WHERE unit_id = NEW.id;
    RETURN NULL;
END $$"""
    )
    op.execute(
        "CREATE TRIGGER unit_department_moved AFTER UPDATE OF department_id ON unit FOR EACH ROW "
        "WHEN (OLD.department_id IS DISTINCT FROM NEW.department_id) EXECUTE FUNCTION unit_department_moved()"
    )
    op.execute(
        f"""
CREATE FUNCTION project_place_fixed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '{FIXED_MESSAGE}';
END $$"""
    )
    op.execute(
        "CREATE TRIGGER project_place_fixed BEFORE UPDATE OF unit_id, year ON project FOR EACH ROW "
        "WHEN (OLD.unit_id IS DISTINCT FROM NEW.unit_id OR OLD.year IS DISTINCT FROM NEW.year) "
        "EXECUTE FUNCTION project_place_fixed()"
    )


def _sqlite_up() -> None:
    for table, watched in WATCHED.items():
        op.execute(
            f"CREATE TRIGGER unit_stats_{table}_insert AFTER INSERT ON {table} BEGIN "
            f"{_upsert(table, 'NEW', 1, True)}; END"
        )
        op.execute(
            f"CREATE TRIGGER unit_stats_{table}_delete AFTER DELETE ON {table} BEGIN "
            f"{_upsert(table, 'OLD', -1, True)}; END"
        )
        changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watched)
        op.execute(
            f"CREATE TRIGGER unit_stats_{table}_update AFTER UPDATE OF {', '.join(watched)} ON {table} "
            f"WHEN {changed} BEGIN {_upsert(table, 'OLD', -1, True)}; {_upsert(table, 'NEW', 1, True)}; END"
        )
    place = RESULT_PLACE.format(x="NEW")
    op.execute(
        "CREATE TRIGGER indicator_result_place AFTER INSERT ON indicator_result BEGIN "
        f"UPDATE indicator_result SET (unit_id, department_id) = ({place}) WHERE id = NEW.id; END"
    )
    op.execute(
        "CREATE TRIGGER indicator_result_replace AFTER UPDATE OF indicator_id ON indicator_result BEGIN "
        f"UPDATE indicator_result SET (unit_id, department_id) = ({place}) WHERE id = NEW.id; END"
    )
    op.execute(
        "CREATE TRIGGER unit_department_moved AFTER UPDATE OF department_id ON unit "
        "WHEN OLD.department_id IS NOT NEW.department_id BEGIN "
        "UPDATE indicator_result SET department_id = NEW.department_id WHERE unit_id = NEW.id; END"
    )
    op.execute(
        "CREATE TRIGGER project_place_fixed BEFORE UPDATE OF unit_id, year ON project "
        "WHEN OLD.unit_id IS NOT NEW.unit_id OR OLD.year IS NOT NEW.year BEGIN "
        f"SELECT RAISE(ABORT, '{FIXED_MESSAGE}'); END"
    )


def _backfill(sqlite: bool) -> None:
    op.execute(
        "UPDATE indicator_result SET unit_id = (SELECT p.unit_id FROM indicator i JOIN project p "
        "ON p.id = i.project_id WHERE i.id = indicator_result.indicator_id), department_id = "
        "(SELECT u.department_id FROM indicator i JOIN project p ON p.id = i.project_id JOIN unit u "
        "ON u.id = p.unit_id WHERE i.id = indicator_result.indicator_id)"
    )
    # each table's contributions, summed per (year, unit), added up: the same terms as the triggers
    for table in WATCHED:
        unit, year, terms = _terms(table, "x", sqlite)
        columns = ", ".join(c for c, _ in terms)
        sums = ", ".join(f"SUM({e})" for _, e in terms)
        sets = ", ".join(f"{c} = unit_stats.{c} + excluded.{c}" for c, _ in terms)
        op.execute(
            f"INSERT INTO unit_stats (year, unit_id, {columns}) "
            f"SELECT k_year, k_unit, {sums} FROM (SELECT x.*, {year} AS k_year, {unit} AS k_unit FROM {table} x) AS x "
            f"WHERE k_unit IS NOT NULL GROUP BY k_year, k_unit "
            f"ON CONFLICT (year, unit_id) DO UPDATE SET {sets}"
        )


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    count = {"nullable": False, "server_default": "0"}
    op.create_table(
        "unit_stats",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit_id", sa.Integer(), autoincrement=False, nullable=False),
        *[
            sa.Column(c, app.sqltypes.ExactDecimal(24, SUMS[c]), **count)
            if c in SUMS
            else sa.Column(c, sa.Integer(), **count)
            for c in (
                "projects",
                "evaluations",
                *(f"status_{s}" for s in STATUSES),
                "scored",
                "score_sum",
                *(f"grade_{i}" for i in range(len(GRADES))),
                *(f"bin_{i}" for i in range(len(BINS))),
                "budget_sum",
                "budget_n",
                "spent_sum",
                "spent_n",
                "budget_reported_sum",
                "budget_reported_n",
                "unmet",
            )
        ],
        sa.PrimaryKeyConstraint("year", "unit_id", name=op.f("pk_unit_stats")),
    )
    with op.batch_alter_table("indicator_result", schema=None) as batch_op:
        batch_op.add_column(sa.Column("unit_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("department_id", sa.Integer(), nullable=True))
    _backfill(sqlite)
    op.create_index(
        "ix_indicator_result_department_unmet",
        "indicator_result",
        ["year", "department_id", "indicator_id"],
        unique=False,
        postgresql_where=sa.text("NOT met"),
        sqlite_where=sa.text("NOT met"),
    )
    op.create_index("ix_indicator_result_unit", "indicator_result", ["unit_id", "year", "indicator_id"], unique=False)
    if sqlite:
        _sqlite_up()
    else:
        _postgresql_up()


def downgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    triggers = {
        "project": ["project_place_fixed"],
        "unit": ["unit_department_moved"],
        "indicator_result": ["indicator_result_place"],
    }
    for table in WATCHED:
        names = [f"unit_stats_{table}_update"]
        names += (
            [f"unit_stats_{table}_insert", f"unit_stats_{table}_delete"] if sqlite else [f"unit_stats_{table}_write"]
        )
        triggers.setdefault(table, []).extend(names)
    if sqlite:
        triggers["indicator_result"].append("indicator_result_replace")
    for table, names in triggers.items():
        for name in names:
            op.execute(f"DROP TRIGGER IF EXISTS {name}" + ("" if sqlite else f" ON {table}"))
    if not sqlite:
        functions = ["project_place_fixed", "unit_department_moved", "indicator_result_place"]
        functions += [f"unit_stats_{table}" for table in WATCHED]
        for name in functions:
            op.execute(f"DROP FUNCTION IF EXISTS {name}()")
    op.drop_index("ix_indicator_result_unit", table_name="indicator_result")
    op.drop_index("ix_indicator_result_department_unmet", table_name="indicator_result")
    with op.batch_alter_table("indicator_result", schema=None) as batch_op:
        batch_op.drop_column("department_id")
        batch_op.drop_column("unit_id")
    op.drop_table("unit_stats")
