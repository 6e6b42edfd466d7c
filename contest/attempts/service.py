"""An attempt as its contestant sees it: while taking it, the list of their attempts, and the review once the round closes.

Starting lives in starting.py, saving answers in answering.py, submitting and closing in finishing.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from contest import clock, db
from contest.i18n import InputError
from contest.leaderboard.scorecode import question_points
from contest.settings import get_settings


def grace() -> timedelta:
    """How long after its deadline an attempt still takes answers and a submit (a slow network is forgiven)."""
    return timedelta(seconds=get_settings().contest.grace_seconds)


@dataclass
class ItemView:
    position: int
    text: str
    options: list[tuple[int, str]]
    chosen: int | None
    image: str | None = None
    # Several options are correct: checkboxes, "choose all that apply"; `ticked` holds what is ticked.
    multiple: bool = False
    ticked: list[int] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return bool(self.ticked) if self.multiple else self.chosen is not None


@dataclass
class AttemptView:
    id: int
    round_id: int
    contestant_id: int
    status: str
    deadline: datetime
    seconds_left: int
    prediction: int | None
    ask_prediction: bool = True
    # The contest scores questions of several correct options in part: the page says how.
    partial_credit: bool = False
    items: list[ItemView] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return sum(1 for i in self.items if i.answered)


async def attempt_view(attempt_id: int, contestant_id: int, with_items: bool = True) -> AttemptView:
    """The attempt as its contestant sees it: questions and options in their order, never the key."""
    rows = await db.raw(
        "SELECT a.id, a.round, a.contestant, a.status, a.deadline, a.prediction, r.ask_prediction, c.partial_credit "
        "FROM attempt a JOIN round r ON r.id = a.round JOIN contest c ON c.id = r.contest "
        "WHERE a.id = {} AND a.contestant = {}",
        attempt_id,
        contestant_id,
    )
    if not rows:
        raise InputError({"attempt": "attempt_not_found"})
    a = rows[0]
    left = max(0, int((a["deadline"] - clock.now()).total_seconds())) if a["status"] == "open" else 0
    view = AttemptView(
        a["id"],
        a["round"],
        a["contestant"],
        a["status"],
        a["deadline"],
        left,
        a["prediction"],
        a["ask_prediction"],
        bool(a["partial_credit"]),
    )
    if with_items:
        items = await db.raw(
            "SELECT i.position, i.option_ids, i.chosen, i.chosen_set, q.text, q.image FROM attempt_item i "
            "JOIN question q ON q.id = i.question WHERE i.attempt = {} ORDER BY i.position",
            attempt_id,
        )
        option_ids = [o for item in items for o in item["option_ids"]]
        # Only whether a question has several correct options leaves the server here, never which ones.
        rows = await db.raw("SELECT id, text, is_correct FROM option WHERE id = ANY({})", option_ids)
        texts = {r["id"]: r["text"] for r in rows}
        right = {r["id"] for r in rows if r["is_correct"]}
        view.items = [
            ItemView(
                i["position"],
                i["text"],
                [(o, texts[o]) for o in i["option_ids"]],
                i["chosen"],
                i["image"],
                multiple=sum(o in right for o in i["option_ids"]) > 1,
                ticked=list(i["chosen_set"] or []),
            )
            for i in items
        ]
    return view


async def attempts_of(contestant_id: int, round_id: int) -> list[dict]:
    """A contestant's attempts in a round, oldest first."""
    return await db.raw(
        "SELECT id, status, correct, points, total, duration_ms, submitted_at FROM attempt "
        "WHERE contestant = {} AND round = {} ORDER BY id",
        contestant_id,
        round_id,
    )


@dataclass
class ReviewItem:
    position: int
    text: str
    options: list[tuple[str, bool, bool]]  # (text, chosen, correct)
    explanation: str
    partial_credit: bool = False  # the contest's rule for questions of several correct options

    @property
    def right(self) -> bool:
        """All or nothing, as scoring counts it: what was chosen is exactly the correct options (one, or all of several)."""
        return all(chosen == correct for _, chosen, correct in self.options)

    @property
    def multiple(self) -> bool:
        return sum(correct for _, _, correct in self.options) > 1

    @property
    def in_part(self) -> bool:
        """Scored in part: a question of several correct options in a contest giving partial credit."""
        return self.partial_credit and self.multiple

    @property
    def points(self) -> int:
        """The question's points (sixtieths of a question), as the scoring worker counted them."""
        hit = sum(chosen and correct for _, chosen, correct in self.options)
        miss = sum(chosen and not correct for _, chosen, correct in self.options)
        c = sum(correct for _, _, correct in self.options)
        return question_points(len(self.options), c, hit, miss, self.partial_credit)


async def review(attempt_id: int, contestant_id: int) -> list[ReviewItem] | None:
    """The attempt with the key and explanations, once its round has closed (None before: the key stays hidden)."""
    rows = await db.raw(
        "SELECT i.position, q.text, q.explanation, i.chosen, i.chosen_set, i.option_ids, r.closes_at, c.partial_credit "
        "FROM attempt a JOIN round r ON r.id = a.round JOIN contest c ON c.id = r.contest "
        "JOIN attempt_item i ON i.attempt = a.id JOIN question q ON q.id = i.question "
        "WHERE a.id = {} AND a.contestant = {} AND a.status <> 'open' ORDER BY i.position",
        attempt_id,
        contestant_id,
    )
    if not rows or clock.now() < rows[0]["closes_at"]:
        return None
    option_ids = [o for row in rows for o in row["option_ids"]]
    options = {r["id"]: r for r in await db.raw("SELECT id, text, is_correct FROM option WHERE id = ANY({})", option_ids)}
    return [
        ReviewItem(
            row["position"],
            row["text"],
            [
                (options[o]["text"], o == row["chosen"] or o in (row["chosen_set"] or ()), options[o]["is_correct"])
                for o in row["option_ids"]
            ],
            row["explanation"],
            bool(row["partial_credit"]),
        )
        for row in rows
    ]
