"""Staff pages: /officials, participation dashboards. Officials see only their own communes; organisers see all."""

from __future__ import annotations

import math
from dataclasses import asdict
from typing import Annotated, Any

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotFoundException, PermissionDeniedException
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from litestar.types import ExceptionHandlersMap

from contest import xlsx
from contest.i18n import message
from contest.officials import service
from contest.officials.chart import bar_chart
from contest.staff.audit import audit
from contest.staff.guards import own_commune, require, sees_every_commune
from contest.staff.signin import StaffUser
from contest.web import lang_of, page

PageNo = Annotated[int, QueryParameter(name="page", ge=1)]


async def _contest(contest: int | None) -> dict:
    chosen = await service.pick_contest(contest)
    if chosen is None:
        raise NotFoundException(detail="contest_not_found")
    return chosen


async def _commune(code: int) -> dict:
    place = await service.commune(code)
    if place is None:
        raise NotFoundException(detail="commune_not_found")
    return place


def _json_forbidden(request: Request, exc: PermissionDeniedException) -> Response:
    """The API answers in JSON, in the caller's language, also when a guard refuses."""
    lang = "en" if request.headers.get("accept-language", "").lower().startswith("en") else "vi"
    return Response({"errors": {"auth": message("staff_forbidden", lang)}}, status_code=403)


_API: ExceptionHandlersMap = {PermissionDeniedException: _json_forbidden}


class OfficialsController(Controller):
    path = "/officials"
    guards = [require("official", "organiser")]

    @get("/", name="officials_home")
    async def home(self, request: Request, staff: StaffUser, contest: int | None = None) -> Template | Redirect:
        """Officials go to their commune (or choose one of theirs); organisers get the contest-wide view."""
        if not sees_every_commune(staff):
            if len(staff.communes) == 1:
                query = {"contest": str(contest)} if contest else None
                return Redirect(path=f"/staff/officials/communes/{staff.communes[0]}", query_params=query)
            return page("officials/choose.html", user=staff, communes=await service.communes_named(staff.communes))
        chosen = await service.pick_contest(contest)
        if chosen is None:
            return page("officials/choose.html", user=staff, communes=[])
        summary = await service.summary(chosen)
        provinces = [
            (p, await service.commune_ranking(chosen["id"], p["code"])) for p in await service.contest_provinces(chosen["id"])
        ]
        units = await service.unit_ranking(chosen["id"]) if chosen["collectives"] == "units" else []
        context: dict[str, Any] = {
            "user": staff,
            "contests": await service.contests(),
            "contest": chosen,
            "summary": summary,
            "provinces": provinces,
            "units": units,
            "chart": bar_chart,
        }
        if request.headers.get("hx-request") and request.headers.get("hx-target") == "dashboard":
            return page("officials/_overview.html", **context)
        return page("officials/overview.html", **context)

    @get("/communes", guards=[require("organiser")])
    async def search(self, q: str = "", contest: int | None = None) -> Template:
        """The commune picker's matches (htmx), accent-insensitive."""
        return page("officials/_matches.html", matches=await service.search_communes(q), contest=contest)

    @get("/communes/{code:int}", name="officials_commune", guards=[own_commune])
    async def commune(
        self, request: Request, code: int, staff: StaffUser, contest: int | None = None, page_no: PageNo = 1
    ) -> Template:
        """One commune's dashboard: counts, per-day chart, rank, contestants."""
        place = await _commune(code)
        chosen = await _contest(place["contest"] or contest)  # a unit belongs to one contest
        summary = await service.summary(chosen, code)
        pages = max(1, math.ceil(summary.registered / service.PAGE_SIZE))
        page_no = min(max(1, page_no), pages)
        context: dict[str, Any] = {
            "user": staff,
            "place": place,
            "contests": await service.contests(),
            "contest": chosen,
            "summary": summary,
            "rows": await service.contestants(chosen["id"], code, page_no),
            "page_no": page_no,
            "pages": pages,
            "page_size": service.PAGE_SIZE,
            "group_name": lambda g: message(g, lang_of(request), "groups"),
            "chart": bar_chart,
            "mine": await service.communes_named(staff.communes) if len(staff.communes) > 1 else [],
        }
        if request.headers.get("hx-request") and request.headers.get("hx-target") == "dashboard":
            return page("officials/_dashboard.html", **context)
        return page("officials/commune.html", **context)

    @get("/communes/{code:int}/contestants.xlsx", guards=[own_commune])
    async def export(self, request: Request, code: int, staff: StaffUser, contest: int | None = None) -> Response:
        """The commune's contestants as xlsx; every download of personal data goes to the audit log."""
        place = await _commune(code)
        chosen = await _contest(place["contest"] or contest)
        rows = await service.contestants(chosen["id"], code, size=None)
        groups = {g: message(g, "vi", "groups") for g in {r.group for r in rows}}
        await audit(staff.id, "officials.export", str(code), contest=chosen["id"], contestants=len(rows))
        name = f"nguoi-du-thi-{chosen['slug']}-{code}.xlsx"
        return Response(
            service.contestants_xlsx(rows, groups, lang_of(request)),
            media_type=xlsx.MEDIA_TYPE,
            headers={"content-disposition": f'attachment; filename="{name}"'},
        )

    @get("/api/communes", exception_handlers=_API)
    async def api_communes(self, staff: StaffUser) -> dict:
        """The communes this person may see (organisers: every commune of the newest contest's provinces)."""
        if sees_every_commune(staff):
            return {"communes": await service.search_communes("", limit=100_000)}
        return {"communes": await service.communes_named(staff.communes)}

    @get("/api/communes/{code:int}/summary", guards=[own_commune], exception_handlers=_API)
    async def api_summary(self, code: int, contest: int | None = None) -> dict:
        """A commune's figures in a contest, as the dashboard shows them."""
        place = await _commune(code)
        return asdict(await service.summary(await _contest(place["contest"] or contest), code))

    @get("/api/communes/{code:int}/contestants", guards=[own_commune], exception_handlers=_API)
    async def api_contestants(self, code: int, contest: int | None = None, page_no: PageNo = 1) -> dict:
        """A commune's contestants, a page at a time."""
        place = await _commune(code)
        chosen = await _contest(place["contest"] or contest)
        rows = await service.contestants(chosen["id"], code, max(1, page_no))
        return {"contest": chosen["id"], "page": max(1, page_no), "contestants": [asdict(r) for r in rows]}

    @get("/api/summary", guards=[require("organiser")], exception_handlers=_API)
    async def api_overview(self, contest: int | None = None) -> dict:
        """Contest-wide figures and every commune's rank (organisers)."""
        chosen = await _contest(contest)
        provinces = await service.contest_provinces(chosen["id"])
        return {
            "summary": asdict(await service.summary(chosen)),
            "units": [asdict(r) for r in await service.unit_ranking(chosen["id"])] if chosen["collectives"] == "units" else [],
            "provinces": [
                {**p, "communes": [asdict(r) for r in await service.commune_ranking(chosen["id"], p["code"])]} for p in provinces
            ],
        }
