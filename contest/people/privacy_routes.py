"""Staff pages: /privacy-requests, where organisers answer a person's request to see, export or erase their data.

The phone number travels in POST bodies only, so it never lands in an address, a log line or the browser history.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from contest.i18n import InputError
from contest.people import privacy
from contest.staff.guards import require, signed_in
from contest.web import errors_of, page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _errors(request: Request, exc: InputError) -> dict[str, str]:
    return errors_of(request, exc)  # in the reader's language, as the page around them


async def _person_page(request: Request, phone: str, values: dict, errors: dict, status_code: int = 200) -> Template:
    """The search form, and what is held about the phone when it is a valid number."""
    held = None
    try:
        held = await privacy.held_about(phone) if phone.strip() else None
    except InputError as exc:
        errors = {**_errors(request, exc), **errors}
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
    async def export(self, request: Request, data: Form) -> Response | Template:
        phone = data.get("phone", "")
        try:
            name, body = await privacy.export_person(await signed_in(request), phone)
        except InputError as exc:
            return await _person_page(request, phone, {"phone": phone}, _errors(request, exc), 422)
        return Response(
            body,
            status_code=200,
            media_type="application/json; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"},
        )

    @post("/erase")
    async def erase(self, request: Request, data: Form) -> Template:
        phone = data.get("phone", "")
        try:
            count = await privacy.erase_person(
                await signed_in(request), phone, data.get("confirmation", ""), data.get("reason", "")
            )
        except InputError as exc:
            return await _person_page(request, phone, dict(data), _errors(request, exc), 422)
        return page("people/privacy/erased.html", count=count)
