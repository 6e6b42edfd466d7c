"""Public boards of a round and of a whole contest, their live fragment, "where am I", collective rankings.

Every public page shows short names and masked phones only (leaderboard.views.public_rows).
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, MediaType, Request, get
from litestar.exceptions import NotFoundException
from litestar.response import Response, Template

from contest.contests.tables import COLLECTIVE_SORTS
from contest.i18n import InputError
from contest.leaderboard import collective as collective_rankings
from contest.leaderboard import views
from contest.leaderboard.scope import Scope, contest_scope, round_scope
from contest.people import service as people
from contest.ratelimit import limit
from contest.shared import SHARED
from contest.web import contestant_of, errors_of, page

LIVE_SECONDS = 5  # how often a viewer's page asks for the fragment
# How often a signed-in viewer's page asks for their own places: personal, so never shared, and it changes only when
# they are scored (the result page tells them at once): every request here costs the app, unlike the shared top.
MINE_SECONDS = 30
STOP_POLLING = 286  # htmx: stop the polling trigger of this element
TOP = 20


def _render(request: Request, name: str, **context: Any) -> str:
    # Rendered outside a Template response: the request goes in by hand, for the reader's language.
    return request.app.template_engine.get_template(name).render(request=request, **context)  # type: ignore[union-attr]


async def _round(round_id: int) -> Scope:
    scope = await round_scope(round_id)
    if scope is None:
        raise NotFoundException()
    return scope


async def _contest(slug: str) -> Scope:
    scope = await contest_scope(slug)
    if scope is None:
        raise NotFoundException()
    return scope


def _base(scope: Scope) -> str:
    return f"/rounds/{scope.round_id}/board" if scope.round_id is not None else f"/c/{scope.contest_slug}/board"


async def _live(request: Request, scope: Scope, commune: int | None, group: str | None) -> str:
    """The top of one view (the route is one shared rendering: contest.shared)."""
    commune, group, _ = views.view_filter(commune, group)
    rows, total = await views.board_rows(scope, commune, group, TOP)
    return _render(request, "leaderboard/_top.html", rows=rows, total=total)


async def _mine(request: Request, scope: Scope) -> Response[str]:
    """The signed-in contestant's own places under a board, refreshed with it; 286 stops htmx asking anyone else."""
    me = contestant_of(request)
    mine = await views.my_places(scope, me) if me is not None else None
    if mine is None:
        return Response("", status_code=STOP_POLLING, media_type=MediaType.HTML)
    return Response(_render(request, "leaderboard/_mine.html", mine=mine, searched=False), media_type=MediaType.HTML)


async def _board_page(request: Request, scope: Scope, commune: int | None, group: str | None) -> Template:
    view = await views.scope_view(scope, commune, group, n=0)  # the top comes from the shared fragment
    live = await _live(request, scope, view.commune, view.group)
    query = f"?commune={view.commune}" if view.commune is not None else f"?group={view.group}" if view.group else ""
    return page(
        "leaderboard/board.html",
        board=view,
        live=live,
        base=_base(scope),
        query=query,
        every=LIVE_SECONDS,
        mine_every=MINE_SECONDS,
    )


async def _find_me(request: Request, scope: Scope, phone: str, birth_year: str) -> Template:
    try:
        contestant_id = await people.identify(scope.contest_id, phone, birth_year)
    except InputError as exc:
        return page("leaderboard/_mine.html", mine=None, searched=True, errors=errors_of(request, exc))
    return page("leaderboard/_mine.html", mine=await views.my_places(scope, contestant_id), searched=True, errors={})


async def _collective_page(scope: Scope, by: str) -> Template:
    result = await collective_rankings.collective(scope)
    return page(
        "leaderboard/collective.html",
        scope=scope,
        base=_base(scope),
        by=by if by in COLLECTIVE_SORTS else "people",
        result=result,
        communes=collective_rankings.ranked(result.communes, by),
        groups=collective_rankings.ranked(result.groups, by),
    )


class BoardController(Controller):
    @get("/rounds/{round_id:int}/board", name="board", opt=SHARED)
    async def board(self, request: Request, round_id: int, commune: int | None = None, group: str | None = None) -> Template:
        return await _board_page(request, await _round(round_id), commune, group)

    @get("/rounds/{round_id:int}/board/live", media_type=MediaType.HTML, opt=SHARED)
    async def board_live(
        self, request: Request, round_id: int, commune: int | None = None, group: str | None = None
    ) -> Response[str]:
        return Response(await _live(request, await _round(round_id), commune, group), media_type=MediaType.HTML)

    @get("/rounds/{round_id:int}/board/me", middleware=[limit("login")])
    async def board_me(self, request: Request, round_id: int, phone: str = "", birth_year: str = "") -> Template:
        return await _find_me(request, await _round(round_id), phone, birth_year)

    @get("/rounds/{round_id:int}/board/mine", media_type=MediaType.HTML)
    async def board_mine(self, request: Request, round_id: int) -> Response[str]:
        return await _mine(request, await _round(round_id))

    @get("/rounds/{round_id:int}/communes", name="round_collective", opt=SHARED)
    async def round_collective(self, round_id: int, by: str = "people") -> Template:
        return await _collective_page(await _round(round_id), by)

    @get("/c/{slug:str}/board", name="contest_board", opt=SHARED)
    async def contest_board(self, request: Request, slug: str, commune: int | None = None, group: str | None = None) -> Template:
        return await _board_page(request, await _contest(slug), commune, group)

    @get("/c/{slug:str}/board/live", media_type=MediaType.HTML, opt=SHARED)
    async def contest_board_live(
        self, request: Request, slug: str, commune: int | None = None, group: str | None = None
    ) -> Response[str]:
        return Response(await _live(request, await _contest(slug), commune, group), media_type=MediaType.HTML)

    @get("/c/{slug:str}/board/me", middleware=[limit("login")])
    async def contest_board_me(self, request: Request, slug: str, phone: str = "", birth_year: str = "") -> Template:
        return await _find_me(request, await _contest(slug), phone, birth_year)

    @get("/c/{slug:str}/board/mine", media_type=MediaType.HTML)
    async def contest_board_mine(self, request: Request, slug: str) -> Response[str]:
        return await _mine(request, await _contest(slug))

    @get("/c/{slug:str}/communes", name="contest_collective", opt=SHARED)
    async def contest_collective(self, slug: str, by: str = "people") -> Template:
        return await _collective_page(await _contest(slug), by)
