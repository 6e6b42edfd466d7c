"""Staff pages: /results (being built)."""

from __future__ import annotations

from litestar import Controller

from contest.staff.guards import require


class StaffResultsController(Controller):
    path = "/results"
    guards = [require("organiser")]
