"""Province-scale data for the benchmark, seeded and reproducible.

A template of one department's worth of rows (10 units, 200 projects, 2,072 indicators) is made
by jixiao itself — imported through its import path, actuals saved and some evaluations sent in
through its services — so every row is one jixiao would write. The template is then copied by
COPY into a schema built by the project's Alembic migrations: at scale 1, 500 copies make
60 departments, 5,000 units, 100,000 projects, 1,036,000 indicators in one year, results for
80% of them. `scale` shrinks the number of copies.
"""

from __future__ import annotations

import csv
import io
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass

import psycopg
import sqlalchemy as sa
from sqlmodel import Session, select

from bench.tables import HEADER, LEVELS, NAMES, target_values

YEAR = 2025
UNITS_PER_COPY = 10
PROJECTS_PER_UNIT = 20
FULL_COPIES = 500  # 5,000 units, 100,000 projects, 1,036,000 indicators
DEPARTMENTS = 60
RESULT_SHARE = 0.8  # indicators with an actual saved
UNMET_SHARE = 0.25  # of those, saved short of the target
SUBMITTED_SHARE = 0.3  # evaluations sent in (the review queue)
TOKEN_PREFIX = "bench-"
SECRET_KEY = "bench-secret-key-0123456789abcdef-not-a-real-one"
FINANCE_USER = 1_000_000


def indicators_in(p: int) -> int:
    """10 or 11 indicators per project: 10.36 on average, 1,036,000 for 100,000 projects."""
    return 11 if p % 25 < 9 else 10


def template_csv(seed: int) -> bytes:
    """The template's 绩效目标表 as csv, in the import template's shape."""
    rng = random.Random(seed)
    targets = target_values()
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(HEADER)
    for p in range(UNITS_PER_COPY * PROJECTS_PER_UNIT):
        unit = p // PROJECTS_PER_UNIT
        budget = f"{rng.randint(10, 5000)}.{rng.randint(0, 9999):04d}"
        for i in range(indicators_in(p)):
            level1, level2 = LEVELS[i % len(LEVELS)]
            target = rng.choice(targets)
            w.writerow(
                [
                    YEAR,
                    "基准主管部门T",
                    f"基准单位T{unit:02d}",
                    f"T{unit:02d}",
                    f"基准项目{p:04d}",
                    f"BP{p:06d}",
                    budget,
                    "实施周期目标说明",
                    "年度目标说明",
                    level1,
                    level2,
                    f"{rng.choice(NAMES)}{i}",
                    target,
                    target,
                    "",
                ]
            )
    return buf.getvalue().encode("utf-8-sig")


def build_template(url: str, *, seed: int = 2025) -> None:
    """Import the template table into an empty migrated database and fill it through jixiao's services."""
    from app.db import make_engine
    from app.models import Indicator, Project, SelfEvaluation
    from app.security import Principal
    from app.services import evaluations, imports
    from app.services.errors import DomainError, ValidationFailed
    from app.services.evaluations import ResultInput
    from app.settings import load_settings

    rng = random.Random(seed)
    engine = make_engine(load_settings(DATABASE_URL=url, DB_POOL_SIZE=2))
    with Session(engine) as session:
        report = imports.import_file(session=session, data=template_csv(seed), filename="template.csv", year=YEAR)
        if not report.ok:
            raise SystemExit(f"template import failed: {report.errors[:3]}")
        evaluations.ensure_evaluations(session=session, year=YEAR)
        rows = session.execute(
            select(SelfEvaluation.id, Project.unit_id)
            .join(Project, Project.id == SelfEvaluation.project_id)
            .order_by(SelfEvaluation.id)
        ).all()
    for evaluation_id, unit_id in rows:
        with Session(engine) as session:
            principal = Principal(role="unit", name="bench", unit_id=unit_id)
            ev = session.get(SelfEvaluation, evaluation_id)
            inds = session.exec(
                select(Indicator)
                .join(Project, Project.id == Indicator.project_id)
                .where(Project.id == ev.project_id)
                .order_by(Indicator.position)
            ).all()
            chosen = [i for i in inds if rng.random() < RESULT_SHARE]
            inputs = [ResultInput(indicator_id=i.id, actual=_actual(i, rng)) for i in chosen]
            try:
                evaluations.save(
                    session=session,
                    principal=principal,
                    evaluation_id=evaluation_id,
                    version=ev.version,
                    results=inputs,
                    spent=str(rng.randint(1, 400)),
                )
            except ValidationFailed as exc:  # an actual the parser refuses: keep the others
                bad = {e.field for e in exc.errors}
                keep = [
                    r
                    for n, r in enumerate(inputs)
                    if not any(f.startswith(f"results[{n}]") or f.startswith(f"results[{r.indicator_id}]") for f in bad)
                ]
                session.rollback()
                ev = session.get(SelfEvaluation, evaluation_id)
                evaluations.save(
                    session=session, principal=principal, evaluation_id=evaluation_id, version=ev.version, results=keep
                )
        if rng.random() < SUBMITTED_SHARE:
            with Session(engine) as session:
                try:
                    evaluations.submit(session=session, principal=principal, evaluation_id=evaluation_id)
                except DomainError:
                    pass  # incomplete evaluations stay drafts
    # Sending in needs every row complete (qualitative levels, reasons): for the review queue a
    # share of the filled evaluations is marked as sent in, as a submit would leave them.
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "UPDATE self_evaluation SET status = 'submitted', submitted_at = now() - (id || ' minutes')::interval"
                " WHERE status <> 'not_started' AND id % 10 < :share"
            ),
            {"share": round(SUBMITTED_SHARE * 10)},
        )
    engine.dispose()


