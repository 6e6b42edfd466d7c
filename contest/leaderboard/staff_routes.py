"""Staff pages: /communes, the population of each commune (the base of participation rates), imported from xlsx."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Response, Template

from contest import xlsx
from contest.i18n import InputError, message
from contest.leaderboard import population
from contest.staff.audit import audit
from contest.staff.guards import require
from contest.staff.signin import StaffUser
from contest.web import errors_of, lang_of, page

Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


class PopulationController(Controller):
    path = "/communes"
    guards = [require("organiser")]

    @get("/", name="communes_population")
    async def index(self) -> Template:
        return page("leaderboard/population.html", report=None, lines=[], errors={})

    @get("/template")
    async def template(self, request: Request) -> Response[bytes]:
        return Response(
            await population.population_template(lang_of(request)),
            media_type=xlsx.MEDIA_TYPE,
            headers={"content-disposition": 'attachment; filename="dan-so-xa-phuong.xlsx"'},
        )

    @post("/import", request_max_body_size=population.MAX_BYTES * 2)
    async def upload(self, request: Request, data: Multipart, staff: StaffUser) -> Template:
        """Every row checked first; one bad row and nothing is written, the report says which rows to fix."""
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            errors = {"file": message("population_upload_missing", lang_of(request))}
            return page("leaderboard/population.html", status_code=422, report=None, lines=[], errors=errors)
        try:
            report = await population.import_population(await upload.read())
        except InputError as exc:
            return page("leaderboard/population.html", status_code=422, report=None, lines=[], errors=errors_of(request, exc))
        lang = lang_of(request)
        lines = [message(code, lang, row=row, **params) for row, code, params in report.problems]
        if report.ok:
            await audit(staff.id, "communes.population", upload.filename or "", communes=report.updated)
        return page("leaderboard/population.html", status_code=200 if report.ok else 422, report=report, lines=lines, errors={})
