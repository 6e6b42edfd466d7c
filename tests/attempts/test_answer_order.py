"""An answer given earlier never replaces one given later, whatever order they reach the server in.

The page sends its clock with every answer (static/app.js) and API clients their own counter (`seq`): a request that
was replaced on the phone but already on its way, or a retry of a reply that never came, may arrive after the
answer that followed it. Without an order (a form without script) answers count as they arrive, as before."""

from __future__ import annotations

import re

from contest import db
from tests.factories import answer_key
from tests.test_journey import csrf_of, register_by_form


async def _stored(attempt_id: int, position: int) -> tuple[int | None, int | None]:
    row = (
        await db.fetch("SELECT chosen, answer_seq FROM attempt_item WHERE attempt = $1 AND position = $2", attempt_id, position)
    )[0]
    return row["chosen"], row["answer_seq"]


async def test_over_the_api_a_late_earlier_answer_changes_nothing(client, new_round) -> None:
    case = await new_round()
    reg = await client.post(
        f"/api/v1/contests/{case.slug}/register",
        json={
            "full_name": "Trần Văn Tư",
            "phone": "0934 111 222",
            "birth_year": 1980,
            "commune": 11557,
            "group": "citizens",
            "consent": True,
        },
    )
    auth = {"authorization": f"Bearer {reg.json()['token']}"}
    attempt = (await client.post(f"/api/v1/rounds/{case.round_id}/attempts", headers=auth)).json()
    aid, q = attempt["id"], attempt["questions"][0]
    first, second = q["options"][0]["id"], q["options"][1]["id"]
    url = f"/api/v1/attempts/{aid}/answers/{q['position']}"
    assert (await client.put(url, headers=auth, json={"option_id": second, "seq": 200})).status_code == 204
    # The earlier answer, arriving late: acknowledged (it was a valid answer), but the later one stays.
    assert (await client.put(url, headers=auth, json={"option_id": first, "seq": 100})).status_code == 204
    assert await _stored(aid, q["position"]) == (second, 200)
    # The same request again (a retry) is harmless; a newer one wins; one without an order counts as it arrives.
    assert (await client.put(url, headers=auth, json={"option_id": second, "seq": 200})).status_code == 204
    assert (await client.put(url, headers=auth, json={"option_id": first, "seq": 300})).status_code == 204
    assert await _stored(aid, q["position"]) == (first, 300)
    assert (await client.put(url, headers=auth, json={"option_id": second})).status_code == 204
    assert await _stored(aid, q["position"]) == (second, 300)
    # An order that is not a whole number in range is a malformed body, with nothing written.
    bad = await client.put(url, headers=auth, json={"option_id": first, "seq": -1})
    assert bad.status_code in (400, 422) and await _stored(aid, q["position"]) == (second, 300)
    # The prediction keeps its order the same way.
    pred = f"/api/v1/attempts/{aid}/prediction"
    assert (await client.put(pred, headers=auth, json={"value": 5000, "seq": 20})).status_code == 204
    assert (await client.put(pred, headers=auth, json={"value": 4000, "seq": 10})).status_code == 204
    row = (await db.fetch("SELECT prediction, prediction_seq FROM attempt WHERE id = $1", aid))[0]
    assert (row["prediction"], row["prediction_seq"]) == (5000, 20)


async def test_on_the_page_a_late_earlier_answer_changes_nothing(client, new_round) -> None:
    case = await new_round()
    done = await register_by_form(client, case.slug)
    started = await client.post(f"/rounds/{case.round_id}/start", data={"_csrf_token": csrf_of(done.text)}, follow_redirects=True)
    attempt_id = int(re.search(r"/attempts/(\d+)/submit", started.text).group(1))
    key = await answer_key(attempt_id)
    right, wrong = key[1][0], key[1][1][0]
    headers = {"x-csrftoken": csrf_of(started.text), "hx-request": "true"}
    url = f"/attempts/{attempt_id}/answers/1"
    assert (await client.post(url, data={"option": str(right), "seq": "1796400000002"}, headers=headers)).text == "✓"
    assert (await client.post(url, data={"option": str(wrong), "seq": "1796400000001"}, headers=headers)).text == "✓"
    assert await _stored(attempt_id, 1) == (right, 1796400000002)
    # Without script the form sends no order, and an unreadable one is ignored: the answer counts as it arrives.
    assert (await client.post(url, data={"option": str(wrong), "seq": "x1"}, headers=headers)).text == "✓"
    assert await _stored(attempt_id, 1) == (wrong, 1796400000002)
