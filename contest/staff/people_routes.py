"""Staff pages: /people (being built)."""

from __future__ import annotations

from litestar import Controller

from contest.staff.guards import require


class StaffPeopleController(Controller):
    path = "/people"
    guards = [require("admin")]
