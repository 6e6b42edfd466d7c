from piccolo.columns import JSONB, ForeignKey, Integer, Serial, SmallInt, Text, Timestamptz, Varchar
from piccolo.constraints import Unique
from piccolo.table import Table


class Contest(Table):
    id: Serial
    slug = Varchar(length=60, unique=True)
    title = Varchar(length=200)
    description = Text(default="")
    # Questions drawn per topic slug, e.g. {"online_safety": 4, ...}; their sum is the attempt's length.
    quotas = JSONB(default="{}")
    time_limit_seconds = Integer(default=900)


class Round(Table):
    id: Serial
    contest = ForeignKey(Contest, index=True)
    number = SmallInt()
    title = Varchar(length=200)
    opens_at = Timestamptz()
    closes_at = Timestamptz()
    max_attempts = SmallInt(default=2)

    one_number_per_contest = Unique([contest, number])
