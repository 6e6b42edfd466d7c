"""Public pages of a contest: the home page, the contest page, its look (brand stylesheet, printable rules) and the share card."""

from __future__ import annotations

import asyncio

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.response import Template

from contest import clock
from contest.assets import IMMUTABLE
from contest.attempts import service as attempts
from contest.contests import look, service, share
from contest.people import service as people
from contest.practice import service as practice
from contest.settings import get_settings
from contest.shared import SHARED
from contest.web import contestant_of, lang_of, page


class ContestController(Controller):
    @get("/", name="home", opt=SHARED)
    async def home(self) -> Template:
        return page("contests/home.html", contests=await service.current_contests())

    @get("/c/{slug:str}", name="contest", opt=SHARED)
    async def contest(self, slug: str) -> Template:
        """The contest page, the same for everyone; what is the viewer's own comes from /c/{slug}/me."""
        info = await service.contest_by_slug(slug)
        if info is None:
            raise NotFoundException()
        return page(
            "contests/contest.html",
            contest=info,
            look=await look.look_of(slug),
            practice_sets=await practice.sets(contest_id=info.id),
        )

    @get("/c/{slug:str}/me", name="contest_me")
    async def contest_me(self, request: Request, slug: str) -> Template:
        """The viewer's own part of the contest page: their attempts and the start form, or the ways to take part."""
        info = await service.contest_by_slug(slug)
        if info is None:
            raise NotFoundException()
        me = contestant_of(request)
        person = await people.contestant(me) if me else None
        if person and person["contest"] != info.id:
            person = None
        open_round = info.open_round(clock.now())
        mine = await attempts.attempts_of(person["id"], open_round.id) if person and open_round else []
        return page("contests/_me.html", contest=info, person=person, open_round=open_round, attempts=mine)


# Colours change rarely and the ETag makes a check cheap: a short max-age keeps an organiser's edit visible soon.
THEME_CACHE = "public, max-age=300"


class LookController(Controller):
    @get("/c/{slug:str}/theme.css", name="contest_theme")
    async def theme(self, request: Request, slug: str) -> Response:
        """The contest's colours as a stylesheet (the Content-Security-Policy forbids inline styles)."""
        found = await look.look_of(slug)
        if found is None:
            raise NotFoundException()
        css = look.theme_css(found)
        # The address a page gives (?v= the current fingerprint) never changes content: cached for a year. Without it
        # (or with an old one), a few minutes.
        current = request.query_params.get("v") == look.theme_version(found)
        headers = {"cache-control": IMMUTABLE if current else THEME_CACHE, "etag": look.etag(css)}
        if request.headers.get("if-none-match") == headers["etag"]:
            return Response(b"", status_code=304, headers=headers)
        return Response(css, media_type="text/css", headers=headers)  # Litestar adds the one charset

    @get("/c/{slug:str}/the-le", name="contest_rules", opt=SHARED)
    async def rules(self, slug: str) -> Template:
        """The rules (thể lệ) as a page that prints cleanly on A4."""
        info = await service.contest_by_slug(slug)
        found = await look.look_of(slug)
        if info is None or found is None:
            raise NotFoundException()
        paragraphs = [p.strip() for p in found.rules.replace("\r\n", "\n").split("\n\n") if p.strip()]
        address = f"{get_settings().public_url}/c/{slug}/the-le"
        return page("contests/rules.html", contest=info, look=found, paragraphs=paragraphs, address=address)

    @get("/attempts/{attempt_id:int}/share.png", name="share_card")
    async def share_card(self, request: Request, attempt_id: int) -> Response:
        """The share card of a scored attempt, for the contestant who took it and nobody else."""
        me = contestant_of(request)
        if me is None:
            raise NotAuthorizedException(detail="not_identified")
        card = await share.card_of(attempt_id, me, lang_of(request))
        if card is None:  # someone else's, a preview, or not scored yet: nothing to show, and nothing said
            raise NotFoundException()
        data = await asyncio.to_thread(share.cached_png, attempt_id, card)
        return Response(data, media_type="image/png", headers={"cache-control": "private, max-age=3600"})
