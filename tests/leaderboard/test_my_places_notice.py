"""A contestant's own places say whether they are provisional (before the round's results are published: the
prediction and disqualifications not yet counted) or official (after), on the page and in the API, in both languages."""

from __future__ import annotations

from contest.api import auth
from contest.results import service
from contest.scoring.queue import scoring_queue
from tests.leaderboard.test_final_order import phone, taken_round
from tests.results.test_results import _organiser


async def test_my_places_say_provisional_before_publication_and_official_after(client, new_round, clock, worker) -> None:
    case, who, attempt = await taken_round(new_round, clock)
    scoring_queue().enqueue("contest.scoring.jobs.score_submitted")
    worker()  # scored and ranked on the provisional boards
    rid = case.round_id
    mine = f"/rounds/{rid}/board/me?phone={phone(case, 1)}&birth_year=1990"
    token = {"authorization": f"Bearer {auth.issue(who['A'])}"}
    result = f"/api/v1/attempts/{attempt['A']}/result"

    before = (await client.get(mine)).text
    assert "Thứ hạng tạm thời" in before and "câu dự đoán và việc loại thí sinh vi phạm" in before
    assert "Thứ hạng chính thức" not in before
    assert (await client.get(result, headers=token)).json()["best"]["final"] is False
    assert (await client.get(f"/api/v1/rounds/{rid}/board")).json()["final"] is False
    client.cookies.set("lang", "en")
    assert "Provisional places" in (await client.get(mine)).text
    client.cookies.delete("lang")

    actor = await _organiser()
    await service.compute_results(actor, rid)
    assert "Thứ hạng tạm thời" in (await client.get(mine)).text, "computed is not yet published"
    await service.publish(actor, rid)
    after = (await client.get(mine)).text
    assert "Thứ hạng chính thức" in after and "Thứ hạng tạm thời" not in after
    assert (await client.get(result, headers=token)).json()["best"]["final"] is True
    assert (await client.get(f"/api/v1/rounds/{rid}/board")).json()["final"] is True
    assert (await client.get(f"/api/v1/contests/{case.slug}/board")).json()["final"] is None
    client.cookies.set("lang", "en")
    assert "Official places" in (await client.get(mine)).text
