"""/api/v1: the contest journey as JSON, for the city's mobile app. Documented at /schema."""

from __future__ import annotations

import contextlib
from typing import Annotated

from litestar import Controller, Request, Response, get, post, put
from litestar.di import Provide
from litestar.exceptions import NotFoundException
from litestar.params import Parameter

from contest import clock
from contest.api import auth
from contest.api.errors import CONTESTANT_ERRORS, PUBLIC_ERRORS
from contest.api.schemas import (
    INT4_MAX,
    SMALLINT_MAX,
    AnswerIn,
    AttemptOut,
    BoardOut,
    BoardRowOut,
    CommuneCountOut,
    CommuneOut,
    ContestOut,
    GroupCountOut,
    IdentifyIn,
    OptionOut,
    PredictionIn,
    PrivacyOut,
    ProvinceOut,
    QuestionOut,
    QueuedOut,
    RegisterIn,
    ResultOut,
    RoundOut,
    StandingOut,
    SubmitIn,
    TokenOut,
    UnitOut,
)
from contest.attempts import admission, answering, finishing, push, starting
from contest.attempts import service as attempts
from contest.attempts.result import AttemptResult, attempt_result
from contest.contests import service as contests
from contest.i18n import InputError
from contest.leaderboard import views
from contest.leaderboard.scope import contest_scope
from contest.people import service as people
from contest.people import units
from contest.people.privacy import consent_version
from contest.people.service import Registration
from contest.ratelimit import limit
from contest.scoring.queue import kick
from contest.settings import get_settings
from contest.shared import SHARED

# Ids and codes in paths and queries: outside PostgreSQL's integer they cannot exist (400, not a failed query).
PathId = Annotated[int, Parameter(ge=1, le=INT4_MAX)]
QueryId = Annotated[int | None, Parameter(ge=1, le=INT4_MAX)]
# A collective's code: a commune's, or a unit's (minus its id, people.tables.unit_code).
CollectiveId = Annotated[int | None, Parameter(ge=-INT4_MAX, le=INT4_MAX)]


def _in_range(attempt_id: int, position: int = 1) -> None:
    """The same check for the hot routes that read their path themselves."""
    if not 1 <= attempt_id <= INT4_MAX:
        raise InputError({"attempt": "attempt_not_found"})
    if not 1 <= position <= SMALLINT_MAX:
        raise InputError({"position": "position_invalid"})


def _contest_out(info: contests.ContestInfo) -> ContestOut:
    now = clock.now()
    return ContestOut(
        info.slug,
        info.title,
        info.description,
        info.time_limit_seconds,
        info.question_count,
        [
            RoundOut(r.id, r.number, r.title, r.opens_at, r.closes_at, r.max_attempts, r.state(now), r.seconds_left(now))
            for r in info.rounds
        ],
        people.admitted_groups(info.groups),
        info.partial_credit,
        "units" if info.units else "communes",
    )


async def _contest(slug: str) -> contests.ContestInfo:
    info = await contests.contest_by_slug(slug)
    if info is None:
        raise NotFoundException()
    return info


async def _contest_id(slug: str) -> int:
    found = await contests.published_id(slug)
    if found is None:
        raise NotFoundException()
    return found


async def _attempt_out(attempt_id: int, contestant_id: int, view: attempts.AttemptView | None = None) -> AttemptOut:
    v = view or await attempts.attempt_view(attempt_id, contestant_id)
    return AttemptOut(
        v.id,
        v.round_id,
        v.status,
        v.deadline,
        v.seconds_left,
        v.prediction,
        v.ask_prediction,
        [
            QuestionOut(
                i.position,
                i.text,
                [OptionOut(o, t) for o, t in i.options],
                i.chosen,
                f"/media/{i.image}" if i.image else None,
                i.multiple,
                i.ticked,
            )
            for i in v.items
        ],
    )


def _board_out(view: views.BoardView) -> BoardOut:
    return BoardOut(
        view.round_id,
        view.people,
        [BoardRowOut(r.rank, r.name, r.phone, r.commune, r.correct, r.duration_ms) for r in view.rows],
        [CommuneCountOut(c.code, c.name, c.people, c.attempts) for c in view.communes],
        view.contest_slug,
        view.commune,
        view.group,
        view.total,
        [GroupCountOut(g.group, g.people, g.attempts) for g in view.groups],
        view.scope.results_published if view.round_id is not None and view.scope else None,
    )


