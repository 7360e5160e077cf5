"""What token scope each /api/v1 route needs, declared on the route itself, checked in one place.

A route says `@requires("review")` under its `@router.post(...)`; the dependency `check_scope`
(added to every /api/v1 router in app/api/router.py) refuses a token without that scope with a
403 in Chinese. A session (the web pages) has no scopes: its role decides, as everywhere.
Anonymous callers pass here and are refused by the route's own authentication (401).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi import Request

from app.auth import OptionalPrincipalDep
from app.services.errors import PermissionDenied
from app.services.tokens import SCOPE_LABELS

F = TypeVar("F", bound=Callable)
ATTRIBUTE = "required_scope"


def requires(scope: str) -> Callable[[F], F]:
    """Declare the token scope a route needs (read, write, review or admin)."""
    if scope not in SCOPE_LABELS:
        raise ValueError(f"unknown token scope {scope!r}")

    def mark(endpoint: F) -> F:
        setattr(endpoint, ATTRIBUTE, scope)
        return endpoint

    return mark


def required_scope(endpoint: Callable) -> str | None:
    return getattr(endpoint, ATTRIBUTE, None)


async def check_scope(request: Request, principal: OptionalPrincipalDep) -> None:
    # async: no I/O, so no hop to the threadpool on every /api/v1 request
    if principal is None or principal.scopes is None:
        return
    needed = required_scope(request.scope.get("endpoint"))
    if needed is None:  # a route nobody declared: closed to tokens (the route-table test names it)
        raise PermissionDenied("此接口未声明所需的令牌权限，令牌不能调用")
    if needed not in principal.scopes:
        held = "、".join(f"{SCOPE_LABELS[s]}（{s}）" for s in principal.scopes if s in SCOPE_LABELS) or "无"
        raise PermissionDenied(
            f"此令牌没有「{SCOPE_LABELS[needed]}」权限（{needed}），不能调用 {request.method} {request.url.path}；"
            f"它的权限是：{held}。请由管理员用 jixiao tokens create --scope {needed} 换发令牌"
        )
