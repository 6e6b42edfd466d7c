"""The demo: Hải Phòng's communes, the "Công dân số" contest with two weekly rounds, 64 questions, a certificate design;
and a ministry's contest among its ~20 departments (its own units, with headcounts), so both kinds of collective can be
tried."""

from __future__ import annotations

import json
from datetime import timedelta

from contest import clock
from contest.certificates import design
from contest.contests.tables import Contest, Round
from contest.people.service import load_communes
from contest.people.tables import Unit
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


MINISTRY_SLUG = "chuyen-doi-so-bo-noi-vu"
# The ministry's departments (code, name, headcount, code of the department it is part of).
MINISTRY_UNITS = [
    ("VP", "Văn phòng Bộ", None, None),
    ("VP-HC", "Phòng Hành chính – Văn thư", 34, "VP"),
    ("VP-TH", "Phòng Tổng hợp", 28, "VP"),
    ("TCBC", "Vụ Tổ chức – Biên chế", 42, None),
    ("CQDP", "Vụ Chính quyền địa phương", 38, None),
    ("CCVC", "Vụ Công chức – Viên chức", 45, None),
    ("TL", "Vụ Tiền lương", 31, None),
    ("TCPCP", "Vụ Tổ chức phi chính phủ", 27, None),
    ("HTQT", "Vụ Hợp tác quốc tế", 24, None),
    ("PC", "Vụ Pháp chế", 22, None),
    ("KHTC", "Vụ Kế hoạch – Tài chính", 36, None),
    ("TCCB", "Vụ Tổ chức cán bộ", 29, None),
    ("CCHC", "Vụ Cải cách hành chính", 33, None),
    ("TTB", "Thanh tra Bộ", 40, None),
    ("VTLT", "Cục Văn thư và Lưu trữ nhà nước", 118, None),
    ("VL", "Cục Việc làm", 76, None),
    ("QLLDNN", "Cục Quản lý lao động ngoài nước", 64, None),
    ("ATLD", "Cục An toàn lao động", 52, None),
    ("NCC", "Cục Người có công", 58, None),
    ("BTGCP", "Ban Tôn giáo Chính phủ", 85, None),
    ("TDKT", "Ban Thi đua – Khen thưởng Trung ương", 72, None),
    ("TTTT", "Trung tâm Thông tin", 26, None),
]


async def load_demo(all_provinces: bool = False) -> str:
    """Load the demo once; running it again changes nothing. Returns what it did."""
    communes = await load_communes(None if all_provinces else [HAI_PHONG])
    ministry = await load_ministry_demo()
    if await Contest.exists().where(Contest.slug == DEMO_SLUG):
        return f"demo already loaded ({communes} communes refreshed){ministry}"
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
    # A design with an issuing body and a signer: certificates are awarded only then.
    await design.save_sample(contest_id)
    return (
        f"demo loaded: {communes} communes, {added} questions, contest '{DEMO_SLUG}' with 2 rounds and a certificate "
        f"design{ministry}"
    )


async def load_ministry_demo() -> str:
    """A ministry's contest among its departments (its own units with headcounts), one round open for a week; once."""
    if await Contest.exists().where(Contest.slug == MINISTRY_SLUG):
        return ""
    await questions.ensure_topics(TOPICS)
    rows = await Contest.insert(
        Contest(
            slug=MINISTRY_SLUG,
            title="Cuộc thi trực tuyến tìm hiểu về chuyển đổi số trong cơ quan Bộ Nội vụ",
            description="Dành cho công chức, viên chức, người lao động các vụ, cục, đơn vị thuộc Bộ.",
            quotas=json.dumps({slug: 2 for slug in TOPICS}),
            time_limit_seconds=600,
            collectives="units",
        )
    ).returning(Contest.id)
    contest_id = rows[0]["id"]
    ids: dict[str, int] = {}
    for position, (code, name, headcount, parent) in enumerate(MINISTRY_UNITS):
        made = await Unit.insert(
            Unit(contest=contest_id, code=code, name=name, headcount=headcount, position=position, parent=ids.get(parent or ""))
        ).returning(Unit.id)
        ids[code] = made[0]["id"]
    opens = clock.now().replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    await Round.insert(
        Round(
            contest=contest_id,
            number=1,
            title="Đợt thi thứ nhất",
            opens_at=opens,
            closes_at=opens + timedelta(days=7),
            max_attempts=2,
            pass_mark=4,
            prizes=json.dumps(DEMO_PRIZES[:3]),
        )
    )
    return f"; contest '{MINISTRY_SLUG}' among {len(MINISTRY_UNITS)} units"
