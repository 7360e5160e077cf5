"""Dependencies of the pages: the logged-in user, put where templates can see it."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.auth import OptionalPrincipalDep
from app.security import Principal
from app.services.errors import NotAuthenticated


async def page_principal(request: Request, principal: OptionalPrincipalDep) -> Principal:
    """The logged-in user of a page; anonymous visitors are sent to /login."""
    # async: no I/O here, so no hop to the threadpool (FastAPI runs a sync dependency on a thread)
    if principal is None:
        raise NotAuthenticated("请先登录")
    request.state.principal = principal
    return principal


PagePrincipal = Annotated[Principal, Depends(page_principal)]
