"""Every public page fits a 360 px phone: wide tables scroll inside their own box, never the page, also once a round has
results with long names, communes and prizes."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

from contest.attempts import answering, finishing, starting
from contest.attempts.tables import Attempt
from contest.contests.tables import Round
from contest.results import service as results
from contest.scoring.queue import kick
from contest.staff.accounts import create_staff
from contest.staff.signin import staff_user
from tests.factories import HAI_PHONG_COMMUNES, answer

LONG_NAMES = ("Nguyễn Thị Thanh Hương Giang", "Trần Nguyễn Hoàng Bảo Khánh", "Lê Phạm Minh Châu")
PRIZES = [{"name": "Giải Khuyến khích đặc biệt", "count": 2}, {"name": "Giải Ba", "count": 1}]


async def _published_round(new_round, worker, clock) -> Any:  # type: ignore[no-untyped-def]
    """A round taken by three people of two communes, scored, closed, its results computed and published."""
    case = await new_round(per_topic=1)
    await Round.update({Round.prizes: json.dumps(PRIZES, ensure_ascii=False)}).where(Round.id == case.round_id)
    for n, name in enumerate(LONG_NAMES, start=1):
        who = await case.contestant(n, commune=HAI_PHONG_COMMUNES[n % 2], name=name)
        attempt_id = await starting.start_attempt(who, case.round_id)
        await answer(attempt_id, who, 4 - n)
        await answering.save_prediction(attempt_id, who, 12_345_678)
        await finishing.submit(attempt_id, who)
    await kick()
    worker()
    assert await Attempt.count().where((Attempt.round == case.round_id) & (Attempt.status == "scored")) == 3
    clock.advance(seconds=2)  # the web process keeps the real time, which is later still
    await Round.update({Round.closes_at: clock.current - timedelta(seconds=1)}).where(Round.id == case.round_id)
    actor = await staff_user(await create_staff(f"o-{uuid.uuid4().hex[:8]}@haiphong.gov.vn", "Ban tổ chức", "organiser"), 0)
    await results.compute_results(actor, case.round_id)
    await results.publish(actor, case.round_id)
    return case


async def test_every_public_page_fits_a_360_px_phone_results_included(phone, new_round, worker, clock) -> None:
    case = await _published_round(new_round, worker, clock)
    pages = [
        "/",
        f"/c/{case.slug}",
        f"/c/{case.slug}/register",
        f"/c/{case.slug}/the-le",
        f"/rounds/{case.round_id}/board",
        f"/c/{case.slug}/board",
        f"/rounds/{case.round_id}/communes",
        f"/c/{case.slug}/communes",
        f"/results/{case.round_id}",
        "/practice/",
        "/verify",
        "/privacy",
    ]
    too_wide = {}
    for path in pages:
        response = await phone.goto(path)
        assert response.status < 400, path
        width = await phone.evaluate("() => document.documentElement.scrollWidth")
        if width > 360:
            too_wide[path] = width
    assert too_wide == {}, f"pages wider than the phone's 360 px: {too_wide}"
    shown = await phone.goto(f"/results/{case.round_id}")
    assert shown.status == 200 and "Giải Khuyến khích đặc biệt" in await phone.content()
