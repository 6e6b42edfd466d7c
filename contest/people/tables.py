from piccolo.columns import Boolean, ForeignKey, Integer, Serial, SmallInt, Timestamptz, Varchar
from piccolo.constraints import Unique
from piccolo.table import Table

from contest.contests.tables import Contest

# The groups a contestant registers in (a contest may admit only some of them).
GROUPS = ("citizens", "officials", "teachers", "students", "workers", "youth", "soldiers")


class Province(Table):
    code = Integer(primary_key=True)
    name = Varchar(length=100)


class Commune(Table):
    code = Integer(primary_key=True)
    name = Varchar(length=100)
    province = ForeignKey(Province, index=True)
    # Residents, when an organiser has loaded them: the base of participation rates.
    population = Integer(null=True, default=None)


# A collective's code, as the boards, counters and rankings key it (Redis keys, "commune|group" fields): a commune's
# code (vietnam-provinces codes are positive), or minus a unit's id, so that the two can never collide. The column
# contestant.collective holds it (generated from commune and unit), and the view `place` names every code:
# (code, name, province, population) of every commune and, with a negative code, every unit (its headcount as
# population, no province).


def unit_code(unit_id: int) -> int:
    """The collective code of a unit."""
    return -unit_id


def unit_id_of(code: int) -> int | None:
    """The unit behind a collective code, or None for a commune's."""
    return -code if code < 0 else None


class Unit(Table):
    """A collective of a contest with its own units: a department, school, enterprise, party cell; optionally
    within another unit of the same contest (a division within a department)."""

    id: Serial
    contest = ForeignKey(Contest, index=True)
    parent: ForeignKey = ForeignKey("self", null=True, default=None)
    # The organiser's own code (unique in the contest), which the import matches rows on.
    code = Varchar(length=40)
    name = Varchar(length=200)
    # People in the unit, when known: the base of participation rates.
    headcount = Integer(null=True, default=None)
    position = Integer(default=0)

    one_code_per_contest = Unique([contest, code])


class Contestant(Table):
    id: Serial
    # Null only for an organiser's preview stand-in (preview = true): it belongs to no contest, so no registration
    # list, count, export, board or dashboard of a contest can see it.
    contest = ForeignKey(Contest, null=True)
    full_name = Varchar(length=100)
    # Normalised national form, e.g. 0912345678.
    phone = Varchar(length=15)
    # Null once the person's data is erased (on request or after the contest's retention period).
    birth_year = SmallInt(null=True, default=None)
    # The commune, or (in a contest with its own units) null and the unit instead.
    commune = ForeignKey(Commune, null=True, default=None, index=True)
    unit = ForeignKey(Unit, null=True, default=None, index=True)
    group = Varchar(length=20)
    consented_at = Timestamptz()
    # Which consent text (contest.people.privacy.consent_version) the person agreed to.
    consent_version = Varchar(length=40, null=True, default=None)
    created_at = Timestamptz()
    # Where the registration came from: one of the duplicate-account signals, never shown publicly.
    registered_ip = Varchar(length=45, null=True, default=None)
    # When the personal data was anonymised; attempts and scores stay for anonymous statistics.
    erased_at = Timestamptz(null=True, default=None)
    # An organiser's stand-in for "Thi thử" (phone "p<staff id>"): not a person who entered anything.
    preview = Boolean(default=False)

    one_registration_per_phone = Unique([contest, phone])
