"""Every Redis key format lives here, so a glance shows what Redis holds (all rebuildable from PostgreSQL)."""


def board(round_id: int) -> str:
    """Sorted set: contestant id -> encoded best result in the round (see leaderboard.scorecode)."""
    return f"board:{round_id}"


def commune_board(round_id: int, commune: int) -> str:
    """The same, for one commune's contestants."""
    return f"board:{round_id}:c:{commune}"


def people(round_id: int) -> str:
    """Hash: commune code -> people with at least one scored attempt."""
    return f"part:{round_id}:people"


def attempts(round_id: int) -> str:
    """Hash: commune code -> scored attempts."""
    return f"part:{round_id}:attempts"


def ranked(round_id: int) -> str:
    """Set of attempt ids already counted, which makes ranking idempotent."""
    return f"ranked:{round_id}"


def round_pattern(round_id: int) -> list[str]:
    """Patterns matching every key of one round, for a rebuild."""
    return [
        f"board:{round_id}",
        f"board:{round_id}:c:*",
        f"board:{round_id}:g:*",
        f"part:{round_id}:*",
        f"ranked:{round_id}",
        f"boardcache:{round_id}:*",
    ]


SCORING_KICK = "scoring:kick"
"""Flag set while a scoring job is queued and not yet started: one wake-up job per burst of submits."""

QUEUE_SCORING = "scoring"


def question_upload(token: str) -> str:
    """Hash: a question file uploaded for import (base64 `data`, `name`, `staff`), kept an hour for the confirm step."""
    return f"qimport:{token}:file"


def question_import(token: str) -> str:
    """Hash: progress and outcome of a question import run by a worker (`phase`, `done`, `total`, `state`, `report`)."""
    return f"qimport:{token}:progress"


def group_board(round_id: int, group: str) -> str:
    """Sorted set like `board`, for one contestant group's contestants (officials, students, ...)."""
    return f"board:{round_id}:g:{group}"


def group_people(round_id: int) -> str:
    """Hash: contestant group -> people with at least one scored attempt."""
    return f"part:{round_id}:gpeople"


def group_attempts(round_id: int) -> str:
    """Hash: contestant group -> scored attempts."""
    return f"part:{round_id}:gattempts"


def contest_board(contest_id: int) -> str:
    """Sorted set: contestant id -> best encoded result over every round of the contest."""
    return f"cboard:{contest_id}"


def contest_commune_board(contest_id: int, commune: int) -> str:
    """The same, for one commune's contestants."""
    return f"cboard:{contest_id}:c:{commune}"


def contest_group_board(contest_id: int, group: str) -> str:
    """The same, for one contestant group."""
    return f"cboard:{contest_id}:g:{group}"


def contest_pattern(contest_id: int) -> list[str]:
    """Patterns matching the contest-wide boards (rebuilt by ranking every round of the contest again)."""
    return [f"cboard:{contest_id}", f"cboard:{contest_id}:*", f"boardcache:c{contest_id}:*"]


def board_fragment(scope: str, view: str) -> str:
    """String, a few seconds: the rendered public board fragment of a scope ("12" a round, "c3" a contest) and view."""
    return f"boardcache:{scope}:{view}"


def collective(scope: str) -> str:
    """String, a minute: the collective rankings (communes and groups) of a scope, as JSON."""
    return f"boardcache:{scope}:collective"
