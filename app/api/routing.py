"""The /api/v1 routers: FastAPI's APIRouter, which turns a request away at once when its path cannot
be one of the router's routes.

FastAPI matches a request against the included routers one after another, every route of each, and
does it twice (once to choose, once more to handle): a list read at /api/v1/stats/units went through
the regular expressions of the seven routers included before stats, ~0.3 ms of CPU per pass. A route's
path starts with its literal part (everything before its first `{`), so a router none of whose literal
parts begins the path has no route that matches it, fully or in part (405): it answers NONE without
trying them. Within a router, and between the routers that may match, FastAPI's order is unchanged.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi import routing as fastapi_routing
from starlette.routing import Match, Route, get_route_path


def literal_part(path: str) -> str:
    """What every path a route of this path template matches starts with."""
    return path.split("{", 1)[0]


class PrefixRouter(APIRouter):
    """An APIRouter that skips its routes when the path starts with none of their literal parts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # by the prefix it is included under and the number of routes (a route added later counts)
        self._literals: dict[tuple[str, int], tuple[str, ...] | None] = {}

    def _literals_under(self, prefix: str) -> tuple[str, ...] | None:
        """The literal parts of this router's routes as included under `prefix`; None when a route is
        of a kind whose path is not a plain template (a mount, an included router, a websocket)."""
        key = (prefix, len(self.routes))
        if key not in self._literals:
            plain = all(isinstance(route, Route) for route in self.routes)
            self._literals[key] = tuple({prefix + literal_part(r.path) for r in self.routes}) if plain else None
        return self._literals[key]

    def matches(self, scope: Any) -> tuple[Match, Any]:
        included = getattr(fastapi_routing, "_get_scope_included_router", lambda _: None)(scope)
        context = getattr(included, "include_context", None)
        if scope["type"] == "http" and getattr(included, "original_router", None) is self and context is not None:
            literals = self._literals_under(context.prefix)
            if literals is not None and not get_route_path(scope).startswith(literals):
                return Match.NONE, {}
        return super().matches(scope)
