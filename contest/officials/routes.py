"""Staff pages: /officials (being built)."""

from __future__ import annotations

from litestar import Controller

from contest.staff.guards import require


class OfficialsController(Controller):
    path = "/officials"
    guards = [require("official", "organiser")]
