from piccolo.columns import JSONB, Boolean, ForeignKey, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.table import Table

from contest.contests.tables import Contest


class PracticeSet(Table):
    """A practice set (thi thử, flashcards) an organiser publishes: drawn from the questions released for practice.

    Practice keeps nothing per person: a practice run lives in the browser's cookie session, never in attempts.
    """

    id: Serial
    title = Varchar(length=200)
    description = Text(default="")
    # Questions drawn per topic slug for one practice run, e.g. {"online_safety": 5}; flashcards show all of a topic.
    quotas = JSONB(default="{}")
    # The contest it prepares for, if any: its page links here and its look (logo, colours) is used.
    contest = ForeignKey(Contest, null=True, default=None, on_delete=OnDelete.set_null, index=True)
    published = Boolean(default=False)
    created_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(null=True, default=None)
