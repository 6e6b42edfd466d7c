"""Organisers' practice pages under /staff/practice: practice sets, and releasing bank questions for practice."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from contest.contests.builder import topics
from contest.contests.service import contests
from contest.digits import read_int
from contest.i18n import InputError
from contest.practice import release, service
from contest.staff.guards import require
from contest.staff.signin import StaffUser
from contest.web import errors_of, page


async def _set_page(info: service.SetInfo | None, values: dict[str, Any], errors: dict[str, str], status: int = 200) -> Template:
    return page(
        "practice/staff/set.html",
        status_code=status,
        practice=info,
        values=values,
        errors=errors,
        topics=await topics(),
        counts=await release.practice_counts(),
        contests=await contests(),
    )


async def _questions_page(topic: str, errors: dict[str, str] | None = None, status: int = 200) -> Template:
    all_topics = await topics()
    chosen = topic if any(t["slug"] == topic for t in all_topics) else (all_topics[0]["slug"] if all_topics else "")
    return page(
        "practice/staff/questions.html",
        status_code=status,
        topics=all_topics,
        topic=chosen,
        questions=await release.bank_questions(chosen) if chosen else [],
        counts=await release.practice_counts(),
        errors=errors or {},
        public_after=int(service.PUBLIC_AFTER.total_seconds()),
    )


def _echo(form: Any) -> dict[str, Any]:
    return {
        "title": form.get("title", ""),
        "description": form.get("description", ""),
        "contest": read_int(form.get("contest")),
        "quotas": {
            k.removeprefix("quota."): v for k, v in form.items() if k.startswith("quota.") and str(v).strip() not in ("", "0")
        },
    }


class StaffPracticeController(Controller):
    path = "/practice"
    guards = [require("organiser")]

    @get("/", name="staff_practice")
    async def index(self) -> Template:
        return page(
            "practice/staff/list.html", sets=await service.sets(published_only=False), counts=await release.practice_counts()
        )

    @get("/new")
    async def new_form(self) -> Template:
        return await _set_page(None, {"quotas": {}}, {})

    @post("/new")
    async def create(self, request: Request, staff: StaffUser) -> Template | Redirect:
        form = await request.form()
        try:
            values = release.read_set(form, [t["slug"] for t in await topics()])
            set_id = await release.save_set(staff, values)
        except InputError as exc:
            return await _set_page(None, _echo(form), errors_of(request, exc), 422)
        return Redirect(path=f"/staff/practice/{set_id}")

    @get("/{set_id:int}", name="staff_practice_set")
    async def show(self, set_id: int) -> Template | Redirect:
        info = await service.set_of(set_id, published_only=False)
        if info is None:
            return Redirect(path="/staff/practice")
        return await _set_page(info, {"title": info.title, "description": info.description, "quotas": info.quotas,
                                      "contest": info.contest_id}, {})  # fmt: skip

    @post("/{set_id:int}")
    async def edit(self, request: Request, set_id: int, staff: StaffUser) -> Template | Redirect:
        info = await service.set_of(set_id, published_only=False)
        form = await request.form()
        try:
            values = release.read_set(form, [t["slug"] for t in await topics()])
            await release.save_set(staff, values, set_id)
        except InputError as exc:
            return await _set_page(info, _echo(form), errors_of(request, exc), 422)
        return Redirect(path=f"/staff/practice/{set_id}")

    @post("/{set_id:int}/publish")
    async def publish(self, request: Request, set_id: int, staff: StaffUser) -> Template | Redirect:
        form = await request.form()
        try:
            await release.set_published(staff, set_id, form.get("published") == "yes")
        except InputError as exc:
            info = await service.set_of(set_id, published_only=False)
            values = (
                {"title": info.title, "description": info.description, "quotas": info.quotas, "contest": info.contest_id}
                if info
                else {}
            )
            return await _set_page(info, values, errors_of(request, exc), 409)
        return Redirect(path=f"/staff/practice/{set_id}")

    @get("/questions", name="staff_practice_questions")
    async def questions(self, topic: str = "") -> Template:
        return await _questions_page(topic)

    @post("/questions")
    async def change_questions(self, request: Request, staff: StaffUser) -> Template | Redirect:
        """Release the ticked questions for practice, or take them back while their key has not been public."""
        form = await request.form()
        topic = str(form.get("topic", ""))
        ids = form.getall("question", [])
        try:
            if form.get("action") == "withdraw":
                await release.withdraw(staff, ids)
            else:
                await release.release(staff, ids)
        except InputError as exc:
            return await _questions_page(topic, errors_of(request, exc), 409)
        return Redirect(path="/staff/practice/questions", query_params={"topic": topic})
