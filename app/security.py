"""Who is calling, as plain data, and the secrets that prove it: passwords, session secrets,
token digests, the cross-site check. No web framework and no use case here: services import
`Principal`; the faces' request dependencies live in app/auth.py."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.models import User

SESSION_COOKIE = "jixiao_session"
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both failures cost the same time.
_DUMMY_HASH = _hasher.hash("jixiao-no-such-user")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def burn_password_check(password: str) -> None:
    verify_password(_DUMMY_HASH, password)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a logged-in user or an API token, with its role and scope."""

    role: str  # unit | department | finance | admin
    name: str
    user_id: int | None = None
    unit_id: int | None = None
    department_id: int | None = None
    token_id: int | None = None

    scopes: tuple[str, ...] | None = None  # a token's scopes; None for a session (its role's every power)


def principal_for_user(user: User) -> Principal:
    return Principal(
        role=user.role,
        name=user.username,
        user_id=user.id,
        unit_id=user.unit_id,
        department_id=user.department_id,
    )


# --- session cookies ---------------------------------------------------------------------
# The cookie is a random secret naming a row of login_session (app/services/sessions.py); only its
# digest is stored, so a leaked database does not hand out live sessions.


def new_session_secret() -> str:
    return secrets.token_urlsafe(32)


def session_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# --- API tokens ---------------------------------------------------------------------------

TOKEN_PREFIX = "jx_"


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    # Tokens are 256 random bits: a plain SHA-256 is enough, no slow hash needed.
    return hashlib.sha256(token.encode()).hexdigest()


# --- CSRF ---------------------------------------------------------------------------------

SAFE_METHODS = {"GET", "HEAD", "OPTIONS", "TRACE"}


def cross_site_reason(method: str, headers: dict[str, str], scheme: str, host: str) -> str | None:
    """Why an unsafe request looks cross-site, or None when it may proceed.

    The approach of Go's http.CrossOriginProtection: browsers send Sec-Fetch-Site (or at
    least Origin) on unsafe requests; a request with neither comes from a non-browser client
    and carries no ambient cookie risk. Bearer-token calls are exempt.
    """
    if method in SAFE_METHODS:
        return None
    if headers.get("authorization", "").lower().startswith("bearer "):
        return None
    site = headers.get("sec-fetch-site")
    if site is not None:
        if site in ("same-origin", "none"):
            return None
        return f"跨站请求被拒绝（Sec-Fetch-Site: {site}）"
    origin = headers.get("origin")
    if origin is None:
        return None
    if origin == f"{scheme}://{host}":
        return None
    return "跨站请求被拒绝（Origin 与本站不一致）"
