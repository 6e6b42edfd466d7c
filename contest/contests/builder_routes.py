"""Staff pages: /contests (being built)."""

from __future__ import annotations

from litestar import Controller

from contest.staff.guards import require


class ContestBuilderController(Controller):
    path = "/contests"
    guards = [require("organiser")]
