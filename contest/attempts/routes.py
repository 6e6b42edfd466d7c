from __future__ import annotations

from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotAuthorizedException
from litestar.params import Body
from litestar.response import Redirect, Template

from contest.attempts import admission, answering, finishing, push, service, starting
from contest.attempts.result import attempt_result
from contest.certificates import service as certificates
from contest.contests import share
from contest.contests.look import look_of
from contest.contests.service import round_of
from contest.digits import is_digits
from contest.i18n import InputError
from contest.ratelimit import limit
from contest.scoring.queue import kick
from contest.settings import get_settings
from contest.web import contestant_of, errors_of, lang_of, page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _me(request: Request) -> int:
    me = contestant_of(request)
    if me is None:
        raise NotAuthorizedException(detail="not_identified")
    return me


def _go(request: Request, path: str) -> Response:
    """A redirect, which htmx (the waiting page asking again) takes as a full page change."""
    if request.headers.get("hx-request"):
        return Response("", headers={"HX-Redirect": path})
    return Redirect(path=path)


class AttemptController(Controller):
    @post("/rounds/{round_id:int}/start", middleware=[limit("start")])
    async def start(self, request: Request, round_id: int) -> Response:
        return await self._start(request, round_id, may_join=True)

    @post("/rounds/{round_id:int}/queue")
    async def queue(self, request: Request, round_id: int) -> Response:
        """The waiting page asks again here (no rate limit: it only serves a ticket already held)."""
        return await self._start(request, round_id, may_join=False)

    async def _start(self, request: Request, round_id: int, may_join: bool) -> Response:
        me = _me(request)
        turn = await admission.turn(round_id, me, may_join)
        if not turn.admitted:
            rnd = await round_of(round_id) if not turn.holds_ticket else None
            if rnd is not None:  # no ticket (expired, or already used): back to the contest page
                return _go(request, f"/c/{rnd['contest_slug']}")
            waiting = page("attempts/waiting.html", status_code=202, turn=turn, round_id=round_id)
            waiting.headers["Retry-After"] = str(turn.retry_after)
            return waiting
        try:
            attempt_id = await starting.start_attempt(me, round_id)
        except InputError as exc:
            rnd = await round_of(round_id)
            return page(
                "attempts/refused.html",
                status_code=409,
                errors=errors_of(request, exc),
                slug=rnd["contest_slug"] if rnd else "",
            )
        await admission.started(round_id, me)
        return _go(request, f"/attempts/{attempt_id}")

    @get("/attempts/{attempt_id:int}", name="attempt")
    async def show(self, request: Request, attempt_id: int) -> Template | Redirect:
        view = await service.attempt_view(attempt_id, _me(request))
        if view.status != "open":
            return Redirect(path=f"/attempts/{attempt_id}/result")
        return page("attempts/attempt.html", attempt=view)

    @post("/attempts/{attempt_id:int}/answers/{position:int}", status_code=200)
    async def answer(self, request: Request, attempt_id: int, position: int, data: Form) -> Response:
        option = data.get("option", "")
        try:
            seq = answering.parse_seq(data.get("seq"))
            if data.get("multiple") == "1":
                # Choose all that apply: each box is its own field ("tick-<option id>"), so the form sends the whole set.
                ticked = [key.removeprefix("tick-") for key in data if key.startswith("tick-")]
                if not all(is_digits(t) for t in ticked):
                    raise InputError({"option": "option_invalid"})
                await answering.save_choices(attempt_id, _me(request), position, [int(t) for t in ticked], seq)
                return Response("✓" if ticked else "", media_type="text/html")
            if not is_digits(option):
                raise InputError({"option": "option_invalid"})
            await answering.save_answer(attempt_id, _me(request), position, int(option), seq)
        except InputError as exc:
            return Response(next(iter(errors_of(request, exc).values())), status_code=409, media_type="text/html")
        return Response("✓", media_type="text/html")

    @post("/attempts/{attempt_id:int}/prediction", status_code=200)
    async def prediction(self, request: Request, attempt_id: int, data: Form) -> Response:
        try:
            value = answering.parse_prediction(data.get("prediction"))
            await answering.save_prediction(attempt_id, _me(request), value, answering.parse_seq(data.get("seq")))
        except InputError as exc:
            return Response(next(iter(errors_of(request, exc).values())), status_code=422, media_type="text/html")
        return Response("✓", media_type="text/html")

    @post("/attempts/{attempt_id:int}/submit")
    async def submit(self, request: Request, attempt_id: int, data: Form) -> Redirect:
        me = _me(request)
        try:
            value = answering.parse_prediction(data.get("prediction"))
            if value is not None:
                await answering.save_prediction(attempt_id, me, value)
        except InputError:
            pass  # a late or malformed prediction must never cost the contestant their answers
        if (await finishing.submit(attempt_id, me)).first:
            await kick()
        return Redirect(path=f"/attempts/{attempt_id}/result")

    @get("/attempts/{attempt_id:int}/result", name="result")
    async def result(self, request: Request, attempt_id: int) -> Template:
        me = _me(request)
        result = await attempt_result(attempt_id, me)
        review = await service.review(attempt_id, me)
        mine = await certificates.for_result_page(me, result.round_id) if result.ready else []
        meta = await share.share_meta(attempt_id, me, result.contest_slug, lang_of(request)) if result.ready else None
        # With the channel there, the fragment's first request is held at once; without, it polls when told.
        after = 0 if push.available() else push.poll_after(attempt_id)
        return page(
            "attempts/result.html",
            result=result,
            review=review,
            certificates=mine,
            lang=lang_of(request),
            share=meta,
            poll_after=after,
            look=await look_of(result.contest_slug),  # the theme's fingerprinted address, cached for a year
        )

    @get("/attempts/{attempt_id:int}/result/status")
    async def result_status(self, request: Request, attempt_id: int, wait: bool = False) -> Template:
        """The result fragment; with `wait`, held until the worker ranks the attempt (or a while), else paced."""
        me = _me(request)
        hold = get_settings().contest.result_wait_seconds if wait else 0
        result, held = await push.read_when_ranked(attempt_id, lambda: attempt_result(attempt_id, me), lambda r: r.ready, hold)
        mine = await certificates.for_result_page(me, result.round_id) if result.ready else []
        if result.ready:
            return page("attempts/_result.html", result=result, certificates=mine)
        # Held and not ranked yet: ask again at once (the wait cost no query). Otherwise poll when the server says.
        after = 0 if held else push.poll_after(attempt_id)
        response = page("attempts/_result.html", result=result, certificates=mine, poll_after=after)
        if after:
            response.headers["Retry-After"] = str(after)
        return response
