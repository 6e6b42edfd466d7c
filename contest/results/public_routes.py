"""Public pages: published round results (being built)."""

from __future__ import annotations

from litestar import Controller


class PublicResultsController(Controller):
    path = "/results"
