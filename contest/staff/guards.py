"""Role guards for staff pages. Staff sessions are server-side (Redis) and apart from contestants'."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.session.server_side import ServerSideSessionConfig

from contest.staff.service import StaffUser, staff_user

SESSION_KEY = "staff"
session_config = ServerSideSessionConfig(
    key="staff_session", store="staff_sessions", max_age=60 * 60 * 12, httponly=True, samesite="lax"
)


async def current_staff(connection: ASGIConnection) -> StaffUser | None:
    """The signed-in staff member (cached on the request), or None."""
    cached = connection.scope.get("state", {}).get("staff_user")
    if cached is not None:
        return cached
    data = connection.session.get(SESSION_KEY) if connection.scope.get("session") else None
    user = await staff_user(int(data["id"]), int(data["epoch"])) if data else None
    if user is not None:
        connection.scope.setdefault("state", {})["staff_user"] = user
    return user


def require(*roles: str):  # type: ignore[no-untyped-def]
    """A guard: signed in, with one of these roles (admins pass every guard)."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        user = await current_staff(connection)
        if user is None:
            raise NotAuthorizedException(detail="staff_login_required")
        if user.role != "admin" and user.role not in roles:
            raise PermissionDeniedException(detail="staff_forbidden")

    return guard


admin_only = require("admin")
organisers = require("organiser")
officials = require("official", "organiser")