class PublicApi(Controller):
    path = "/api/v1"
    tags = ["public"]

    @get("/contests", responses=PUBLIC_ERRORS, opt=SHARED)
    async def list_contests(self) -> list[ContestOut]:
        return [_contest_out(c) for c in await contests.current_contests()]

    @get("/contests/{slug:str}", responses=PUBLIC_ERRORS, opt=SHARED)
    async def get_contest(self, slug: str) -> ContestOut:
        return _contest_out(await _contest(slug))

    @get("/privacy", responses=PUBLIC_ERRORS, opt=SHARED)
    async def privacy(self) -> PrivacyOut:
        """The personal data notice (Law 91/2025/QH15) to show before registering, and its version to send back."""
        return PrivacyOut(consent_version(), "/privacy")

    @get("/provinces/{province:int}/communes", responses=PUBLIC_ERRORS, opt=SHARED)
    async def communes(self, province: PathId) -> list[CommuneOut]:
        return [CommuneOut(c["code"], c["name"]) for c in await people.communes_of(province)]

    @get("/contests/{slug:str}/provinces", responses=PUBLIC_ERRORS, opt=SHARED)
    async def contest_provinces(self, slug: str) -> list[ProvinceOut]:
        """The provinces with a commune this contest admits: the only ones a registration may name."""
        info = await _contest(slug)
        return [ProvinceOut(p["code"], p["name"]) for p in await people.provinces(info.id)]

    @get("/contests/{slug:str}/provinces/{province:int}/communes", responses=PUBLIC_ERRORS, opt=SHARED)
    async def contest_communes(self, slug: str, province: PathId) -> list[CommuneOut]:
        """The communes of a province this contest admits (a ticked commune narrows its province)."""
        info = await _contest(slug)
        return [CommuneOut(c["code"], c["name"]) for c in await people.communes_of(province, info.id)]

    @get("/contests/{slug:str}/units", responses=PUBLIC_ERRORS, opt=SHARED)
    async def contest_units(self, slug: str) -> list[UnitOut]:
        """The units a registration in a contest with its own units may name (empty for a contest of communes)."""
        info = await _contest(slug)
        found = await units.units_of(info.id) if info.units else []
        return [UnitOut(u["id"], u["name"], u["parent_name"], u["headcount"]) for u in found if u["joinable"]]

    @post("/contests/{slug:str}/register", middleware=[limit("register")], responses=PUBLIC_ERRORS)
    async def register(self, request: Request, slug: str, data: RegisterIn) -> TokenOut:
        contest_id = await _contest_id(slug)
        reg = Registration(
            data.full_name,
            data.phone,
            data.birth_year,
            data.province or "",
            data.commune or "",
            data.group,
            data.consent,
            data.consent_version,
            data.unit or "",
        )
        contestant_id = await people.register(contest_id, reg, request.client.host if request.client else None)
        return TokenOut(auth.issue(contestant_id), contestant_id)

    @post("/contests/{slug:str}/identify", middleware=[limit("login")], responses=PUBLIC_ERRORS)
    async def identify(self, slug: str, data: IdentifyIn) -> TokenOut:
        contestant_id = await people.identify(await _contest_id(slug), data.phone, data.birth_year)
        return TokenOut(auth.issue(contestant_id), contestant_id)

    @get("/rounds/{round_id:int}/board", responses=PUBLIC_ERRORS, opt=SHARED)
    async def board(self, round_id: PathId, commune: CollectiveId = None, group: str | None = None) -> BoardOut:
        view = await views.board_view(round_id, commune, group=group)
        if view is None:
            raise NotFoundException()
        return _board_out(view)

    @get("/contests/{slug:str}/board", responses=PUBLIC_ERRORS, opt=SHARED)
    async def contest_board(self, slug: str, commune: CollectiveId = None, group: str | None = None) -> BoardOut:
        """Each contestant's best result over every round of the contest."""
        scope = await contest_scope(slug)
        if scope is None:
            raise NotFoundException()
        return _board_out(await views.scope_view(scope, commune, group))


