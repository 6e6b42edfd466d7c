"""Staff pages: /contests, where organisers build contests and rounds, preview them and watch them live."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect, Template

from contest import clock
from contest.attempts import answering, finishing
from contest.attempts import service as attempts
from contest.contests import builder, look, preview, stopping
from contest.contests import service as contests
from contest.contests.tables import DEFAULT_RETENTION_DAYS
from contest.digits import is_digits, read_int
from contest.i18n import InputError
from contest.people import service as people
from contest.people.tables import GROUPS
from contest.scoring.queue import kick
from contest.staff.guards import require
from contest.staff.signin import StaffUser
from contest.uploads import MAX_BYTES
from contest.web import errors_of, page

Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


async def _contest_page(contest: dict | None, values: dict, errors: dict, status_code: int = 200, **extra: Any) -> Template:
    chosen = await people.communes_named(values.get("communes", []))
    return page(
        "contests/builder/contest.html",
        status_code=status_code,
        contest=contest,
        values=values,
        errors=errors,
        topics=await builder.topics(),
        bank=await builder.bank_counts(),
        provinces=await people.provinces(),
        chosen_communes=chosen,
        groups=GROUPS,
        rounds=await contests.rounds_of(contest["id"]) if contest else [],
        phase=contests.round_phase,
        **extra,
    )


async def _round_page(contest: dict, rnd: dict | None, values: dict, errors: dict, status_code: int = 200) -> Template:
    return page(
        "contests/builder/round.html",
        status_code=status_code,
        contest=contest,
        round=rnd,
        values=values,
        errors=errors,
        topics=await builder.topics(),
        bank=await builder.bank_counts(),
        phase=contests.round_phase(rnd, clock.now()) if rnd else "draft",
        vn_input=builder.vn_input,
    )


async def _round_refused(request: Request, round_id: int, exc: InputError) -> Template:
    """The round page again, saying why an action was refused."""
    rnd = await contests.round_row(round_id)
    return await _round_page(await contests.contest_row(rnd["contest"]), rnd, _round_values(rnd), errors_of(request, exc), 409)


async def _close_page(round_id: int, values: dict, errors: dict, status_code: int = 200) -> Template:
    rnd = await contests.round_row(round_id)
    return page(
        "contests/builder/close.html",
        status_code=status_code,
        round=rnd,
        stoppable=await stopping.in_progress(round_id),
        values=values,
        errors=errors,
    )


async def _live_page(template: str, round_id: int) -> Template:
    rnd = await contests.round_row(round_id)
    return page(template, round=rnd, counts=await preview.live_counts(round_id), phase=contests.round_phase(rnd, clock.now()))


def _round_values(rnd: dict) -> dict[str, Any]:
    return {**rnd, "opens_at": builder.vn_input(rnd["opens_at"]), "closes_at": builder.vn_input(rnd["closes_at"])}


class ContestBuilderController(Controller):
    path = "/contests"
    guards = [require("organiser")]

    @get("/", name="builder_contests")
    async def index(self) -> Template:
        return page("contests/builder/list.html", contests=await contests.contests())

    @get("/new")
    async def new_form(self) -> Template:
        fresh = {"time_limit_seconds": 900, "quotas": {}, "groups": [], "retention_days": DEFAULT_RETENTION_DAYS}
        return await _contest_page(None, fresh, {})

    @post("/new")
    async def create(self, request: Request, staff: StaffUser) -> Template | Redirect:
        form = await request.form()
        try:
            contest_id = await builder.save_contest(
                staff, form, form.getall("groups", []), form.getall("provinces", []), form.getall("communes", [])
            )
        except InputError as exc:
            return await _contest_page(None, _echo_contest(form), errors_of(request, exc), 422)
        return Redirect(path=f"/staff/contests/{contest_id}")

    @get("/{contest_id:int}", name="builder_contest")
    async def show(self, contest_id: int) -> Template:
        contest = await contests.contest_row(contest_id)
        return await _contest_page(contest, contest, {})

    @post("/{contest_id:int}")
    async def edit(self, request: Request, contest_id: int, staff: StaffUser) -> Template | Redirect:
        contest = await contests.contest_row(contest_id)
        form = await request.form()
        try:
            await builder.save_contest(
                staff,
                form,
                form.getall("groups", []),
                form.getall("provinces", []),
                form.getall("communes", []),
                contest_id,
            )
        except InputError as exc:
            return await _contest_page(contest, _echo_contest(form), errors_of(request, exc), 422)
        return Redirect(path=f"/staff/contests/{contest_id}")

    @post("/{contest_id:int}/publish")
    async def publish(self, request: Request, contest_id: int, staff: StaffUser) -> Redirect:
        form = await request.form()
        await builder.set_contest_published(staff, contest_id, form.get("published") == "yes")
        return Redirect(path=f"/staff/contests/{contest_id}")

    @post("/{contest_id:int}/look", request_max_body_size=2 * MAX_BYTES)
    async def save_look(self, request: Request, contest_id: int, data: Multipart, staff: StaffUser) -> Template | Redirect:
        """The organiser's logo and brand colours: every part checked (contrast included) before anything is saved."""
        contest = await contests.contest_row(contest_id)
        upload = data.get("logo")
        logo = await upload.read() if isinstance(upload, UploadFile) else None
        try:
            await look.save_look(
                staff,
                contest_id,
                data.get("brand_primary"),
                data.get("brand_accent"),
                logo,
                data.get("remove_logo") in ("1", "on"),
            )
        except InputError as exc:
            typed = {"brand_primary": data.get("brand_primary", ""), "brand_accent": data.get("brand_accent", "")}
            return await _contest_page(contest, contest, errors_of(request, exc), 422, look_values=typed)
        return Redirect(path=f"/staff/contests/{contest_id}")

    @get("/communes")
    async def communes(self, province: int | None = None) -> Template:
        rows = await people.communes_of(province) if province else []
        return page("contests/builder/_communes.html", communes=rows)

    @get("/{contest_id:int}/rounds/new")
    async def new_round(self, contest_id: int) -> Template:
        contest = await contests.contest_row(contest_id)
        return await _round_page(contest, None, {"max_attempts": 2, "ask_prediction": True, "quotas": None}, {})

    @post("/{contest_id:int}/rounds/new")
    async def create_round(self, request: Request, contest_id: int, staff: StaffUser) -> Template | Redirect:
        contest = await contests.contest_row(contest_id)
        form = await request.form()
        try:
            values = builder.read_round(form, form.getall("prize_name", []), form.getall("prize_count", []))
            round_id = await builder.create_round(staff, contest_id, values)
        except InputError as exc:
            return await _round_page(contest, None, _echo_round(form), errors_of(request, exc), 422)
        return Redirect(path=f"/staff/contests/rounds/{round_id}")

    @get("/rounds/{round_id:int}", name="builder_round")
    async def show_round(self, round_id: int) -> Template:
        rnd = await contests.round_row(round_id)
        return await _round_page(await contests.contest_row(rnd["contest"]), rnd, _round_values(rnd), {})

    @post("/rounds/{round_id:int}")
    async def edit_round(self, request: Request, round_id: int, staff: StaffUser) -> Template | Redirect:
        rnd = await contests.round_row(round_id)
        form = await request.form()
        try:
            if rnd["participants_final"] is not None and "opens_at" not in form:
                values = builder.read_title(form)  # the locked fields are disabled, so not sent
            else:
                values = builder.read_round(form, form.getall("prize_name", []), form.getall("prize_count", []))
            await builder.update_round(staff, round_id, values)
        except InputError as exc:
            return await _round_page(
                await contests.contest_row(rnd["contest"]), rnd, _echo_round(form), errors_of(request, exc), 422
            )
        return Redirect(path=f"/staff/contests/rounds/{round_id}")

    @post("/rounds/{round_id:int}/state")
    async def change_state(self, request: Request, round_id: int, staff: StaffUser) -> Template | Redirect:
        form = await request.form()
        actions = {
            "publish": builder.publish_round,
            "draft": builder.unpublish_round,
            "results": builder.publish_results,
        }
        action = actions.get(str(form.get("to", "")))
        try:
            if action is None:
                raise InputError({"state": "state_invalid"})
            await action(staff, round_id)
        except InputError as exc:
            return await _round_refused(request, round_id, exc)
        return Redirect(path=f"/staff/contests/rounds/{round_id}")

    @get("/rounds/{round_id:int}/close", name="builder_close")
    async def close_form(self, round_id: int) -> Template:
        """The confirmation before closing a round now: how many are mid-attempt, and what happens to them."""
        return await _close_page(round_id, {}, {})

    @post("/rounds/{round_id:int}/close")
    async def close_now(self, request: Request, round_id: int, staff: StaffUser) -> Template | Redirect:
        form = await request.form()
        try:
            if await stopping.close_now(staff, round_id, str(form.get("reason", "")), str(form.get("attempts", ""))):
                await kick()
        except InputError as exc:
            return await _close_page(round_id, dict(form), errors_of(request, exc), 422)
        return Redirect(path=f"/staff/contests/rounds/{round_id}")

    @post("/rounds/{round_id:int}/suspend")
    async def suspend(self, request: Request, round_id: int, staff: StaffUser) -> Template | Redirect:
        form = await request.form()
        try:
            await stopping.suspend(staff, round_id, str(form.get("reason", "")))
        except InputError as exc:
            return await _round_refused(request, round_id, exc)
        return Redirect(path=f"/staff/contests/rounds/{round_id}")

    @post("/rounds/{round_id:int}/resume")
    async def resume(self, request: Request, round_id: int, staff: StaffUser) -> Template | Redirect:
        try:
            await stopping.resume(staff, round_id)
        except InputError as exc:
            return await _round_refused(request, round_id, exc)
        return Redirect(path=f"/staff/contests/rounds/{round_id}")

    @get("/rounds/{round_id:int}/live", name="builder_live")
    async def live(self, round_id: int) -> Template:
        return await _live_page("contests/builder/live.html", round_id)

    @get("/rounds/{round_id:int}/live/counts")
    async def live_counts(self, round_id: int) -> Template:
        """The counts alone, which the live page fetches every few seconds."""
        return await _live_page("contests/builder/_live.html", round_id)

    @post("/rounds/{round_id:int}/preview")
    async def start_preview(self, request: Request, round_id: int, staff: StaffUser) -> Template | Redirect:
        try:
            attempt_id = await preview.start_preview(staff, round_id)
        except InputError as exc:
            return await _round_refused(request, round_id, exc)
        return Redirect(path=f"/staff/contests/previews/{attempt_id}")

    @get("/previews/{attempt_id:int}", name="builder_preview")
    async def preview(self, attempt_id: int, staff: StaffUser) -> Template:
        me = await preview.preview_owner(staff, attempt_id)
        view = await attempts.attempt_view(attempt_id, me)
        rnd = await contests.round_row(view.round_id)
        result = await attempts.attempts_of(me, view.round_id)
        return page(
            "contests/builder/preview.html",
            attempt=view,
            round=rnd,
            key=await preview.answer_key(attempt_id),
            result=next((a for a in result if a["id"] == attempt_id), None),
        )

    @post("/previews/{attempt_id:int}/answers/{position:int}", status_code=200)
    async def preview_answer(self, request: Request, attempt_id: int, position: int, staff: StaffUser) -> Response:
        form = await request.form()
        option = str(form.get("option", ""))
        try:
            me = await preview.preview_owner(staff, attempt_id)
            if not is_digits(option):
                raise InputError({"option": "option_invalid"})
            await answering.save_answer(attempt_id, me, position, int(option))
        except InputError as exc:
            return Response(next(iter(errors_of(request, exc).values())), status_code=409, media_type="text/html")
        return Response("✓", media_type="text/html")

    @post("/previews/{attempt_id:int}/submit")
    async def preview_submit(self, attempt_id: int, staff: StaffUser) -> Redirect:
        me = await preview.preview_owner(staff, attempt_id)
        if (await finishing.submit(attempt_id, me)).first:
            await kick()
        return Redirect(path=f"/staff/contests/previews/{attempt_id}")


