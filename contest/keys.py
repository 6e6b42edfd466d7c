"""Every Redis key format lives here, so a glance shows what Redis holds (all rebuildable from PostgreSQL).

Redis Cluster: a key's slot is the CRC16 of its hash tag (the part in braces), and a script or a multi-key command
must stay in one slot. Every key of a round carries the round's tag, `{12}`: its boards, counters, ranked set and
rendered fragments (`board:{12}`, `board:{12}:c:11560`, `part:{12}:people`, `boardcache:{12}:all`). The
contest-wide boards and counters carry the contest's, `{c3}` (`cboard:{c3}:g:students`, `part:{c3}:registered`,
`boardcache:{c3}:all`): the tag is the scope's name (`Scope.tag`). The ranking script touches only the round's keys;
the contest-wide boards and counters are moved by a second script beside it (idempotent, see leaderboard.counters).
One tag per contest would have kept them in one script, but it would put every round of a contest in one slot, and
on one node. A round's keys move together
in a rebuild, and the SCAN patterns below match the tagged names (braces are not special in a Redis pattern).
A "commune" in these keys and fields is a collective's code: a commune's, or in a contest with its own units minus the
unit's id (people.tables.unit_code), so `board:{12}:c:-7` is unit 7's board.
tests/leaderboard/test_cluster_slots.py checks every command a round's scoring and boards send.
RQ's queues (rq:*) are not cluster-safe (MULTI over several keys): they need a standalone Redis.
"""


def _round(round_id: int) -> str:
    return f"{{{round_id}}}"


def _contest(contest_id: int) -> str:
    return f"{{c{contest_id}}}"


def board(round_id: int) -> str:
    """Sorted set: contestant id -> encoded best result in the round (see leaderboard.scorecode)."""
    return f"board:{_round(round_id)}"


def commune_board(round_id: int, commune: int) -> str:
    """The same, for one commune's contestants."""
    return f"board:{_round(round_id)}:c:{commune}"


def people(round_id: int) -> str:
    """Hash: commune code -> people with at least one scored attempt."""
    return f"part:{_round(round_id)}:people"


def attempts(round_id: int) -> str:
    """Hash: commune code -> scored attempts."""
    return f"part:{_round(round_id)}:attempts"


def ranked(round_id: int) -> str:
    """Set of attempt ids already counted, which makes ranking idempotent."""
    return f"ranked:{_round(round_id)}"


def round_pattern(round_id: int) -> list[str]:
    """Patterns matching every key of one round, for a rebuild."""
    tag = _round(round_id)
    return [f"board:{tag}", f"board:{tag}:c:*", f"board:{tag}:g:*", f"part:{tag}:*", f"ranked:{tag}", f"boardcache:{tag}:*"]


SCORE_LAYOUT = "scorecode:layout"
"""The layout (leaderboard.scorecode.LAYOUT) the boards' scores are in: another one means they need a rebuild."""

SCORING_KICK = "scoring:kick"
"""Flag set while a scoring job is queued and not yet started: one wake-up job per burst of submits."""


def auto_submit_due(epoch: int) -> str:
    """Flag set once an auto-submit job is scheduled for this second (one job for every deadline that falls in it)."""
    return f"scoring:due:{epoch}"


def attempt_ranked(attempt_id: int) -> str:
    """Pub/sub channel: the worker publishes on it when the attempt is ranked (its result page waits on it)."""
    return f"ranked:{attempt_id}"


ADMISSION_LINE = "admission:{line}"
"""Hash: the line of starts at an opening (`issued` tickets, `served` let in, token bucket `tokens` and `at`)."""


def admission_ticket(round_id: int, contestant_id: int) -> str:
    """String, an hour: a waiting contestant's ticket number for a round (same slot as the line, for its script)."""
    return f"admission:{{line}}:{round_id}:{contestant_id}"


def question_upload(token: str) -> str:
    """Hash: a question file uploaded for import (base64 `data`, `name`, `staff`), kept an hour for the confirm step."""
    return f"qimport:{token}:file"


def question_import(token: str) -> str:
    """Hash: progress and outcome of a question import run by a worker (`phase`, `done`, `total`, `state`, `report`)."""
    return f"qimport:{token}:progress"


def group_board(round_id: int, group: str) -> str:
    """Sorted set like `board`, for one contestant group's contestants (officials, students, ...)."""
    return f"board:{_round(round_id)}:g:{group}"


def group_people(round_id: int) -> str:
    """Hash: contestant group -> people with at least one scored attempt."""
    return f"part:{_round(round_id)}:gpeople"