class ContestantApi(Controller):
    path = "/api/v1"
    tags = ["contestant"]
    dependencies = {"me": Provide(auth.api_contestant, sync_to_thread=False)}

    @post("/rounds/{round_id:int}/attempts", middleware=[limit("start")], responses=CONTESTANT_ERRORS)
    async def start(self, me: int, round_id: PathId) -> Response[AttemptOut | QueuedOut]:
        """201 with the attempt; at an opening beyond capacity, 202 with the place in line (see `QueuedOut`)."""
        return await self._start(me, round_id, may_join=True)

    @post("/rounds/{round_id:int}/attempts/queue", responses=CONTESTANT_ERRORS)
    async def queue(self, me: int, round_id: PathId) -> Response[AttemptOut | QueuedOut]:
        """Ask again with the ticket a 202 gave (no rate limit; 422 without a ticket)."""
        return await self._start(me, round_id, may_join=False)

    @staticmethod
    async def _start(me: int, round_id: int, may_join: bool) -> Response[AttemptOut | QueuedOut]:
        turn = await admission.turn(round_id, me, may_join)
        if not turn.admitted:
            if not turn.holds_ticket:
                raise InputError({"round": "not_in_line"})
            poll = f"/api/v1/rounds/{round_id}/attempts/queue"
            queued = QueuedOut(turn.position, turn.wait_seconds, turn.retry_after, poll)
            return Response(queued, status_code=202, headers={"Retry-After": str(turn.retry_after), "Location": poll})
        started = await starting.start(me, round_id)
        await admission.started(round_id, me)
        return Response(await _attempt_out(started.attempt_id, me, started.view), status_code=201)

    @get("/attempts/{attempt_id:int}", responses=CONTESTANT_ERRORS)
    async def show(self, me: int, attempt_id: PathId) -> AttemptOut:
        return await _attempt_out(attempt_id, me)

    # The two hottest routes read the token and path themselves: Litestar's dependency and parameter
    # resolution cost more than the database write at a spike (loadtests/bench_requests.py).
    @put("/attempts/{attempt_id:int}/answers/{position:int}", status_code=204, responses=CONTESTANT_ERRORS)
    async def answer(self, request: Request, data: AnswerIn) -> None:
        p = request.path_params
        me = auth.api_contestant(request)
        _in_range(p["attempt_id"], p["position"])
        if data.option_id is not None and data.option_ids is None:
            await answering.save_answer(p["attempt_id"], me, p["position"], data.option_id, data.seq)
        elif data.option_ids is not None and data.option_id is None:
            await answering.save_choices(p["attempt_id"], me, p["position"], data.option_ids, data.seq)
        else:
            raise InputError({"option": "option_invalid"})

    @put("/attempts/{attempt_id:int}/prediction", status_code=204, responses=CONTESTANT_ERRORS)
    async def prediction(self, me: int, attempt_id: PathId, data: PredictionIn) -> None:
        await answering.save_prediction(attempt_id, me, answering.parse_prediction(data.value), data.seq)

    @post("/attempts/{attempt_id:int}/submit", status_code=200, responses=CONTESTANT_ERRORS)
    async def submit(self, request: Request, data: SubmitIn | None = None) -> ResultOut:
        me, attempt_id = auth.api_contestant(request), request.path_params["attempt_id"]
        _in_range(attempt_id)
        if data is not None and data.prediction is not None:
            value = answering.parse_prediction(data.prediction)  # malformed: 422, nothing written
            # Too late, or already submitted (a retry whose first reply was lost): the prediction is not taken,
            # and the submit still answers, as the page's submit does.
            with contextlib.suppress(InputError):
                await answering.save_prediction(attempt_id, me, value)
        done = await finishing.submit(attempt_id, me)
        if not done.first:
            return await self._result(me, attempt_id)
        await kick()
        # A fresh submit is never scored yet: answer from the submit itself, without another query.
        return ResultOut(
            attempt_id, "submitted", False, None, done.total, done.duration_ms, done.auto_submitted, done.attempts_left, None
        )

    @get("/attempts/{attempt_id:int}/result", responses=CONTESTANT_ERRORS)
    async def result(self, me: int, attempt_id: PathId, wait: int = 0) -> Response[ResultOut]:
        """With `wait` (seconds, at most the server's hold), held until the attempt is ranked. Not ready yet: Retry-After
        says when to ask again (at once after a held wait, else paced and spread by attempt)."""
        hold = max(0, min(wait, get_settings().contest.result_wait_seconds))
        r, held = await push.read_when_ranked(attempt_id, lambda: attempt_result(attempt_id, me), lambda r: r.ready, hold)
        out = self._result_out(r)
        if r.ready:
            return Response(out)
        return Response(out, headers={"Retry-After": str(0 if held else push.poll_after(attempt_id))})

    @classmethod
    async def _result(cls, me: int, attempt_id: int) -> ResultOut:
        return cls._result_out(await attempt_result(attempt_id, me))

    @staticmethod
    def _result_out(r: AttemptResult) -> ResultOut:
        best = r.best
        return ResultOut(
            r.attempt_id,
            r.status,
            r.ready,
            r.correct,
            r.total,
            r.duration_ms,
            r.auto_submitted,
            r.attempts_left,
            StandingOut(best.correct, best.duration_ms, best.rank, best.of, best.commune_rank, best.commune_of, r.final)
            if best
            else None,
        )
