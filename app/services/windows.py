"""填报期 (filing windows): when units may fill in and submit a year's self-evaluations.

A year without a window is open (see evaluations.window_is_open); the administrator or the
finance bureau sets the dates, and every change is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session, select

from app.domain.evaluation import MAX_YEAR, MIN_YEAR
from app.models import FilingWindow, FiscalYear, Project, User
from app.security import Principal
from app.services import audit
from app.services.errors import Problems
from app.services.evaluations import filing_window, window_is_open
from app.services.scope import require_role
from app.sqltypes import utcnow

MANAGERS = ("admin", "finance")


@dataclass
class WindowView:
    """One year's window as the pages and the API show it (dates None when unset)."""

    year: int
    opens_date: date | None
    closes_date: date | None
    is_open: bool
    updated_at: datetime | None
    updated_by: str | None

    @property
    def deadline_text(self) -> str:
        """The deadline as a unit reads it."""
        if self.opens_date is None and self.closes_date is None:
            return f"{self.year} 年度未设填报期，可随时填报"
        opens = self.opens_date.isoformat() if self.opens_date else "不限"
        closes = self.closes_date.isoformat() if self.closes_date else "不限"
        state = "填报中" if self.is_open else "不在填报期内"
        return f"{self.year} 年度填报期：{opens} 至 {closes}（{state}）"


def _view(session: Session, year: int, window: FilingWindow | None, today: date | None = None) -> WindowView:
    if window is None:
        return WindowView(year=year, opens_date=None, closes_date=None, is_open=True, updated_at=None, updated_by=None)
    user = session.get(User, window.updated_by_id) if window.updated_by_id else None
    return WindowView(
        year=year,
        opens_date=window.opens_date,
        closes_date=window.closes_date,
        is_open=window_is_open(window, today),
        updated_at=window.updated_at,
        updated_by=(user.display_name or user.username) if user else None,
    )


def get_window(*, session: Session, year: int, today: date | None = None) -> WindowView:
    """The window of a year (any signed-in role may read it: units need the deadline)."""
    return _view(session, year, filing_window(session=session, year=year), today)


def list_windows(*, session: Session, today: date | None = None) -> list[WindowView]:
    """Every year that has projects or a window, newest first."""
    years = set(session.exec(select(FiscalYear.year)).all())
    years |= set(session.exec(select(Project.year).distinct()).all())
    windows = {w.year: w for w in session.exec(select(FilingWindow)).all()}
    years |= set(windows)
    return [_view(session, y, windows.get(y), today) for y in sorted(years, reverse=True)]


def set_window(
    *, session: Session, principal: Principal, year: int, opens_date: date | None, closes_date: date | None
) -> WindowView:
    """Set (or clear, with both dates None) a year's filing window; admin or finance only."""
    require_role(principal, *MANAGERS)
    problems = Problems()
    if not MIN_YEAR <= year <= MAX_YEAR:
        problems.add("year", f"年度应在 {MIN_YEAR} 至 {MAX_YEAR} 之间")
    if opens_date and closes_date and closes_date < opens_date:
        problems.add("closes_date", "截止日期不能早于开始日期")
    problems.raise_if_any()
    if session.get(FiscalYear, year) is None:
        session.add(FiscalYear(year=year))
        session.flush()
    window = filing_window(session=session, year=year)
    before = None
    if window is None:
        window = FilingWindow(year=year)
    else:
        before = {"opens_date": _iso(window.opens_date), "closes_date": _iso(window.closes_date)}
    after = {"opens_date": _iso(opens_date), "closes_date": _iso(closes_date)}
    if before == after:
        session.rollback()
        return get_window(session=session, year=year)
    window.opens_date, window.closes_date = opens_date, closes_date
    window.updated_by_id = principal.user_id
    window.updated_at = utcnow()
    session.add(window)
    session.flush()
    audit.record(
        session=session,
        actor=principal,
        action="filing_window.set",
        entity_type="filing_window",
        entity_id=window.id,
        before=before,
        after={"year": year, **after},
    )
    session.commit()
    return _view(session, year, window)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None
