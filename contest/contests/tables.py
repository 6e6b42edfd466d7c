from piccolo.columns import (
    JSONB,
    Array,
    Boolean,
    ForeignKey,
    Integer,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.constraints import Unique
from piccolo.table import Table

# Personal data is kept this many days after the last round's results, unless the contest says otherwise:
# long enough to award prizes and certificates.
DEFAULT_RETENTION_DAYS = 365
# The orders a collective ranking (communes, groups) can be sorted by; the first is the default.
COLLECTIVE_SORTS = ("people", "attempts", "average", "rate")
# What a contest ranks as collectives: the communes of vietnam-provinces (the default), or its own units
# (departments, schools, enterprises, party cells: people.tables.Unit), which registration then asks for.
COLLECTIVES = ("communes", "units")


# Who may enter by place, as SQL over a contest `c` and a commune `m`: nothing ticked admits everyone; a ticked
# commune is in; a ticked province admits every commune of it unless some of them are ticked (they narrow it).
IN_AREA = """(coalesce(cardinality(c.communes), 0) + coalesce(cardinality(c.provinces), 0) = 0
    OR m.code = ANY(c.communes)
    OR (m.province = ANY(c.provinces)
        AND NOT EXISTS (SELECT 1 FROM commune n WHERE n.province = m.province AND n.code = ANY(c.communes))))"""
# Who may enter by group, over a contest `c` and a contestant `p`: no group ticked admits every group.
IN_GROUPS = '(coalesce(cardinality(c.groups), 0) = 0 OR p."group" = ANY(c.groups))'


class Contest(Table):
    id: Serial
    slug = Varchar(length=60, unique=True)
    title = Varchar(length=200)
    description = Text(default="")
    # Thể lệ: the rules text shown to contestants.
    rules = Text(default="")
    # Questions drawn per topic slug, e.g. {"online_safety": 4}; "topic:difficulty" keys draw by
    # difficulty, e.g. {"online_safety:1": 2, "online_safety:3": 1}. Rounds may override it.
    quotas = JSONB(default="{}")
    time_limit_seconds = Integer(default=900)
    # Who may enter; empty means everyone.
    provinces = Array(base_column=Integer(), default=list)
    communes = Array(base_column=Integer(), default=list)
    groups = Array(base_column=Varchar(length=20), default=list)
    # False while an organiser is still building it: not listed, no registrations.
    published = Boolean(default=True)
    # "One prize per person across the contest": a winner of an earlier round is skipped in later ones.
    one_prize_per_person = Boolean(default=False)
    # A question with several correct options scores all or nothing (False), or in part (True, as Moodle offers):
    # max(0, right ticked / correct − wrong ticked / incorrect) of a question. Fixed once the contest has attempts.
    partial_credit = Boolean(default=False)
    # Personal data is kept this many days after the last round's results are published, then anonymised.
    retention_days = Integer(default=DEFAULT_RETENTION_DAYS)
    # The organiser's look: a logo (file name under the media folder, checked and re-encoded on upload) and
    # brand colours ("#rrggbb", dark enough for white text on them); null means the site's own.
    logo = Varchar(length=100, null=True, default=None)
    brand_primary = Varchar(length=7, null=True, default=None)
    brand_accent = Varchar(length=7, null=True, default=None)
    # "communes" or "units" (COLLECTIVES): what registration asks for and what the collective rankings rank.
    collectives = Varchar(length=10, default="communes")


class Round(Table):
    id: Serial
    contest = ForeignKey(Contest, index=True)
    number = SmallInt()
    title = Varchar(length=200)
    opens_at = Timestamptz()
    closes_at = Timestamptz()
    max_attempts = SmallInt(default=2)
    # Overrides of the contest's draw and time limit; null means the contest's.
    quotas = JSONB(null=True, default=None)
    time_limit_seconds = Integer(null=True, default=None)
    pass_mark = SmallInt(null=True, default=None)
    # Prize tiers, e.g. [{"name": "Giải Nhất", "count": 1}, ...].
    prizes = JSONB(default="[]")
    ask_prediction = Boolean(default=True)
    # "draft", then "published" (its window then makes it upcoming, open or closed), then "results" once its results
    # are published.
    state = Varchar(length=12, default="published")
    # Frozen when final results are computed: the real number of participants the prediction is judged against.
    participants_final = Integer(null=True, default=None)
    results_published_at = Timestamptz(null=True, default=None)
    # An organiser closed the round before its time (no start from then on), or suspended it (starts refused until
    # resumed); each with the reason contestants are shown.
    stopped_at = Timestamptz(null=True, default=None)
    stop_reason = Text(default="")
    suspended_at = Timestamptz(null=True, default=None)
    suspend_reason = Text(default="")

    one_number_per_contest = Unique([contest, number])
