from __future__ import annotations

from litestar import Controller, get
from litestar.exceptions import NotFoundException
from litestar.response import Template

from contest.leaderboard import service
from contest.web import page


class BoardController(Controller):
    @get("/rounds/{round_id:int}/board", name="board")
    async def board(self, round_id: int, commune: int | None = None) -> Template:
        view = await service.board_view(round_id, commune)
        if view is None:
            raise NotFoundException()
        return page("leaderboard/board.html", board=view)
