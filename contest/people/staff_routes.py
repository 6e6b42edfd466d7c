"""Staff pages: /duplicates, the duplicate-account signals of each contest (flagged only, never deleted), and
/privacy-requests, where organisers answer a person's request to see, export or erase their data.

The phone number of a privacy request travels in POST bodies only, so it never lands in an address, a log line or the
browser history.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template

from contest.digits import read_int
from contest.i18n import InputError
from contest.people import duplicates, privacy
from contest.staff.guards import require
from contest.staff.signin import StaffUser
from contest.web import errors_of, page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


class DuplicatesController(Controller):
    path = "/duplicates"
    guards = [require("organiser")]

    @get("/", name="staff_duplicates")
    async def index(self) -> Template:
        return page("people/duplicates/index.html", contests=await duplicates.contests_with_counts())

    @get("/{contest_id:int}", name="staff_duplicates_contest")
    async def contest(self, request: Request, contest_id: int, ip_min: int = duplicates.IP_THRESHOLD) -> Template:
        return await _contest_page(request, contest_id, ip_min, errors={})

    @post("/{contest_id:int}/review")
    async def review(self, request: Request, contest_id: int, staff: StaffUser) -> Template | Redirect:
        form = await request.form()
        ip_min = _threshold(form.get("ip_min"))
        try:
            await duplicates.mark_reviewed(
                staff.id, contest_id, str(form.get("signal", "")), str(form.get("key", "")), ip_threshold=ip_min
            )
        except InputError as exc:
            return await _contest_page(request, contest_id, ip_min, errors=errors_of(request, exc), status_code=422)
        return Redirect(path=f"/staff/duplicates/{contest_id}?ip_min={ip_min}")


def _threshold(value: object) -> int:
    number = read_int(value)
    return duplicates.IP_THRESHOLD if number is None else max(2, number)


async def _contest_page(request: Request, contest_id: int, ip_min: int, errors: dict, status_code: int = 200) -> Template:
    contest = await duplicates.contest_named(contest_id)
    if contest is None:
        raise NotFoundException()
    ip_min = max(2, ip_min)
    groups = await duplicates.duplicate_groups(contest_id, ip_threshold=ip_min)
    return page(
        "people/duplicates/contest.html",
        status_code=status_code,
        contest=contest,
        groups=groups,
        open_count=sum(1 for g in groups if not g.reviewed),
        ip_min=ip_min,
        window_minutes=int(duplicates.IP_WINDOW / timedelta(minutes=1)),
        errors=errors,
    )


async def _person_page(request: Request, phone: str, values: dict, errors: dict, status_code: int = 200) -> Template:
    """The search form, and what is held about the phone when it is a valid number."""
    held = None
    try:
        held = await privacy.held_about(phone) if phone.strip() else None
    except InputError as exc:
        errors = {**errors_of(request, exc), **errors}
        status_code = 422
    return page("people/privacy/index.html", status_code=status_code, held=held, values=values, errors=errors)


class PrivacyRequestController(Controller):
    path = "/privacy-requests"
    guards = [require("organiser")]

    @get("/", name="privacy_requests")
    async def index(self) -> Template:
        return page("people/privacy/index.html", held=None, values={}, errors={})

    @post("/")
    async def find(self, request: Request, data: Form) -> Template:
        phone = data.get("phone", "")
        return await _person_page(request, phone, {"phone": phone}, {})

    @post("/export")
    async def export(self, request: Request, data: Form, staff: StaffUser) -> Response | Template:
        phone = data.get("phone", "")
        try:
            name, body = await privacy.export_person(staff, phone)
        except InputError as exc:
            return await _person_page(request, phone, {"phone": phone}, errors_of(request, exc), 422)
        return Response(
            body,
            status_code=200,
            media_type="application/json; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    @post("/erase")
    async def erase(self, request: Request, data: Form, staff: StaffUser) -> Template:
        phone = data.get("phone", "")
        try:
            count = await privacy.erase_person(staff, phone, data.get("confirmation", ""), data.get("reason", ""))
        except InputError as exc:
            return await _person_page(request, phone, dict(data), errors_of(request, exc), 422)
        return page("people/privacy/erased.html", count=count)
