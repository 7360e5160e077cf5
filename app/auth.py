"""The request dependencies both faces use to know the caller: a Bearer token or the session
cookie, turned into a plain `Principal` (app/security.py) for the services."""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlmodel import Session

from app.db import SessionDep
from app.security import SESSION_COOKIE, Principal, principal_for_user
from app.services import sessions, tokens
from app.services.errors import NotAuthenticated


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    return None


# The request's caller (None: anonymous) once looked up: by RequestLimitMiddleware (app/main.py) before
# reading the body (a save would otherwise look its token or session up twice), or by optional_principal.
RESOLVED = "jixiao.principal"


async def optional_principal(request: Request, session: SessionDep) -> Principal | None:
    """The caller, from a Bearer token or the session cookie; None when anonymous."""
    scope = request.scope
    if RESOLVED in scope:
        # found before the body was read, or by an earlier dependency of this request: no lookup, and
        # no hop to the threadpool for it
        return scope[RESOLVED]
    principal = await anyio.to_thread.run_sync(look_up_principal, request, session)
    scope[RESOLVED] = principal
    return principal


def look_up_principal(request: Request, session: Session) -> Principal | None:
    """The caller of the request's Bearer token or session cookie (queries: run it on a thread)."""
    token = _bearer(request)
    if token is not None:
        principal = tokens.authenticate(session=session, token=token)
        if principal is None:
            raise NotAuthenticated("令牌无效或已被吊销")
        return principal
    user = sessions.resolve(
        session=session,
        secret=request.cookies.get(SESSION_COOKIE),
        timeouts=sessions.timeouts_of(request.app.state.settings),
        now=request.app.state.clock(),
    )
    return principal_for_user(user) if user else None


async def require_principal(request: Request, session: SessionDep) -> Principal:
    # async: no I/O here, so no hop to the threadpool (FastAPI runs a sync dependency on a thread).
    # It asks optional_principal itself rather than through Depends: the caller is looked up once either
    # way (the API's scope check asked first), and FastAPI solves one dependency fewer on every request.
    principal = await optional_principal(request, session)
    if principal is None:
        raise NotAuthenticated("请先登录")
    return principal


PrincipalDep = Annotated[Principal, Depends(require_principal)]
OptionalPrincipalDep = Annotated[Principal | None, Depends(optional_principal)]
