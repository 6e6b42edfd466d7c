from __future__ import annotations

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Template

from contest import clock
from contest.attempts import service as attempts
from contest.contests import look, service
from contest.people import service as people
from contest.practice import service as practice
from contest.web import contestant_of, page


class ContestController(Controller):
    @get("/", name="home")
    async def home(self) -> Template:
        return page("contests/home.html", contests=await service.current_contests())

    @get("/c/{slug:str}", name="contest")
    async def contest(self, request: Request, slug: str) -> Template:
        info = await service.contest_by_slug(slug)
        if info is None:
            raise NotFoundException()
        now = clock.now()
        me = contestant_of(request)
        person = await people.contestant(me) if me else None
        if person and person["contest"] != info.id:
            person = None
        open_round = info.open_round(now)
        mine = await attempts.attempts_of(person["id"], open_round.id) if person and open_round else []
        return page(
            "contests/contest.html",
            contest=info,
            person=person,
            open_round=open_round,
            attempts=mine,
            provinces=await people.provinces(),
            look=await look.look_of(slug),
            practice_sets=await practice.sets(contest_id=info.id),
        )
