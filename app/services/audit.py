"""Recording who did what: one audit event per change."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from app.models import AuditEvent
from app.security import Principal


def record(
    *,
    session: Session,
    actor: Principal | str,
    action: str,
    entity_type: str,
    entity_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    note: str | None = None,
) -> AuditEvent:
    """Add an audit event to the session (committed with the change it records)."""
    if isinstance(actor, Principal):
        user_id, name = actor.user_id, actor.name
    else:
        user_id, name = None, actor
    event = AuditEvent(
        user_id=user_id,
        actor=name,
        action=action,
        entity_type=entity_type,
        entity_id=entity_id,
        before=before,
        after=after,
        note=note,
    )
    session.add(event)
    return event
