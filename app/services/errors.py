"""Domain exceptions raised by services; app.main maps them to responses in one place."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldError:
    field: str  # e.g. "spent", "results[3].actual"
    message: str  # Chinese, for the user
    indicator_id: int | None = None


class DomainError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, errors: list[FieldError] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []


class NotFound(DomainError):
    status = 404
    code = "not_found"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"


class TooLarge(DomainError):
    status = 413
    code = "request_too_large"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class Unavailable(DomainError):
    """The database did not answer in time (it is down, hung, or every connection is busy)."""

    status = 503
    code = "database_unavailable"


class WindowClosed(DomainError):
    status = 409
    code = "filing_window_closed"


@dataclass
class Problems:
    """Collects field errors before raising them all at once."""

    items: list[FieldError] = field(default_factory=list)

    def add(self, field_name: str, message: str, indicator_id: int | None = None) -> None:
        self.items.append(FieldError(field_name, message, indicator_id))

    def raise_if_any(self, message: str = "输入有误，请按提示修改") -> None:
        if self.items:
            raise ValidationFailed(message, errors=self.items)
