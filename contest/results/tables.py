from piccolo.columns import BigInt, Boolean, ForeignKey, Integer, Serial, SmallInt, Text, Timestamptz, Varchar
from piccolo.constraints import Unique
from piccolo.table import Table

from contest.attempts.tables import Attempt
from contest.contests.tables import Round
from contest.people.tables import Contestant
from contest.staff.tables import Staff


class RoundResult(Table):
    """A contestant's final standing in a closed round, by the full tie order; what gets published."""

    id: Serial
    round = ForeignKey(Round, index=True)
    contestant = ForeignKey(Contestant, index=True)
    # The best attempt under the tie order, and what it was judged on.
    attempt = ForeignKey(Attempt)
    rank = Integer()
    correct = SmallInt()
    points = Integer(default=0)  # sixtieths of a question, what the order is judged on
    prediction = BigInt(null=True, default=None)
    prediction_gap = BigInt(null=True, default=None)
    duration_ms = Integer()
    submitted_at = Timestamptz()
    # The prize tier name proposed or awarded ("Giải Nhất", ...), if any.
    prize = Varchar(length=60, null=True, default=None)
    disqualified = Boolean(default=False)
    reason = Text(default="")
    decided_by = ForeignKey(Staff, null=True, default=None)

    one_result_per_person = Unique([round, contestant])
