"""Staff sign-in. Every staff page lives under /staff, behind the server-side session and role guards."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from litestar import Controller, Request, Router, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect, Template

from contest.digits import read_int
from contest.i18n import InputError
from contest.ratelimit import limit
from contest.staff import audit, signin
from contest.staff.guards import SESSION_KEY, provide_staff, require, rotate_session, session_config
from contest.staff.signin import StaffUser
from contest.web import errors_of, page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _day(text: str) -> date | None:
    """A date from a date input ("2026-12-03"), None when empty or not a date."""
    try:
        return date.fromisoformat(text.strip()) if text.strip() else None
    except ValueError:
        return None


def _safe_next(target: str | None) -> str:
    return target if target and target.startswith("/staff") and not target.startswith("//") else "/staff/"


class LoginController(Controller):
    @get("/login", name="staff_login")
    async def login_form(self, next: str | None = None, email: str = "", password_set: bool = False) -> Template:
        """The sign-in form; after an invitation is accepted, it says so with the email filled in."""
        values = {"email": email[:254]} if email else {}
        return page("staff/login.html", values=values, errors={}, next=_safe_next(next), password_set=password_set)

    @post("/login", middleware=[limit("staff_login")])
    async def login(self, request: Request, data: Form) -> Template | Redirect:
        try:
            user = await signin.authenticate(data.get("email", ""), data.get("password", ""))
        except InputError as exc:
            return page(
                "staff/login.html",
                status_code=422,
                values={"email": data.get("email", "")},
                errors=errors_of(request, exc),
                next=_safe_next(data.get("next")),
            )
        await rotate_session(request)
        request.set_session({SESSION_KEY: {"id": user.id, "epoch": user.epoch}})
        return Redirect(path=_safe_next(data.get("next")))

    @post("/logout")
    async def logout(self, request: Request) -> Redirect:
        request.clear_session()
        return Redirect(path="/staff/login")

    @post("/logout-everywhere", guards=[require("official", "organiser")])
    async def logout_everywhere(self, request: Request, staff: StaffUser) -> Redirect:
        await signin.logout_everywhere(staff.id)
        request.clear_session()
        return Redirect(path="/staff/login")

    @get("/", guards=[require("official", "organiser")], name="staff_home")
    async def home(self, staff: StaffUser) -> Template:
        return page("staff/home.html", user=staff)


class AuditController(Controller):
    path = "/audit"
    guards = [require("admin")]

    @get("/", name="staff_audit")
    async def log(
        self,
        who: str = "",
        action: str = "",
        since: str = "",
        until: str = "",
        page_number: Annotated[str, Parameter(query="page")] = "",
    ) -> Template:
        chosen = audit.AuditFilter(read_int(who), action or None, _day(since), _day(until))
        people, actions = await audit.audit_choices()
        return page(
            "staff/audit.html",
            log=await audit.audit_log(chosen, read_int(page_number, 1) or 1),
            chosen=chosen,
            people=people,
            actions=actions,
        )


def staff_router(*controllers: type[Controller]) -> Router:
    """Everything under /staff: its own server-side session, apart from contestants' cookie; a handler that names
    `staff` gets the signed-in member."""
    return Router(
        path="/staff",
        route_handlers=[LoginController, AuditController, *controllers],
        middleware=[session_config.middleware],
        dependencies={"staff": Provide(provide_staff)},
    )
