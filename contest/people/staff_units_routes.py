"""Staff pages: /contests/{id}/units, a contest's own units (what it ranks instead of communes), imported from xlsx."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Response, Template

from contest import xlsx
from contest.contests.tables import Contest
from contest.i18n import InputError, message
from contest.people import units, units_import
from contest.staff.audit import audit
from contest.staff.guards import require
from contest.staff.signin import StaffUser
from contest.web import errors_of, lang_of, page

Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


async def _contest(contest_id: int) -> dict:
    row = await Contest.select(Contest.id, Contest.title, Contest.collectives).where(Contest.id == contest_id).first()
    if row is None:
        raise NotFoundException()
    return row


async def _page(contest_id: int, status_code: int = 200, **context: Any) -> Template:
    context = {"report": None, "lines": [], "errors": {}, **context}
    return page(
        "people/units.html",
        status_code=status_code,
        contest=await _contest(contest_id),
        units=await units.units_of(contest_id),
        **context,
    )


class UnitsController(Controller):
    path = "/contests/{contest_id:int}/units"
    guards = [require("organiser")]

    @get("/", name="contest_units")
    async def index(self, contest_id: int) -> Template:
        return await _page(contest_id)

    @post("/collectives")
    async def collectives(self, request: Request, contest_id: int, data: Form, staff: StaffUser) -> Template | Redirect:
        """Communes or the contest's own units: chosen before anyone registers."""
        await _contest(contest_id)
        try:
            await units.set_collectives(contest_id, data.get("collectives", ""))
        except InputError as exc:
            return await _page(contest_id, 422, errors=errors_of(request, exc))
        await audit(staff.id, "contest.collectives", str(contest_id), collectives=data.get("collectives"))
        return Redirect(path=f"/staff/contests/{contest_id}/units/")

    @get("/template")
    async def template(self, request: Request, contest_id: int) -> Response[bytes]:
        await _contest(contest_id)
        return Response(
            await units_import.units_template(contest_id, lang_of(request)),
            media_type=xlsx.MEDIA_TYPE,
            headers={"content-disposition": 'attachment; filename="don-vi.xlsx"'},
        )

    @post("/import", request_max_body_size=units_import.MAX_BYTES * 2)
    async def upload(self, request: Request, contest_id: int, data: Multipart, staff: StaffUser) -> Template:
        """Every row checked first; one bad row and nothing is written, the report says which rows to fix."""
        await _contest(contest_id)
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            return await _page(contest_id, 422, errors={"file": message("units_upload_missing", lang_of(request))})
        try:
            report = await units_import.import_units(contest_id, await upload.read())
        except InputError as exc:
            return await _page(contest_id, 422, errors=errors_of(request, exc))
        lang = lang_of(request)
        lines = [message(code, lang, row=row, **params) for row, code, params in report.problems]
        if report.ok:
            await audit(staff.id, "contest.units", str(contest_id), added=report.added, updated=report.updated)
        return await _page(contest_id, 200 if report.ok else 422, report=report, lines=lines)
