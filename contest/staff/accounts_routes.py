"""Staff pages: /people (admins manage staff accounts) and /invite (an invited person sets a password)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from contest.i18n import InputError
from contest.ratelimit import limit
from contest.staff import accounts
from contest.staff.guards import require
from contest.staff.signin import StaffUser
from contest.staff.tables import ROLES
from contest.web import errors_of, page


class StaffAccountsController(Controller):
    path = "/people"
    guards = [require("admin")]

    @get("/", name="staff_people")
    async def index(self, staff: StaffUser) -> Template:
        return await _index(staff, values={}, errors={})

    @post("/")
    async def create(self, request: Request, staff: StaffUser) -> Template:
        form = await request.form()
        email, full_name, role = (str(form.get(key, "")) for key in ("email", "full_name", "role"))
        communes: list[str] = form.getall("communes", [])
        try:
            staff_id, token = await accounts.add_staff(staff.id, email, full_name, role, communes)
        except InputError as exc:
            values = {"email": email, "full_name": full_name, "role": role, "communes": communes}
            return await _index(staff, values=values, errors=errors_of(request, exc), status_code=422)
        return _invited(request, token, await accounts.staff_member(staff_id), created=True)

    @get("/{staff_id:int}", name="staff_member")
    async def member(self, staff_id: int, staff: StaffUser) -> Template:
        return await _member_page(staff, staff_id, errors={})

    @post("/{staff_id:int}/access")
    async def change_access(self, request: Request, staff_id: int, staff: StaffUser) -> Template | Redirect:
        form = await request.form()
        role, communes = str(form.get("role", "")), form.getall("communes", [])
        return await _act(request, staff, staff_id, lambda actor: accounts.change_access(actor, staff_id, role, communes))

    @post("/{staff_id:int}/deactivate")
    async def deactivate(self, request: Request, staff_id: int, staff: StaffUser) -> Template | Redirect:
        return await _act(request, staff, staff_id, lambda actor: accounts.set_active(actor, staff_id, False))

    @post("/{staff_id:int}/reactivate")
    async def reactivate(self, request: Request, staff_id: int, staff: StaffUser) -> Template | Redirect:
        return await _act(request, staff, staff_id, lambda actor: accounts.set_active(actor, staff_id, True))

    @post("/{staff_id:int}/unlock")
    async def unlock(self, request: Request, staff_id: int, staff: StaffUser) -> Template | Redirect:
        return await _act(request, staff, staff_id, lambda actor: accounts.unlock(actor, staff_id))

    @post("/{staff_id:int}/logout-everywhere")
    async def logout_everywhere(self, request: Request, staff_id: int, staff: StaffUser) -> Template | Redirect:
        return await _act(request, staff, staff_id, lambda actor: accounts.log_out_staff(actor, staff_id))

    @post("/{staff_id:int}/invite")
    async def reinvite(self, request: Request, staff_id: int, staff: StaffUser) -> Template:
        member = await _member_or_404(staff_id)
        token = await accounts.reinvite(staff.id, staff_id)
        return _invited(request, token, member, created=False)


class InvitationController(Controller):
    """Public: the one-time link an admin sent. Under /staff for the staff session and its CSRF cookie."""

    path = "/invite"

    @get("/{token:str}", name="staff_invite")
    async def form(self, request: Request, token: str) -> Template:
        email = await accounts.invited_email(token)
        if email is None:
            return _no_store(page("staff/people/accept.html", status_code=404, token=None, email=None, errors=_invalid(request)))
        return _no_store(page("staff/people/accept.html", token=token, email=email, errors={}))

    @post("/{token:str}", middleware=[limit("staff_invite")])
    async def accept(self, request: Request, token: str) -> Template | Redirect:
        form = await request.form()
        email = await accounts.invited_email(token)
        try:
            await accounts.accept_invitation(token, str(form.get("password", "")), str(form.get("password_repeat", "")))
        except InputError as exc:
            return _no_store(
                page(
                    "staff/people/accept.html",
                    status_code=422,
                    token=token if email else None,
                    email=email,
                    errors=errors_of(request, exc),
                )
            )
        # The sign-in page says the password is set, with the email filled in.
        return Redirect(path="/staff/login", query_params={"email": email or "", "password_set": "1"})


async def _member_or_404(staff_id: int) -> dict:
    member = await accounts.staff_member(staff_id)
    if member is None:
        raise NotFoundException()
    return member


async def _index(admin: StaffUser, values: dict, errors: dict, status_code: int = 200) -> Template:
    return page(
        "staff/people/index.html",
        status_code=status_code,
        staff=await accounts.staff_list(),
        provinces=await accounts.communes_by_province(),
        roles=ROLES,
        values=values,
        errors=errors,
        user=admin,
    )


async def _member_page(admin: StaffUser, staff_id: int, errors: dict, status_code: int = 200) -> Template:
    member = await _member_or_404(staff_id)
    return page(
        "staff/people/member.html",
        status_code=status_code,
        member=member,
        chosen=[str(c["code"]) for c in member["communes"]],
        provinces=await accounts.communes_by_province(),
        roles=ROLES,
        errors=errors,
        user=admin,
    )


async def _act(
    request: Request, admin: StaffUser, staff_id: int, action: Callable[[int], Awaitable[None]]
) -> Template | Redirect:
    """Run one change as the signed-in admin, then back to the member's page (with the reason if refused)."""
    await _member_or_404(staff_id)
    try:
        await action(admin.id)
    except InputError as exc:
        return await _member_page(admin, staff_id, errors=errors_of(request, exc), status_code=422)
    return Redirect(path=f"/staff/people/{staff_id}")


def _invited(request: Request, token: str, member: dict | None, created: bool) -> Template:
    link = f"{str(request.base_url).rstrip('/')}/staff/invite/{token}"
    return _no_store(page("staff/people/invited.html", member=member, link=link, created=created))


def _invalid(request: Request) -> dict[str, str]:
    return errors_of(request, InputError({"token": "invite_invalid"}))


def _no_store(response: Template) -> Template:
    # These pages carry a one-time token: no cache should keep them.
    response.headers["Cache-Control"] = "no-store"
    return response
