"""A contest's public look: its stylesheet of brand colours, its printable rules (thể lệ), the share card of a result."""

from __future__ import annotations

import asyncio

from litestar import Controller, Request, Response, get
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.response import Template

from contest.contests import look, share
from contest.contests.service import contest_by_slug
from contest.settings import get_settings
from contest.web import contestant_of, lang_of, page

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
        headers = {"cache-control": THEME_CACHE, "etag": look.etag(css)}
        if request.headers.get("if-none-match") == headers["etag"]:
            return Response(b"", status_code=304, headers=headers)
        return Response(css, media_type="text/css; charset=utf-8", headers=headers)

    @get("/c/{slug:str}/the-le", name="contest_rules")
    async def rules(self, slug: str) -> Template:
        """The rules (thể lệ) as a page that prints cleanly on A4."""
        info = await contest_by_slug(slug)
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