def _echo_contest(form: Any) -> dict[str, Any]:
    """What was typed, to show the form again with its errors."""
    return {
        "title": form.get("title", ""),
        "description": form.get("description", ""),
        "rules": form.get("rules", ""),
        "time_limit_seconds": _minutes(form.get("time_limit_minutes")),
        "quotas": _typed_quotas(form),
        "groups": form.getall("groups", []),
        "provinces": [int(p) for p in form.getall("provinces", []) if is_digits(p)],
        "communes": [int(c) for c in form.getall("communes", []) if is_digits(c)],
        "retention_days": form.get("retention_days", ""),
        "partial_credit": form.get("scoring") == "partial",
    }


def _echo_round(form: Any) -> dict[str, Any]:
    quotas = _typed_quotas(form)
    return {
        "title": form.get("title", ""),
        "opens_at": form.get("opens_at", ""),
        "closes_at": form.get("closes_at", ""),
        "time_limit_seconds": _minutes(form.get("time_limit_minutes")),
        "max_attempts": form.get("max_attempts", ""),
        "pass_mark": form.get("pass_mark", ""),
        "quotas": quotas or None,
        "prizes": [
            {"name": n, "count": c} for n, c in zip(form.getall("prize_name", []), form.getall("prize_count", []), strict=False)
        ],
        "ask_prediction": form.get("ask_prediction") == "yes",
    }


def _minutes(value: Any) -> int | None:
    minutes = read_int(value)
    return None if minutes is None else minutes * 60


def _typed_quotas(form: Any) -> dict[str, Any]:
    return {k.removeprefix("quota."): v for k, v in form.items() if k.startswith("quota.") and str(v).strip() not in ("", "0")}
