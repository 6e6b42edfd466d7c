from piccolo.columns import Boolean, ForeignKey, Integer, Serial, SmallInt, Text, Timestamptz, Varchar
from piccolo.table import Table

from contest.contests.tables import Contest, Round
from contest.people.tables import Contestant
from contest.staff.tables import Staff

KINDS = ("participation", "prize", "collective")


class CertificateDesign(Table):
    """What an organiser sets for a contest's certificates: wording, signer, images, and the award rules."""

    id: Serial
    contest = ForeignKey(Contest, unique=True)
    issuer = Varchar(length=200, default="")
    # "Hải Phòng" in "Hải Phòng, ngày 22 tháng 11 năm 2026".
    place = Varchar(length=100, default="")
    signer_name = Varchar(length=120, default="")
    signer_title = Varchar(length=120, default="")
    participation_text = Text(default="")
    prize_text = Text(default="")
    collective_text = Text(default="")
    # File names in the storage folder (checked and re-encoded on upload); empty for the built-in look.
    background = Varchar(length=120, default="")
    seal = Varchar(length=120, default="")
    signature = Varchar(length=120, default="")
    award_participation = Boolean(default=True)
    # How many of the best communes get a collective certificate (giấy khen), 0 for none.
    collective_top = SmallInt(default=3)
    # The measure communes are ranked by for it: people, attempts, average or rate (per 1,000 inhabitants).
    collective_by = Varchar(length=12, default="people")
    # A hash of everything above: cached renders carry it, so a change re-renders them.
    version = Varchar(length=16, default="")
    updated_at = Timestamptz()


class Certificate(Table):
    """One certificate: a person's participation or prize, or a commune's collective award."""

    id: Serial
    # ≥ 64 random bits, in the QR code and the /verify/<code> address.
    code = Varchar(length=24, unique=True)
    kind = Varchar(length=16)
    contest = ForeignKey(Contest, index=True)
    round = ForeignKey(Round, null=True, default=None, index=True)
    contestant = ForeignKey(Contestant, null=True, default=None, index=True)
    commune = Integer(index=True)
    # "p:<contestant>" or "c:<commune>": exactly one certificate per holder, contest and kind.
    subject = Varchar(length=24)
    # The name as printed (NFC), frozen at award time; a commune's name for a collective certificate.
    holder = Varchar(length=200)
    prize = Varchar(length=60, null=True, default=None)
    correct = SmallInt(null=True, default=None)
    points = Integer(null=True, default=None)  # sixtieths of a question
    total = SmallInt(null=True, default=None)
    issued_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)
    revoke_reason = Text(default="")
    revoked_by = ForeignKey(Staff, null=True, default=None)
    # Revoked because its round's results were reopened: the holder may be awarded again once they are published
    # anew. The partial unique index one_per_holder_and_kind (contest, kind, subject) WHERE NOT superseded (made in
    # its migration: Piccolo has no partial constraint) keeps one current certificate per holder, contest and kind.
    superseded = Boolean(default=False)
