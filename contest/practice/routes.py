"""Public practice pages: /practice (sets), a practice run with feedback after each answer, flashcards by topic.

No registration: a practice run lives in the browser's cookie session ({set, questions, option orders, answers}),
so practice never writes attempts, scores or boards.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template

from contest.contests.look import look_of
from contest.digits import is_digits, read_int
from contest.i18n import InputError
from contest.practice import service
from contest.web import errors_of, page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
SESSION_KEY = "practice"
SKIPPED = 0  # the answer recorded for a question practice may no longer show: not counted either way


async def _set(set_id: int) -> service.SetInfo:
    info = await service.set_of(set_id)
    if info is None:
        raise NotFoundException()
    if info.contest_slug:
        info.look = await look_of(info.contest_slug)
    return info


def _run(request: Request, set_id: int) -> dict[str, Any] | None:
    """This browser's practice run on this set, if it has one."""
    run = request.session.get(SESSION_KEY)
    return run if isinstance(run, dict) and run.get("set") == set_id else None


def _save(request: Request, run: dict[str, Any]) -> None:
    request.session[SESSION_KEY] = {**run}


def _score(run: dict[str, Any]) -> tuple[int, int]:
    counted = [r for a, r in zip(run["a"], run["r"], strict=True) if a != SKIPPED]
    return sum(counted), len(counted)


def _htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def _set_page(info: service.SetInfo, run: dict | None, errors: dict[str, str] | None = None, status: int = 200) -> Template:
    return page(
        "practice/set.html",
        status_code=status,
        practice=info,
        topics=await service.topics_of(info),
        run=run,
        errors=errors or {},
    )


class PracticeController(Controller):
    path = "/practice"

    @get("/", name="practice")
    async def index(self) -> Template:
        return page("practice/index.html", sets=await service.sets())

    @get("/{set_id:int}", name="practice_set")
    async def show(self, request: Request, set_id: int) -> Template:
        return await _set_page(await _set(set_id), _run(request, set_id))

    @post("/{set_id:int}/start")
    async def start(self, request: Request, set_id: int) -> Template | Redirect:
        """A new practice run with a fresh draw (any earlier run of this browser is dropped)."""
        info = await _set(set_id)
        try:
            drawn = await service.draw(info)
        except InputError as exc:
            return await _set_page(info, None, errors_of(request, exc), 409)
        _save(request, {"set": set_id, "q": [q for q, _ in drawn], "o": [o for _, o in drawn], "a": [], "r": []})
        return Redirect(path=f"/practice/{set_id}/play")

    @get("/{set_id:int}/play", name="practice_play")
    async def play(self, request: Request, set_id: int, n: int | None = None) -> Template | Redirect:
        """The next question, the feedback on an answered one (?n=), or the score once all are answered."""
        info = await _set(set_id)
        run = _run(request, set_id)
        if run is None:
            return Redirect(path=f"/practice/{set_id}")
        done = len(run["a"])
        if n is not None and 1 <= n <= done and run["a"][n - 1] != SKIPPED:
            return page("practice/play.html", practice=info, run=run, feedback=await self._feedback(run, n), position=n)
        while done < len(run["q"]):
            question = await service.practice_question(run["q"][done], run["o"][done])
            if question is not None:
                return page("practice/play.html", practice=info, run=run, question=question, position=done + 1, errors={})
            # Taken out of practice since the draw (retired, or held back by a round): skip it, uncounted.
            run["a"].append(SKIPPED)
            run["r"].append(0)
            _save(request, run)
            done += 1
        right, total = _score(run)
        return page("practice/play.html", practice=info, run=run, score=(right, total))

    @post("/{set_id:int}/answer")
    async def answer(self, request: Request, set_id: int, data: Form) -> Template | Redirect:
        """Record an answer once and show at once whether it was right, the right answer and the explanation."""
        info = await _set(set_id)
        run = _run(request, set_id)
        if run is None:
            return Redirect(path=f"/practice/{set_id}")
        position = read_int(data.get("position"), 0) or 0
        option = str(data.get("option", ""))
        done = len(run["a"])
        try:
            if not 1 <= position <= min(done + 1, len(run["q"])):
                raise InputError({"position": "position_invalid"})
            if position == done + 1:
                if not is_digits(option) or int(option) not in run["o"][done]:
                    raise InputError({"option": "practice_choose"})
                result = await service.feedback(run["q"][done], run["o"][done], int(option))
                run["a"].append(int(option))
                run["r"].append(1 if result.right else 0)
                _save(request, run)
                feedback = {"result": result, "last": position == len(run["q"])}
            elif run["a"][position - 1] == SKIPPED:
                raise InputError({"practice": "practice_gone"})
            else:
                # An answer sent twice (a double tap, a retry): the first one stands, the feedback is shown again.
                feedback = await self._feedback(run, position)
        except InputError as exc:
            if exc.errors.get("practice") == "practice_gone" and position == done + 1:
                # Taken out of practice since the draw: skipped, uncounted, and the next question is a link away.
                run["a"].append(SKIPPED)
                run["r"].append(0)
                _save(request, run)
                done += 1
            question = await service.practice_question(run["q"][done], run["o"][done]) if done < len(run["q"]) else None
            context = {
                "practice": info,
                "run": run,
                "question": question,
                "position": done + 1,
                "errors": errors_of(request, exc),
            }
            if _htmx(request):
                return page("practice/_question.html", status_code=422, **context)
            return page("practice/play.html", status_code=422, **context)
        if _htmx(request):
            return page("practice/_feedback.html", practice=info, run=run, feedback=feedback, position=position)
        return Redirect(path=f"/practice/{set_id}/play?n={position}")

    @staticmethod
    async def _feedback(run: dict[str, Any], position: int) -> dict[str, Any]:
        """The feedback on an answer already recorded (shown again, never scored again)."""
        i = position - 1
        result = await service.feedback(run["q"][i], run["o"][i], run["a"][i])
        return {"result": result, "last": position == len(run["q"])}

    @get("/{set_id:int}/cards/{topic:str}", name="practice_cards")
    async def cards(self, request: Request, set_id: int, topic: str, n: int = 1, side: str = "front") -> Template:
        """Flashcards of one topic: the question in front, the answer and explanation behind a flip (<details>)."""
        info = await _set(set_id)
        names = {t["slug"]: t["name"] for t in await service.topics_of(info)}
        if topic not in names:
            raise NotFoundException()
        deck = await service.cards(info, topic)
        n = min(max(n, 1), max(len(deck), 1))
        context = {
            "practice": info,
            "topic": topic,
            "topic_name": names[topic],
            "deck": deck,
            "card": deck[n - 1] if deck else None,
            "n": n,
            "back": side == "back",
        }
        return page("practice/_card.html" if _htmx(request) else "practice/cards.html", **context)