def group_attempts(round_id: int) -> str:
    """Hash: contestant group -> scored attempts."""
    return f"part:{_round(round_id)}:gattempts"


def contest_board(contest_id: int) -> str:
    """Sorted set: contestant id -> best encoded result over every round of the contest."""
    return f"cboard:{_contest(contest_id)}"


def contest_commune_board(contest_id: int, commune: int) -> str:
    """The same, for one commune's contestants."""
    return f"cboard:{_contest(contest_id)}:c:{commune}"


def contest_group_board(contest_id: int, group: str) -> str:
    """The same, for one contestant group."""
    return f"cboard:{_contest(contest_id)}:g:{group}"


def contest_pattern(contest_id: int) -> list[str]:
    """Patterns matching the contest-wide boards and counters (rebuilt by ranking every round of the contest again)."""
    tag = _contest(contest_id)
    return [f"cboard:{tag}", f"cboard:{tag}:*", f"part:{tag}:*", f"ranked:{tag}", f"boardcache:{tag}:*"]


def board_fragment(scope: str, view: str) -> str:
    """String, a few seconds: the rendered public board fragment of a scope ("12" a round, "c3" a contest) and view."""
    return f"boardcache:{{{scope}}}:{view}"


def shared_page(view: str) -> str:
    """String, a minute: one shared rendering of a public page (contest.shared), `view` = address|language|encoding."""
    return f"shared:{view}"


def shared_page_lock(key: str) -> str:
    """String, a few seconds: held by the one process rendering this shared page now (single flight)."""
    return f"lock:{key}"


# Participation counters of a scope (a round, tag "12", or a contest, tag "c3"), kept as attempts are ranked and
# people register (leaderboard.counters). A field "commune|group" is one commune's contestants of one group.
PAIR_PEOPLE = "cgpeople"
"""Hash: "commune|group" -> people with a counted attempt in the scope."""
PAIR_ATTEMPTS = "cgattempts"
"""Hash: "commune|group" -> counted attempts."""
PAIR_BEST = "cgbest"
"""Hash: "commune|group" -> sum of each person's best correct answers (an average is this over the people)."""
BEST = "best"
"""Hash: contestant id -> their best correct answers in the scope (whether and how much a new attempt adds)."""
REGISTERED = "registered"
"""Hash (contests only): "commune|group" -> registered contestants (previews aside)."""
DAY_PEOPLE = "daypeople"
"""Hash (contests only): "day|commune" -> people with a counted attempt started that day (Vietnam time)."""
DAY_ATTEMPTS = "dayattempts"
"""Hash (contests only): "day|commune" -> counted attempts started that day."""
DAY_SEEN = "dayseen"
"""Set (contests only): "day|contestant" already counted among that day's people."""


def tally(scope: str, measure: str) -> str:
    """One participation counter of a scope ("12" a round, "c3" a contest): `part:{12}:cgpeople`."""
    return f"part:{{{scope}}}:{measure}"


def contest_ranked(contest_id: int) -> str:
    """Set of attempt ids already counted in the contest's counters (idempotent, like `ranked`)."""
    return f"ranked:{_contest(contest_id)}"


# RQ queues, named by what they serve. Every worker listens to all of them in the order of QUEUES, so a job on a later
# queue starts only when nothing waits on an earlier one: nothing a staff member starts ever delays a score.
QUEUE_SCORING = "scoring"
"""Scoring submitted attempts and the sweep (auto-submit, re-kick, re-rank)."""
QUEUE_CERTIFICATES = "certificates"
"""Certificate awards, renders and zips."""
QUEUE_IMPORTS = "imports"
"""Question bank imports too large for a request (with a progress bar)."""
QUEUE_PRIVACY = "privacy"
"""The nightly purge of personal data past each contest's retention period."""
QUEUES = (QUEUE_SCORING, QUEUE_CERTIFICATES, QUEUE_IMPORTS, QUEUE_PRIVACY)


def certificate_render(code: str, key: str) -> str:
    """Flag set while a render of this certificate for this render key (design version and public address, see
    certificates.files.render_key) is queued (one job per burst of clicks)."""
    return f"certrender:{code}:{key}"


STORES = "contest"
"""Namespace of Litestar's Redis stores: the store named N keeps its keys under `contest:N:`."""

STAFF_SESSIONS = "staff_sessions"
"""Litestar store of staff sessions (`contest:staff_sessions:<session id>`): the signed-in member, 12 hours."""


def rate_limit(kind: str, client: str) -> str:
    """Counter, a minute: requests of one kind (register, login, start, ...) from one client address."""
    return f"contest_rate_limit_{kind}:{client}"
