"""JSON shapes of /api/v1 (msgspec), for the city's mobile app."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

# PostgreSQL's integer and smallint: an id, a code or a year outside them cannot exist, and is refused (400) before
# any query sees it.
INT4_MAX = 2_147_483_647
SMALLINT_MAX = 32_767
Id = Annotated[int, msgspec.Meta(ge=1, le=INT4_MAX)]
Year = Annotated[int, msgspec.Meta(ge=0, le=SMALLINT_MAX)]


class RegisterIn(msgspec.Struct):
    full_name: str
    phone: str
    birth_year: Year
    # A contest of communes asks for the commune; a contest with its own units (ContestOut.collectives "units") for
    # the unit's id instead (GET /contests/{slug}/units).
    commune: Id | None = None
    group: str = ""
    # Without it (or false) the registration is refused: consent to the personal data notice (GET /privacy).
    consent: bool = False
    province: Id | None = None
    # The version of the notice the app showed (GET /api/v1/privacy); refused when it is no longer the current one.
    consent_version: str | None = None
    unit: Id | None = None


class PrivacyOut(msgspec.Struct):
    """The personal data notice contestants consent to: its current version and where to read it."""

    consent_version: str
    url: str


class IdentifyIn(msgspec.Struct):
    phone: str
    birth_year: Year


class TokenOut(msgspec.Struct):
    token: str
    contestant_id: int


class RoundOut(msgspec.Struct):
    id: int
    number: int
    title: str
    opens_at: datetime
    closes_at: datetime
    max_attempts: int
    state: str
    seconds_left: int


class ContestOut(msgspec.Struct):
    slug: str
    title: str
    description: str
    time_limit_seconds: int
    question_count: int
    rounds: list[RoundOut]
    # The contestant groups it admits: register with one of them. Its places: GET /contests/{slug}/provinces.
    groups: list[str] = msgspec.field(default_factory=list)
    # Questions with several correct options score in part (max(0, right/correct − wrong/incorrect) of a question),
    # else all or nothing.
    partial_credit: bool = False
    # What registrants name and the collective rankings rank: "communes" (GET /contests/{slug}/provinces, then its
    # communes) or "units", the contest's own (GET /contests/{slug}/units).
    collectives: str = "communes"


class UnitOut(msgspec.Struct):
    """A unit a registrant may name; on the boards and in the collective rankings its code is `-id`."""

    id: int
    name: str
    # The unit it is part of (a department's division), for grouping the choices.
    part_of: str | None = None
    headcount: int | None = None


class ProvinceOut(msgspec.Struct):
    code: int
    name: str


class CommuneOut(msgspec.Struct):
    code: int
    name: str


class OptionOut(msgspec.Struct):
    id: int
    text: str


class QuestionOut(msgspec.Struct):
    position: int
    text: str
    options: list[OptionOut]
    chosen: int | None
    image_url: str | None = None
    # Several options are correct ("choose all that apply"): answer with option_ids, every option ticked.
    multiple: bool = False
    chosen_ids: list[int] = msgspec.field(default_factory=list)


class AttemptOut(msgspec.Struct):
    id: int
    round_id: int
    status: str
    deadline: datetime
    seconds_left: int
    prediction: int | None
    ask_prediction: bool
    questions: list[QuestionOut]


class QueuedOut(msgspec.Struct):
    """202 at an opening: not your turn yet. POST `poll` after Retry-After seconds; the time starts when you start."""

    position: int
    wait_seconds: int
    retry_after: int
    poll: str


Seq = Annotated[int, msgspec.Meta(ge=0, le=2**62)]


class AnswerIn(msgspec.Struct):
    """One option (option_id), or for a question with `multiple` the whole set ticked (option_ids, maybe empty)."""

    option_id: Id | None = None
    option_ids: Annotated[list[Id], msgspec.Meta(max_length=26)] | None = None
    # The client's order of its answers to this question (a counter, or its clock in ms): an answer that arrives
    # after a later one (another connection, a retry) changes nothing. Without it, answers count as they arrive.
    seq: Seq | None = None


class PredictionIn(msgspec.Struct):
    value: int | None
    seq: Seq | None = None  # as AnswerIn.seq


class SubmitIn(msgspec.Struct):
    prediction: int | None = None


class StandingOut(msgspec.Struct):
    # The score in questions: a whole number, or a fraction where the contest gives partial credit (7.5).
    correct: int | float
    duration_ms: int
    rank: int
    of: int
    commune_rank: int
    commune_of: int
    # False while the places are provisional (correct answers, then time); True once the round's results are
    # published and the places follow them (the prediction tiebreak, the disqualified left out).
    final: bool = False


class ResultOut(msgspec.Struct):
    attempt_id: int
    status: str
    ready: bool
    correct: int | float | None
    total: int
    duration_ms: int | None
    auto_submitted: bool
    attempts_left: int
    best: StandingOut | None


class BoardRowOut(msgspec.Struct):
    rank: int
    name: str
    phone: str
    commune: str
    correct: int | float
    duration_ms: int


class CommuneCountOut(msgspec.Struct):
    code: int
    name: str
    people: int
    attempts: int


class GroupCountOut(msgspec.Struct):
    group: str
    people: int
    attempts: int


class BoardOut(msgspec.Struct):
    """A public board: short names ("Nguyễn V. A.") and masked phones ("09x****678") only."""

    round_id: int | None
    people: int
    top: list[BoardRowOut]
    communes: list[CommuneCountOut]
    contest_slug: str = ""
    commune: int | None = None
    group: str | None = None
    # How many are on the board shown (everyone's, one commune's or one group's).
    total: int = 0
    groups: list[GroupCountOut] = msgspec.field(default_factory=list)
    # A round's board: False while provisional, True once its results are published; None for a contest's board.
    final: bool | None = None
