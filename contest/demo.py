"""The demo: Hải Phòng's communes, the "Công dân số" contest with two weekly rounds, 64 questions."""

from __future__ import annotations

import json
from datetime import timedelta

from contest import clock
from contest.contests.tables import Contest, Round
from contest.people.service import load_communes
from contest.questions import service as questions

HAI_PHONG = 31
DEMO_PRIZES = [
    {"name": "Giải Nhất", "count": 1},
    {"name": "Giải Nhì", "count": 2},
    {"name": "Giải Ba", "count": 3},
    {"name": "Giải Khuyến khích", "count": 5},
]
DEMO_SLUG = "cong-dan-so"
TOPICS = {
    "digital_awareness": "Nhận thức số",
    "digital_services": "Dịch vụ số thiết yếu",
    "online_safety": "Tương tác an toàn trên môi trường số",
    "ai_daily": "Trí tuệ nhân tạo trong đời sống",
}


async def load_demo(all_provinces: bool = False) -> str:
    """Load the demo once; running it again changes nothing. Returns what it did."""
    communes = await load_communes(None if all_provinces else [HAI_PHONG])
    if await Contest.exists().where(Contest.slug == DEMO_SLUG):
        return f"demo already loaded ({communes} communes refreshed)"
    topic_ids = await questions.ensure_topics(TOPICS)
    added = await questions.add_questions(questions.demo_bank(), topic_ids)
    rows = await Contest.insert(
        Contest(
            slug=DEMO_SLUG,
            title="Cuộc thi trực tuyến “Công dân số Hải Phòng – sử dụng thông minh, sống an toàn”",
            description=(
                "Tìm hiểu kiến thức, kỹ năng số cơ bản: nhận thức số, dịch vụ số thiết yếu, "
                "tương tác an toàn trên môi trường số và trí tuệ nhân tạo trong đời sống."
            ),
            quotas=json.dumps({slug: 3 for slug in TOPICS}),
            time_limit_seconds=600,
        )
    ).returning(Contest.id)
    contest_id = rows[0]["id"]
    # Round 1 opened yesterday and runs a week; round 2 follows it.
    start = clock.now().replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    for number in (1, 2):
        opens = start + timedelta(days=7 * (number - 1))
        await Round.insert(
            Round(
                contest=contest_id,
                number=number,
                title=f"Tuần thi thứ {number}",
                opens_at=opens,
                closes_at=opens + timedelta(days=7),
                max_attempts=2,
                # Half of the 12 questions right earns the participation certificate.
                pass_mark=6,
                prizes=json.dumps(DEMO_PRIZES),
            )
        )
    return f"demo loaded: {communes} communes, {added} questions, contest '{DEMO_SLUG}' with 2 rounds"
