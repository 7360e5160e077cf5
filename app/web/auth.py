"""Login and logout pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from app.auth import OptionalPrincipalDep
from app.db import SessionDep
from app.security import SESSION_COOKIE
from app.services import accounts, logins, sessions
from app.web.render import render
from app.web.toolkit import see_other

router = APIRouter()


def _safe_next(value: str | None) -> str:
    # Only local paths: never an open redirect to another site.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@router.get("/login")
def login_page(request: Request, principal: OptionalPrincipalDep, next: str | None = None):
    """The login form."""
    if principal is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render(request, "auth/login.html", {"next": _safe_next(next)})


@router.post("/login")
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=200)] = "",
    password: Annotated[str, Form(max_length=500)] = "",
    next: Annotated[str, Form(max_length=500)] = "/",
):
    """Check the credentials; one message for any failure, no hint which part was wrong."""
    settings = request.app.state.settings
    form = {"username": username, "next": _safe_next(next)}
    if not username.strip():
        return render(
            request, "auth/login.html", {"error": "用户名或密码错误", **form}, block="login_form", status_code=422
        )
    # The peer's address: uvicorn replaces it by X-Forwarded-For only for FORWARDED_ALLOW_IPS proxies.
    address = request.client.host if request.client else "unknown"
    policy = logins.policy_of(settings)
    wait = logins.wait_seconds(session=session, username=username, address=address, policy=policy)
    if wait:
        logins.refused(session=session, username=username, address=address, wait=wait)
        error = logins.wait_text(wait, policy)
        headers = {"Retry-After": str(wait)}
        return render(
            request, "auth/login.html", {"error": error, **form}, block="login_form", status_code=429, headers=headers
        )
    logins.count_attempt(session=session, username=username, address=address, policy=policy)
    user = accounts.authenticate(session=session, username=username, password=password)
    if user is None:
        logins.failed(session=session, username=username, address=address)
        return render(
            request, "auth/login.html", {"error": "用户名或密码错误", **form}, block="login_form", status_code=422
        )
    logins.succeeded(session=session, user=user, username=username, address=address, policy=policy)
    target = _safe_next(next)
    response = see_other(request, target)
    secure = settings.cookie_secure if settings.cookie_secure is not None else request.url.scheme == "https"
    secret = sessions.start(
        session=session,
        user=user,
        address=address,
        now=request.app.state.clock(),
        replaces=request.cookies.get(SESSION_COOKIE),
        timeouts=sessions.timeouts_of(settings),
    )
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    return response


@router.post("/logout")
def logout(request: Request, session: SessionDep):
    """End the session on the server (the cookie stops working everywhere) and drop the cookie."""
    sessions.end(session=session, secret=request.cookies.get(SESSION_COOKIE), now=request.app.state.clock())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
