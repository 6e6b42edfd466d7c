"""Staff pages: /communes (being built)."""

from __future__ import annotations

from litestar import Controller

from contest.staff.guards import require


class PopulationController(Controller):
    path = "/communes"
    guards = [require("organiser")]
