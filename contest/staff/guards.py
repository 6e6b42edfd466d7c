"""Role guards for staff pages, the officials' commune scope, and the signed-in member as a dependency.

Staff sessions are server-side (Redis) and apart from contestants'.
"""

from __future__ import annotations

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig

from contest import keys
from contest.staff.signin import StaffUser, staff_user

SESSION_KEY = "staff"
_FRESH_ID = "staff_session_id"  # scope state: the id a sign-in chose for this browser's session from now on


class _RotatingSessionBackend(ServerSideSessionBackend):
    """Litestar's server-side sessions keep the id the browser sent; after a sign-in we want a new one."""

    def get_session_id(self, connection: ASGIConnection) -> str:
        fresh = connection.scope.get("state", {}).get(_FRESH_ID)
        return str(fresh) if fresh else super().get_session_id(connection)


class _StaffSessionConfig(ServerSideSessionConfig):
    _backend_class = _RotatingSessionBackend


session_config = _StaffSessionConfig(
    key="staff_session", store=keys.STAFF_SESSIONS, max_age=60 * 60 * 12, httponly=True, samesite="lax"
)


async def rotate_session(connection: ASGIConnection) -> None:
    """Give this browser a new session id and forget the old one: an id planted before sign-in (session fixation)
    never becomes a signed-in session."""
    old = connection.cookies.get(session_config.key)
    if old:
        await session_config.get_store_from_app(connection.app).delete(old)
    backend = _RotatingSessionBackend(config=session_config)
    connection.scope.setdefault("state", {})[_FRESH_ID] = backend.generate_session_id()


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


async def provide_staff(request: Request) -> StaffUser:
    """The `staff` dependency of every staff handler: the member the route's guard let in (a login if none did)."""
    user = await current_staff(request)
    if user is None:
        raise NotAuthorizedException(detail="staff_login_required")
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


def sees_every_commune(user: StaffUser) -> bool:
    """Admins and organisers see every commune; an official only the communes bound to their account."""
    return user.role in ("admin", "organiser")


async def own_commune(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A guard for routes with a `{code}` commune: officials only their own (403 whether it exists or not)."""
    user = await current_staff(connection)
    if user is None:
        raise NotAuthorizedException(detail="staff_login_required")
    if not sees_every_commune(user) and connection.path_params["code"] not in user.communes:
        raise PermissionDeniedException(detail="staff_forbidden")
