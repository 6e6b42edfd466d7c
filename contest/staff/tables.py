from piccolo.columns import JSONB, Boolean, ForeignKey, Integer, Serial, SmallInt, Timestamptz, Varchar
from piccolo.constraints import Unique
from piccolo.table import Table

from contest.people.tables import Commune, Unit

ROLES = ("admin", "organiser", "official")
OUTCOMES = ("ok", "failed")


class Staff(Table):
    """Admins, organisers and commune officials. Contestants never log in this way."""

    id: Serial
    email = Varchar(length=200, unique=True)
    full_name = Varchar(length=100)
    # argon2 hash; empty until an invited person sets their password.
    password_hash = Varchar(length=200, default="")
    role = Varchar(length=20)
    active = Boolean(default=True)
    failed_logins = SmallInt(default=0)
    locked_until = Timestamptz(null=True, default=None)
    # Sessions carry the epoch they were made in; bumping it logs the person out everywhere.
    session_epoch = Integer(default=0)
    # One-time invitation to set a password (hash of the token), and when it expires.
    invite_token_hash = Varchar(length=100, null=True, default=None)
    invite_expires = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class StaffCommune(Table):
    """The communes a commune official is bound to."""

    id: Serial
    staff = ForeignKey(Staff, index=True)
    commune = ForeignKey(Commune)

    one_binding = Unique([staff, commune])


class StaffUnit(Table):
    """The units (of a contest with its own units) an official is bound to; in their scope as unit codes
    (people.tables.unit_code), beside their communes."""

    id: Serial
    staff = ForeignKey(Staff, index=True)
    unit = ForeignKey(Unit)

    one_binding = Unique([staff, unit])


class AuditEntry(Table):
    """Every organiser action: who, what, when."""

    id: Serial
    staff = ForeignKey(Staff, null=True, index=True)
    action = Varchar(length=60)
    # "ok", or "failed" where an action can fail and the attempt is worth recording (imports, sign-ins).
    outcome = Varchar(length=10, default="ok")
    target = Varchar(length=200, default="")
    detail = JSONB(default="{}")
    at = Timestamptz(index=True)
