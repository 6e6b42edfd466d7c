"""Building contests, rounds and contestants for tests, through the real services."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timedelta

from contest.attempts import answering
from contest.contests.tables import Contest, Round
from contest.demo import TOPICS
from contest.people.service import Registration, register

HAI_PHONG_COMMUNES = (11560, 11557)  # Phường Thuỷ Nguyên, Phường Thiên Hương


@dataclass
class RoundCase:
    contest_id: int
    slug: str
    round_id: int
    per_topic: int

    async def contestant(self, n: int, commune: int = HAI_PHONG_COMMUNES[0], name: str = "Nguyễn Văn An") -> int:
        phone = f"0912{self.round_id % 1000:03d}{n:03d}"
        return await register(self.contest_id, Registration(name, phone, 1990, 31, commune, "citizens", True))


async def make_round(
    now: datetime,
    n: int,
    *,
    per_topic: int = 1,
    time_limit: int = 600,
    max_attempts: int = 2,
    opens_ago: timedelta = timedelta(hours=1),
    closes_in: timedelta = timedelta(days=7),
) -> RoundCase:
    slug = f"t{os.getpid()}-{n}"
    rows = await Contest.insert(
        Contest(
            slug=slug,
            title=f"Test {n}",
            quotas=json.dumps({t: per_topic for t in TOPICS}),
            time_limit_seconds=time_limit,
        )
    ).returning(Contest.id)
    contest_id = rows[0]["id"]
    rounds = await Round.insert(
        Round(
            contest=contest_id,
            number=1,
            title="Tuần 1",
            opens_at=now - opens_ago,
            closes_at=now + closes_in,
            max_attempts=max_attempts,
        )
    ).returning(Round.id)
    return RoundCase(contest_id, slug, rounds[0]["id"], per_topic)


async def certificate_design(contest_id: int, **values: str) -> None:
    """A certificate design with an issuing body and a signer (certificates are awarded only then), or as given."""
    values = {"issuer": "ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG", "signer_name": "Nguyễn Văn Tùng",
              "signer_title": "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH", **values}  # fmt: skip
    columns = ", ".join(values)
    await Contest.raw(
        f"INSERT INTO certificate_design (contest, {columns}, updated_at) VALUES ({{}}, {', '.join('{}' for _ in values)}, "
        f"now()) ON CONFLICT (contest) DO UPDATE SET {', '.join(f'{c} = EXCLUDED.{c}' for c in values)}",
        contest_id,
        *values.values(),
    )


async def answer_key(attempt_id: int) -> dict[int, tuple[int, list[int]]]:
    """position -> (correct option, wrong options): what only the server knows."""
    rows = await Contest.raw(
        "SELECT i.position, o.id, o.is_correct FROM attempt_item i JOIN option o ON o.question = i.question "
        "WHERE i.attempt = {} ORDER BY i.position",
        attempt_id,
    )
    key: dict[int, tuple[int, list[int]]] = {}
    for row in rows:
        right, wrong = key.get(row["position"], (0, []))
        if row["is_correct"]:
            right = row["id"]
        else:
            wrong = [*wrong, row["id"]]
        key[row["position"]] = (right, wrong)
    return key


async def answer(attempt_id: int, contestant_id: int, correct: int) -> None:
    """Answer every question: the first `correct` right, the rest wrong."""
    key = await answer_key(attempt_id)
    for position, (right, wrong) in sorted(key.items()):
        await answering.save_answer(attempt_id, contestant_id, position, right if position <= correct else wrong[0])
