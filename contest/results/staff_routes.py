"""Staff pages: /results, where organisers compute a closed round's final results, decide, publish, reopen and export."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect, Template

from contest import xlsx
from contest.contests.service import round_row
from contest.digits import read_int
from contest.i18n import InputError
from contest.results import reopening, service
from contest.staff.guards import require
from contest.staff.signin import StaffUser
from contest.web import errors_of, lang_of, page


async def _round_page(round_id: int, errors: dict[str, str] | None = None, status_code: int = 200) -> Template:
    return page(
        "results/round.html",
        status_code=status_code,
        round=await round_row(round_id),
        results=await service.results_of(round_id),
        certificates=await reopening.certificates_of(round_id),
        errors=errors or {},
    )


class StaffResultsController(Controller):
    path = "/results"
    guards = [require("organiser")]

    @get("/", name="staff_results")
    async def index(self) -> Template:
        return page("results/list.html", rounds=await service.closed_rounds())

    @get("/{round_id:int}", name="staff_round_results")
    async def show(self, round_id: int) -> Template:
        return await _round_page(round_id)

    @post("/{round_id:int}/compute")
    async def compute(self, request: Request, round_id: int, staff: StaffUser) -> Template | Redirect:
        return await _act(request, round_id, service.compute_results(staff, round_id))

    @post("/{round_id:int}/disqualify")
    async def disqualify(self, request: Request, round_id: int, staff: StaffUser) -> Template | Redirect:
        form = await request.form()
        contestant = _contestant(form)
        return await _act(request, round_id, service.disqualify(staff, round_id, contestant, str(form.get("reason", ""))))

    @post("/{round_id:int}/reinstate")
    async def reinstate(self, request: Request, round_id: int, staff: StaffUser) -> Template | Redirect:
        form = await request.form()
        contestant = _contestant(form)
        return await _act(request, round_id, service.reinstate(staff, round_id, contestant))

    @post("/{round_id:int}/publish")
    async def publish(self, request: Request, round_id: int, staff: StaffUser) -> Template | Redirect:
        return await _act(request, round_id, service.publish(staff, round_id))

    @post("/{round_id:int}/reopen")
    async def reopen(self, request: Request, round_id: int, staff: StaffUser) -> Template | Redirect:
        form = await request.form()
        revoke = form.get("revoke_certificates") == "yes"
        return await _act(request, round_id, reopening.reopen(staff, round_id, str(form.get("reason", "")), revoke))

    @get("/{round_id:int}/export")
    async def export(self, request: Request, round_id: int, staff: StaffUser) -> Response:
        name, data = await service.export_xlsx(staff, round_id, lang_of(request))
        return Response(data, media_type=xlsx.MEDIA_TYPE, headers={"content-disposition": f'attachment; filename="{name}"'})


def _contestant(form: Any) -> int:
    """The contestant a decision is about; 0 (nobody) when the form is tampered with."""
    return read_int(form.get("contestant"), 0) or 0


async def _act(request: Request, round_id: int, action) -> Template | Redirect:  # type: ignore[no-untyped-def]
    """Run an action; back to the round's page, or the page again saying why it was refused."""
    try:
        await action
    except InputError as exc:
        return await _round_page(round_id, errors_of(request, exc), 422 if {"reason", "certificates"} & set(exc.errors) else 409)
    return Redirect(path=f"/staff/results/{round_id}")
