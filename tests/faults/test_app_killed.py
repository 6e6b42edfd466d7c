"""kill -9 of the web app in the middle of an attempt: every confirmed answer is kept, the attempt resumes."""

from __future__ import annotations

import asyncio
import itertools

import httpx

from contest.attempts.tables import AttemptItem
from tests.factories import answer_key

REGISTRATION = {
    "full_name": "Trần Thị Bích",
    "phone": "0912 345 678",
    "birth_year": 1975,
    "province": 31,
    "commune": 11560,
    "group": "citizens",
    "consent": True,
}


async def _stored(attempt_id: int) -> dict[int, int | None]:
    rows = await AttemptItem.select(AttemptItem.position, AttemptItem.chosen).where(AttemptItem.attempt == attempt_id)
    return {row["position"]: row["chosen"] for row in rows}


async def test_answers_confirmed_before_the_app_is_killed_are_kept_and_the_attempt_resumes(new_round, web_app, worker) -> None:
    case = await new_round(per_topic=3)  # 12 questions
    app = web_app().start()
    async with httpx.AsyncClient(base_url=app.url, timeout=10) as http:
        token = (await http.post(f"/api/v1/contests/{case.slug}/register", json=REGISTRATION)).json()["token"]
        auth = {"authorization": f"Bearer {token}"}
        started = await http.post(f"/api/v1/rounds/{case.round_id}/attempts", headers=auth)
        assert started.status_code == 201, started.text
        attempt_id, deadline = started.json()["id"], started.json()["deadline"]
        key = await answer_key(attempt_id)

        async def put(position: int, option: int) -> int:
            url = f"/api/v1/attempts/{attempt_id}/answers/{position}"
            return (await http.put(url, json={"option_id": option}, headers=auth)).status_code

        for position in (1, 2, 3, 4):  # one after another, each confirmed
            assert await put(position, key[position][0]) == 204

        # Then one person changing answers 5..12 as fast as the network allows, one request in flight per
        # question, when the app is killed. sent[p]: what was sent for p, in order; confirmed[p]: how many got 204.
        sent: dict[int, list[int]] = {p: [] for p in range(5, 13)}
        confirmed: dict[int, int] = dict.fromkeys(sent, 0)

        async def keep_changing(position: int) -> None:
            right, wrong = key[position]
            # Other tests add two-option questions to the bank: use the last wrong option as the third step.
            for option in itertools.cycle([wrong[0], right, wrong[-1]]):
                sent[position].append(option)
                try:
                    status = await put(position, option)
                except httpx.TransportError:
                    return
                assert status == 204
                confirmed[position] += 1

        changing = [asyncio.create_task(keep_changing(p)) for p in sent]
        while sum(confirmed.values()) < 40:
            await asyncio.sleep(0.005)
        await asyncio.to_thread(app.kill)  # the loop keeps reading answers while the process dies
        await asyncio.wait_for(asyncio.gather(*changing), 15)

        stored = await _stored(attempt_id)
        assert all(stored[p] == key[p][0] for p in (1, 2, 3, 4))
        for p, options in sent.items():
            # The last confirmed answer, or the one sent after it whose reply the kill cut off: never an older one.
            allowed = options[confirmed[p] - 1 : confirmed[p] + 1] if confirmed[p] else [None, options[0]]
            assert stored[p] in allowed, (p, options, confirmed[p])

        # The app comes back; the contestant taps "start" again and gets the same attempt and deadline.
        app.start()
        again = await http.post(f"/api/v1/rounds/{case.round_id}/attempts", headers=auth)
        assert again.status_code == 201, again.text
        assert (again.json()["id"], again.json()["deadline"]) == (attempt_id, deadline)
        assert {q["position"]: q["chosen"] for q in again.json()["questions"]} == stored

        # Answer the rest as they will stay: the even questions right, the odd ones wrong (1-4 stay right).
        final = {p: key[p][0] if p <= 4 or p % 2 == 0 else key[p][1][0] for p in key}
        for position, option in final.items():
            if stored[position] != option:
                assert await put(position, option) == 204
        done = await http.post(f"/api/v1/attempts/{attempt_id}/submit", headers=auth, json={})
        assert done.status_code == 200 and done.json()["status"] == "submitted", done.text
        worker()
        result = (await http.get(f"/api/v1/attempts/{attempt_id}/result", headers=auth)).json()
    assert await _stored(attempt_id) == final
    assert (result["status"], result["ready"], result["correct"], result["total"]) == ("scored", True, 8, 12)
