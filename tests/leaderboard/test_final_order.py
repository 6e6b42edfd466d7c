"""Once a round's results are published, every board, "my places" and the collective rankings show the published
order (the prediction tiebreak applied, the disqualified removed); before that, boards say they are provisional.
The results' inputs are locked in the builder until an organiser reopens them with a reason."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import asyncpg

from contest import keys
from contest.api import auth
from contest.contests import builder
from contest.contests.tables import Contest, Round
from contest.leaderboard.collective import collective, count_collective
from contest.leaderboard.rebuild import check_contest, check_round, rebuild_round
from contest.leaderboard.scope import contest_scope, round_scope
from contest.redis import async_redis
from contest.results import service
from contest.scoring.queue import kick
from contest.scoring.service import rank_ids
from contest.settings import get_settings
from contest.staff.tables import AuditEntry
from tests.factories import HAI_PHONG_COMMUNES, RoundCase
from tests.results.test_results import _organiser, _take
from tests.staff.test_signin import csrf_of, sign_in, staff

HOME, AWAY = HAI_PHONG_COMMUNES[0], HAI_PHONG_COMMUNES[1]
# A: 3 right, exact prediction, slow.  B: 3 right, far prediction, fast.  C: 4 right (disqualified).  D: 1 right.
PEOPLE = {
    "A": ("Trần Thị Bích", HOME, 3, 4, 200),
    "B": ("Lê Văn Bình", HOME, 3, 10, 50),
    "C": ("Phạm Minh Châu", AWAY, 4, None, 30),
    "D": ("Đỗ Hữu Dũng", AWAY, 1, None, 60),
}
SHORT = {"A": "Trần T. B.", "B": "Lê V. B.", "C": "Phạm M. C.", "D": "Đỗ H. D."}
FINAL = ["A", "B", "D"]


def phone(case: RoundCase, n: int) -> str:
    return f"0912{case.round_id % 1000:03d}{n:03d}"


async def taken_round(new_round, clock) -> tuple[RoundCase, dict[str, int], dict[str, int]]:  # type: ignore[no-untyped-def]
    """Four people took a round with a prediction question; it has closed, nothing is computed yet."""
    case = await new_round(closes_in=timedelta(hours=1))
    await Contest.update({Contest.published: True}).where(Contest.id == case.contest_id)
    prizes = [{"name": "Giải Nhất", "count": 1}, {"name": "Giải Nhì", "count": 1}]
    await Round.update({Round.ask_prediction: True, Round.state: "published", Round.prizes: json.dumps(prizes)}).where(
        Round.id == case.round_id
    )
    who, attempt = {}, {}
    for n, (tag, (name, commune, correct, prediction, seconds)) in enumerate(PEOPLE.items(), 1):
        who[tag] = await case.contestant(n, commune, name=name)
        attempt[tag] = await _take(case, clock, who[tag], correct, prediction, seconds)
    clock.advance(hours=2)
    return case, who, attempt


async def published_round(new_round, clock) -> tuple[RoundCase, dict[str, int], dict[str, int]]:  # type: ignore[no-untyped-def]
    """The round computed, C disqualified, published."""
    case, who, attempt = await taken_round(new_round, clock)
    actor = await _organiser()
    await service.compute_results(actor, case.round_id)
    await service.disqualify(actor, case.round_id, who["C"], "Thi hộ người khác")
    await service.publish(actor, case.round_id)
    return case, who, attempt


def order_in(text: str) -> list[str]:
    """The people a page shows, in the order it shows them."""
    found = sorted((text.find(SHORT[tag]), tag) for tag in SHORT if SHORT[tag] in text)
    return [tag for _, tag in found]


async def test_before_the_results_boards_say_they_are_provisional_and_why(client, new_round, clock) -> None:
    case, _, _ = await taken_round(new_round, clock)
    await service.compute_results(await _organiser(), case.round_id)  # computed, not yet published
    page = (await client.get(f"/rounds/{case.round_id}/board")).text
    assert "Bảng xếp hạng tạm thời" in page and "Câu dự đoán chỉ được xét khi vòng thi đóng" in page
    assert order_in(page) == ["C", "B", "A", "D"]  # correct answers, then time
    client.cookies.set("lang", "en")
    assert "Provisional board" in (await client.get(f"/rounds/{case.round_id}/board")).text


async def test_after_publication_every_board_and_my_places_follow_the_published_results(client, new_round, clock) -> None:
    case, who, attempt = await published_round(new_round, clock)
    rid = case.round_id
    results = (await client.get(f"/results/{rid}")).text
    assert order_in(results) == FINAL and "Giải Nhất" in results

    page = (await client.get(f"/rounds/{rid}/board")).text
    assert order_in(page) == FINAL and "Bảng xếp hạng tạm thời" not in page
    assert order_in((await client.get(f"/rounds/{rid}/board/live")).text) == FINAL
    assert order_in((await client.get(f"/rounds/{rid}/board/live?commune={HOME}")).text) == ["A", "B"]
    assert order_in((await client.get(f"/rounds/{rid}/board/live?commune={AWAY}")).text) == ["D"]
    assert order_in((await client.get(f"/rounds/{rid}/board/live?group=citizens")).text) == FINAL
    api = (await client.get(f"/api/v1/rounds/{rid}/board")).json()
    assert [row["name"] for row in api["top"]] == [SHORT[t] for t in FINAL]
    assert [row["rank"] for row in api["top"]] == [1, 2, 3] and api["total"] == 3
    assert [row["correct"] for row in api["top"]] == [3, 3, 1] and api["top"][0]["duration_ms"] == 200_000

    # The contest board (one round): the order of the results, without the disqualified.
    assert order_in((await client.get(f"/c/{case.slug}/board/live")).text) == FINAL
    api_contest = (await client.get(f"/api/v1/contests/{case.slug}/board")).json()
    assert [row["name"] for row in api_contest["top"]] == [SHORT[t] for t in FINAL]

    # "My places", page and API, and the attempt's own result page.
    mine = (await client.get(f"/rounds/{rid}/board/me?phone={phone(case, 1)}&birth_year=1990")).text
    assert re.search(r"Hạng chung: <strong>1</strong>/3", mine), mine
    theirs = (await client.get(f"/rounds/{rid}/board/me?phone={phone(case, 3)}&birth_year=1990")).text
    assert "Chưa có kết quả trên bảng này" in theirs
    token = {"authorization": f"Bearer {auth.issue(who['A'])}"}
    best = (await client.get(f"/api/v1/attempts/{attempt['A']}/result", headers=token)).json()["best"]
    assert (best["rank"], best["of"], best["commune_rank"], best["commune_of"]) == (1, 3, 1, 2)
    token_b = {"authorization": f"Bearer {auth.issue(who['B'])}"}
    assert (await client.get(f"/api/v1/attempts/{attempt['B']}/result", headers=token_b)).json()["best"]["rank"] == 2

    # Collective rankings: the disqualified person counts no more in their commune.
    scope = await round_scope(rid)
    assert scope is not None
    away = next(c for c in (await count_collective(scope)).communes if c.code == AWAY)
    assert (away.people, away.best_sum, away.average) == (1, 60, 1)  # best_sum in sixtieths of a question


async def test_a_person_disqualified_in_published_results_leaves_the_counters_the_dashboard_reads(
    client, new_round, clock, worker
) -> None:
    case, who, _ = await taken_round(new_round, clock)
    await kick()
    worker()
    scope, whole = await round_scope(case.round_id), await contest_scope(case.slug)
    assert scope is not None and whole is not None
    await sign_in(client, await staff("organiser"))
    path = f"/staff/officials/api/communes/{AWAY}/summary"

    async def away_counts() -> list[tuple[int, int]]:  # best results in sixtieths of a question
        rows = [next(c for c in (await collective(s)).communes if c.code == AWAY) for s in (scope, whole)]
        shown = (await client.get(path, params={"contest": case.contest_id})).json()
        return [(row.people, row.best_sum) for row in rows] + [(shown["people"], shown["attempts"])]

    # Scored, computed, even disqualified: C still counts until the results are published (provisional, as the boards).
    actor = await _organiser()
    await service.compute_results(actor, case.round_id)
    await service.disqualify(actor, case.round_id, who["C"], "Thi hộ người khác")
    assert await away_counts() == [(2, 5 * 60), (2, 5 * 60), (2, 2)]
    await service.publish(actor, case.round_id)
    assert await away_counts() == [(1, 60), (1, 60), (1, 1)]  # C's attempt counts no more, as on the boards
    assert (await check_round(case.round_id)).ok and (await check_contest(case.contest_id)).ok
    # Replaying C's ranking (a job delivered again) does not bring them back.
    conn = await asyncpg.connect(get_settings().db.url)
    try:
        ids = [row["id"] for row in await conn.fetch("SELECT id FROM attempt WHERE round = $1", case.round_id)]
        await rank_ids(conn, async_redis(), ids)
    finally:
        await conn.close()
    assert await away_counts() == [(1, 60), (1, 60), (1, 1)]


async def test_the_check_flags_a_board_that_disagrees_with_the_published_results_and_the_rebuild_restores_it(
    new_round, clock
) -> None:
    case, who, _ = await published_round(new_round, clock)
    rid = case.round_id
    assert (await check_round(rid)).ok and (await check_contest(case.contest_id)).ok
    r = async_redis()
    final = await r.zrange(keys.board(rid), 0, -1, withscores=True)
    await r.zadd(keys.board(rid), {str(who["C"]): 1})  # the disqualified person back, in the provisional layout
    await r.zadd(keys.board(rid), {str(who["B"]): final[-1][1] + 1})  # B above A
    found = await check_round(rid)
    assert {(d.member, d.problem) for d in found.differences} >= {(str(who["C"]), "extra"), (str(who["B"]), "wrong")}
    await rebuild_round(rid, quiet=True)
    assert await r.zrange(keys.board(rid), 0, -1, withscores=True) == final
    assert (await check_round(rid)).ok and (await check_contest(case.contest_id)).ok


async def test_a_round_with_computed_results_is_locked_until_the_organiser_reopens_them_with_a_reason(
    client, new_round, clock
) -> None:
    case, who, _ = await published_round(new_round, clock)
    rid = case.round_id
    await sign_in(client, await staff("organiser"))
    form_page = await client.get(f"/staff/contests/rounds/{rid}")
    assert "disabled" in form_page.text and "mở lại kết quả" in form_page.text
    csrf = csrf_of(form_page.text)
    rnd = await Round.select().where(Round.id == rid).first()
    edit = {
        "_csrf_token": csrf,
        "title": rnd["title"],
        "opens_at": "2020-01-01T08:00",
        "closes_at": "2020-01-02T08:00",
        "max_attempts": "2",
        "prize_name": ["Giải Đặc biệt", "Giải Nhì"],
        "prize_count": ["1", "1"],
    }
    refused = await client.post(f"/staff/contests/rounds/{rid}", data=edit)
    assert refused.status_code == 422 and "mở lại kết quả" in refused.text
    assert "Giải Nhất" in (await client.get(f"/results/{rid}")).text
    # The title alone (what the locked form sends) may still change.
    renamed = await client.post(f"/staff/contests/rounds/{rid}", data={"_csrf_token": csrf, "title": "Tuần một"})
    assert renamed.status_code == 302

    no_reason = await client.post(f"/staff/results/{rid}/reopen", data={"_csrf_token": csrf, "reason": ""})
    assert no_reason.status_code == 422
    reopened = await client.post(f"/staff/results/{rid}/reopen", data={"_csrf_token": csrf, "reason": "Đổi tên giải"})
    assert reopened.status_code == 302
    entry = (
        await AuditEntry.select().where((AuditEntry.action == "results.reopen") & (AuditEntry.target == f"{case.slug}#1")).first()
    )
    assert entry is not None and "Đổi tên giải" in str(entry["detail"])
    assert (await client.get(f"/results/{rid}")).status_code == 404
    assert "Bảng xếp hạng tạm thời" in (await client.get(f"/rounds/{rid}/board")).text
    assert (await check_round(rid)).ok

    actor = await _organiser()
    await builder.update_round(actor, rid, {"prizes": [{"name": "Giải Đặc biệt", "count": 1}]})  # unlocked now
    await service.compute_results(actor, rid)
    await service.publish(actor, rid)  # C's disqualification was kept
    again = (await client.get(f"/results/{rid}")).text
    assert "Giải Đặc biệt" in again and order_in(again) == FINAL
