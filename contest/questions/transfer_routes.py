"""Staff pages: /questions/transfer (being built)."""

from __future__ import annotations

from litestar import Controller

from contest.staff.guards import require


class QuestionTransferController(Controller):
    path = "/questions/transfer"
    guards = [require("organiser")]