def _actual(ind, rng: random.Random) -> str:
    """The target itself (met) or, for a quantity, a figure short of it."""
    target = ind.annual_target or ""
    if ind.target_kind == "quantity" and ind.target_value and rng.random() < UNMET_SHARE * 2:
        try:
            value = float(ind.target_value)
        except ValueError:
            return target
        if ind.target_op in (">=", ">", "=") and value > 0:
            return f"{value * 0.5:g}{ind.target_unit_raw or ''}"
        if ind.target_op in ("<=", "<"):
            return f"{value * 2 + 1:g}{ind.target_unit_raw or ''}"
    return target


# --- the province: the template copied by COPY ----------------------------------------------------

# per table: (column whose value is the row's own id, {foreign key column: table it points to})
REPLICATED = {
    "project": {"unit_id": "unit"},
    "indicator": {"project_id": "project"},
    "self_evaluation": {"project_id": "project"},
    "indicator_result": {"self_evaluation_id": "self_evaluation", "indicator_id": "indicator"},
}
AS_IS = ("fiscal_year", "scoring_template", "template_choice", "filing_window")


@dataclass
class Province:
    copies: int
    departments: int
    units: int
    projects: int
    indicators: int
    results: int
    evaluations: int
    seconds: float


def copies_for(scale: float) -> int:
    return max(1, round(FULL_COPIES * scale))


def _copy_out(conn: psycopg.Connection, table: str) -> tuple[list[str], list[list[str]]]:
    cols = [
        r[0]
        for r in conn.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
            (table,),
        ).fetchall()
    ]
    buf = bytearray()
    with conn.cursor().copy(f"COPY (SELECT * FROM {table} ORDER BY 1) TO STDOUT") as cp:
        for chunk in cp:
            buf += chunk
    lines = bytes(buf).decode().splitlines()
    return cols, [line.split("\t") for line in lines]


