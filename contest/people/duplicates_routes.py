"""Staff pages: /duplicates, the duplicate-account signals of each contest (flagged only, never deleted)."""

from __future__ import annotations

from datetime import timedelta

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.response import Redirect, Template

from contest.contests.tables import Contest
from contest.digits import read_int
from contest.i18n import InputError
from contest.people import duplicates
from contest.staff.guards import current_staff, require
from contest.web import errors_of, page


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
    async def review(self, request: Request, contest_id: int) -> Template | Redirect:
        form = await request.form()
        user = await current_staff(request)
        assert user is not None  # the controller's guard let only organisers in
        ip_min = _threshold(form.get("ip_min"))
        try:
            await duplicates.mark_reviewed(
                user.id, contest_id, str(form.get("signal", "")), str(form.get("key", "")), ip_threshold=ip_min
            )
        except InputError as exc:
            return await _contest_page(request, contest_id, ip_min, errors=errors_of(request, exc), status_code=422)
        return Redirect(path=f"/staff/duplicates/{contest_id}?ip_min={ip_min}")


def _threshold(value: object) -> int:
    number = read_int(value)
    return duplicates.IP_THRESHOLD if number is None else max(2, number)


async def _contest_page(request: Request, contest_id: int, ip_min: int, errors: dict, status_code: int = 200) -> Template:
    contest = await Contest.select(Contest.id, Contest.title, Contest.slug).where(Contest.id == contest_id).first()
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
