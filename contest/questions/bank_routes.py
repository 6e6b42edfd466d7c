"""Staff pages: /questions (being built)."""

from __future__ import annotations

from litestar import Controller

from contest.staff.guards import require


class QuestionBankController(Controller):
    path = "/questions"
    guards = [require("organiser")]