def load_province(template_url: str, url: str, *, scale: float) -> Province:
    """Copy the template `copies_for(scale)` times into the migrated database at `url` (libpq URL)."""
    start = time.perf_counter()
    copies = copies_for(scale)
    n_units = copies * UNITS_PER_COPY
    n_depts = min(DEPARTMENTS, n_units)
    with psycopg.connect(template_url) as src, psycopg.connect(url) as dst:
        tpl = {t: _copy_out(src, t) for t in (*AS_IS, *REPLICATED)}
        max_id = {t: max((int(r[0]) for r in rows), default=0) for t, (_, rows) in tpl.items()}
        max_id["unit"] = UNITS_PER_COPY
        tpl_units = {int(r[0]): n for n, r in enumerate(sorted(_copy_out(src, "unit")[1], key=lambda r: int(r[0])))}
        with dst.cursor() as cur:
            for t in AS_IS:
                cols, rows = tpl[t]
                if rows:
                    _write(cur, t, cols, ("\t".join(r) for r in rows))
            _write(
                cur,
                "department",
                ["id", "code", "name", "created_at"],
                (f"{d}\tD{d:03d}\t基准主管部门{d:03d}\t2025-01-01 00:00:00+00" for d in range(1, n_depts + 1)),
            )
            _write(
                cur,
                "unit",
                ["id", "code", "name", "name_key", "department_id", "created_at"],
                (
                    f"{u}\tU{u:05d}\t基准单位{u:05d}\t基准单位{u:05d}\t{(u - 1) * n_depts // n_units + 1}"
                    f"\t2025-01-01 00:00:00+00"
                    for u in range(1, n_units + 1)
                ),
            )
            for t, fks in REPLICATED.items():
                cols, rows = tpl[t]
                # denormalised unit and department columns (kept by triggers, e.g. on indicator_result)
                # follow the copy's unit like the foreign keys do
                fks = {**fks, **{c: c.removesuffix("_id") for c in ("unit_id", "department_id") if c in cols}}
                where = {c: cols.index(c) for c in fks}

                def lines(rows=rows, where=where, fks=fks, t=t):
                    for k in range(copies):
                        for r in rows:
                            r = list(r)
                            r[0] = str(int(r[0]) + k * max_id[t])
                            for c, i in where.items():
                                target = fks[c]
                                if r[i] == "\\N":
                                    continue
                                if target == "unit":
                                    r[i] = str(k * UNITS_PER_COPY + tpl_units[int(r[i])] + 1)
                                elif target == "department":
                                    if "unit_id" in where:
                                        unit = int(r[where["unit_id"]])  # mapped above: unit_id comes first
                                        r[i] = str((unit - 1) * n_depts // n_units + 1)
                                else:
                                    r[i] = str(int(r[i]) + k * max_id[target])
                            yield "\t".join(r)

                _write(cur, t, cols, lines())
            for t in ("department", "unit", *REPLICATED, "scoring_template"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{t}', 'id'), (SELECT max(id) FROM {t}))")
        dst.commit()
        dst.autocommit = True
        dst.execute("VACUUM ANALYZE")
        counts = {t: dst.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in REPLICATED}
    return Province(
        copies=copies,
        departments=n_depts,
        units=n_units,
        projects=counts["project"],
        indicators=counts["indicator"],
        results=counts["indicator_result"],
        evaluations=counts["self_evaluation"],
        seconds=time.perf_counter() - start,
    )


def _write(cur: psycopg.Cursor, table: str, cols: list[str], lines: Iterator[str]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as cp:
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) >= 5000:
                cp.write(("\n".join(batch) + "\n").encode())
                batch.clear()
        if batch:
            cp.write(("\n".join(batch) + "\n").encode())


@dataclass
class Credentials:
    finance_token: str
    unit_tokens: dict[int, str]  # unit id -> a read+write token of that unit
    finance_cookie: str
    unit_cookies: dict[int, str]  # unit id -> a session cookie of that unit's user


def add_credentials(url: str, *, units: int) -> Credentials:
    """A finance token and login, and one token and one login per unit, written by COPY; each login has
    a live session (login_session rows, as a login would leave them), whose secret is the cookie."""
    from app.security import hash_password, session_digest, token_digest

    pw = hash_password("bench-password-1")
    now = "2025-06-01 00:00:00+00"
    unit_tokens = {u: f"{TOKEN_PREFIX}unit-{u}" for u in range(1, units + 1)}
    finance = f"{TOKEN_PREFIX}finance"
    cookies = {u: f"bench-session-{u}" for u in (*unit_tokens, FINANCE_USER)}
    users = [
        "id",
        "username",
        "display_name",
        "password_hash",
        "role",
        "unit_id",
        "department_id",
        "is_active",
        "created_at",
    ]
    tokens = ["name", "token_hash", "prefix", "role", "scope", "unit_id", "created_at", "last_used_at"]
    with psycopg.connect(url) as conn, conn.cursor() as cur:
        _write(
            cur,
            "app_user",
            users,
            [f"{FINANCE_USER}\tbench-finance\t财政局\t{pw}\tfinance\t\\N\t\\N\tt\t{now}"]
            + [f"{u}\tbench-u{u}\t\t{pw}\tunit\t{u}\t\\N\tt\t{now}" for u in unit_tokens],
        )
        _write(
            cur,
            "api_token",
            tokens,
            [f"bench-finance\t{token_digest(finance)}\tbench-fin\tfinance\tread\t\\N\t{now}\t\\N"]
            + [
                f"bench-unit-{u}\t{token_digest(t)}\tbench-u\tunit\tread write\t{u}\t{now}\t\\N"
                for u, t in unit_tokens.items()
            ],
        )
        # last seen now: the sessions' idle timeout (30 minutes) outlasts the run
        cur.execute("SELECT now()")
        seen = cur.fetchone()[0].isoformat()
        _write(
            cur,
            "login_session",
            ["secret_hash", "user_id", "created_at", "last_seen_at", "address"],
            [f"{session_digest(c)}\t{u}\t{seen}\t{seen}\t127.0.0.1" for u, c in cookies.items()],
        )
        cur.execute(f"SELECT setval(pg_get_serial_sequence('app_user', 'id'), {FINANCE_USER})")
        conn.commit()
    return Credentials(
        finance_token=finance,
        unit_tokens=unit_tokens,
        finance_cookie=cookies[FINANCE_USER],
        unit_cookies={u: cookies[u] for u in unit_tokens},
    )
