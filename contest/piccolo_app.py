"""One Piccolo app gathering the tables of every domain, so there is one migration path."""

import os

from piccolo.conf.apps import AppConfig

from contest.attempts.tables import Attempt, AttemptItem
from contest.certificates.tables import Certificate, CertificateDesign
from contest.contests.tables import Contest, Round
from contest.people.tables import Commune, Contestant, Province, Unit
from contest.practice.tables import PracticeSet
from contest.questions.tables import Option, Question, Topic
from contest.results.tables import RoundResult
from contest.staff.tables import AuditEntry, Staff, StaffCommune, StaffUnit

APP_CONFIG = AppConfig(
    app_name="contest",
    migrations_folder_path=os.path.join(os.path.dirname(__file__), "piccolo_migrations"),
    table_classes=[
        Province,
        Commune,
        Topic,
        Question,
        Option,
        Contest,
        Round,
        Unit,
        Contestant,
        Attempt,
        AttemptItem,
        Staff,
        StaffCommune,
        StaffUnit,
        AuditEntry,
        RoundResult,
        CertificateDesign,
        Certificate,
        PracticeSet,
    ],
    migration_dependencies=[],
    commands=[],
)
