"""Public pages: /results/{round}, a round's published results (names shortened, phones masked)."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.response import Template

from contest.i18n import message
from contest.results import service
from contest.shared import SHARED
from contest.web import lang_of, page


class PublicResultsController(Controller):
    path = "/results"

    @get("/{round_id:int}", name="public_results", opt=SHARED)
    async def show(self, request: Request, round_id: int) -> Template:
        found = await service.public_results(round_id)
        if found is None:
            return page("error.html", status_code=404, errors={"results": message("results_not_published", lang_of(request))})
        rnd, winners, top = found
        return page("results/public.html", round=rnd, winners=winners, top=top)
