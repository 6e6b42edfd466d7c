from piccolo.columns import (
    Array,
    BigInt,
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    SmallInt,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Unique
from piccolo.table import Table

from contest.contests.tables import Round
from contest.people.tables import Contestant
from contest.questions.tables import Question


class Attempt(Table):
    id: Serial
    round = ForeignKey(Round, index=True)
    contestant = ForeignKey(Contestant, index=True)
    # open -> submitted -> scored; the status change is what makes scoring happen once.
    status = Varchar(length=10, default="open", index=True)
    started_at = Timestamptz()
    deadline = Timestamptz(index=True)
    submitted_at = Timestamptz(null=True, default=None)
    # True when the server closed the attempt at its deadline.
    auto_submitted = Boolean(default=False)
    prediction = BigInt(null=True, default=None)
    # The order the client gave the prediction in (see AttemptItem.answer_seq).
    prediction_seq = BigInt(null=True, default=None)
    # Questions right in full, and the score in sixtieths of a question (leaderboard.scorecode.UNIT): equal to
    # correct × 60 unless the contest gives partial credit.
    correct = SmallInt(null=True, default=None)
    points = Integer(null=True, default=None)
    total = SmallInt()
    duration_ms = Integer(null=True, default=None)
    scored_at = Timestamptz(null=True, default=None)
    # An organiser's preview: scored, never ranked or counted.
    preview = Boolean(default=False)
    ranked_at = Timestamptz(null=True, default=None)


class AttemptItem(Table):
    id: Serial
    attempt = ForeignKey(Attempt)
    position = SmallInt()
    # Indexed: "was this question ever drawn?" decides whether an edit makes a new version.
    question = ForeignKey(Question, index=True)
    # Option ids in the order this contestant sees them.
    option_ids = Array(base_column=Integer())
    chosen = Integer(null=True, default=None)
    # A question with several correct options ("choose all that apply"): every option ticked, in any order;
    # null for a one-answer question (`chosen`), empty when every box was unticked again.
    chosen_set = Array(base_column=Integer(), null=True, default=None)
    answered_at = Timestamptz(null=True, default=None)
    # The order the client gave its answers in (the page's clock in ms, or an API client's counter): a request that
    # arrives after a later one of the same question (another connection, a retry, a queue) changes nothing.
    # Null: a client that sends no order (a form without script), whose answers count in the order they arrive.
    answer_seq = BigInt(null=True, default=None)

    # Also the index every answer save goes through.
    one_item_per_position = Unique([attempt, position])
