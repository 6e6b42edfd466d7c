"""Staff pages: /duplicates (being built)."""

from __future__ import annotations

from litestar import Controller

from contest.staff.guards import require


class DuplicatesController(Controller):
    path = "/duplicates"
    guards = [require("organiser")]
