"""The answer key never leaves the server before the round closes: not in the attempt page, not in an answer's
response, not in the result page, not in the API; afterwards the review shows it (which proves the scan can see it)."""

from __future__ import annotations

import re
from datetime import timedelta

from contest.attempts.tables import Attempt
from tests.factories import answer_key
from tests.staff.test_signin import csrf_of
from tests.test_journey import register_by_form

# What a page or a JSON body would hold if the key or the explanations got out.
MARKERS = ("is_correct", "explanation", "review-options", "✔", "đáp án đúng", "correct_option", "answer_key")
OPTION = re.compile(r'<label class="option"><input type="radio" name="option" value="(\d+)" ?(checked)?> ([^<]*)</label>')
# "multiple" says only that several options are correct (the checkboxes), never which; "chosen_ids" is what they ticked.
QUESTION_KEYS = {"position", "text", "options", "chosen", "image_url", "multiple", "chosen_ids"}


async def explanations_of(attempt_id: int) -> list[str]:
    rows = await Attempt.raw(
        "SELECT q.explanation FROM attempt_item i JOIN question q ON q.id = i.question WHERE i.attempt = {}", attempt_id
    )
    texts = [r["explanation"] for r in rows if r["explanation"]]
    assert texts, "the demo questions carry explanations"
    return texts


def leaks(body: str, explanations: list[str]) -> list[str]:
    lower = body.lower()
    return [m for m in MARKERS if m.lower() in lower] + [e[:30] for e in explanations if e[:60] in body]


def assert_options_look_alike(html: str, key: dict[int, tuple[int, list[int]]]) -> None:
    """Each option is the same markup but for its id and text: nothing sets the right one apart."""
    options = OPTION.findall(html)
    assert sorted(int(oid) for oid, _, _ in options) == sorted(o for right, wrong in key.values() for o in (right, *wrong))
    shapes = {OPTION.sub("", m.group(0)) for m in OPTION.finditer(html)}
    assert shapes == {""}
    blocks = re.findall(r'<form class="question" id="q\d+".*?</form>', html, re.S)
    assert len(blocks) == len(key)
    for block in blocks:
        normal = re.sub(r'value="\d+" ?(checked)?> [^<]*<', 'value="N"> T<', block)
        assert len(set(re.findall(r'<label class="option">.*?</label>', normal))) == 1


def assert_api_attempt_is_bare(body: dict) -> None:
    assert set(body) == {"id", "round_id", "status", "deadline", "seconds_left", "prediction", "ask_prediction", "questions"}
    for q in body["questions"]:
        assert set(q) == QUESTION_KEYS and all(set(o) == {"id", "text"} for o in q["options"])


async def test_the_key_never_leaves_before_the_round_closes(client, new_round, clock, worker) -> None:
    case = await new_round(closes_in=timedelta(hours=1), max_attempts=2)
    seen: dict[str, str] = {}
    home = await register_by_form(client, case.slug, phone="0987 200 001", birth_year="1988")
    started = await client.post(f"/rounds/{case.round_id}/start", data={"_csrf_token": csrf_of(home.text)}, follow_redirects=True)
    seen["attempt page"] = started.text
    a = int(re.search(r"/attempts/(\d+)/submit", started.text).group(1))
    key = await answer_key(a)
    explanations = await explanations_of(a)
    assert_options_look_alike(started.text, key)

    # Answering right and answering wrong look the same from outside: no oracle.
    htmx = {"x-csrftoken": csrf_of(started.text), "hx-request": "true"}
    right = await client.post(f"/attempts/{a}/answers/1", data={"option": key[1][0]}, headers=htmx)
    wrong = await client.post(f"/attempts/{a}/answers/2", data={"option": key[2][1][0]}, headers=htmx)
    assert (right.status_code, right.text, right.headers.get("content-length")) == (
        wrong.status_code,
        wrong.text,
        wrong.headers.get("content-length"),
    )
    seen["answer response"] = right.text
    seen["prediction response"] = (await client.post(f"/attempts/{a}/prediction", data={"prediction": "5"}, headers=htmx)).text
    reload = await client.get(f"/attempts/{a}")
    seen["attempt page, reloaded"] = reload.text
    assert_options_look_alike(reload.text, key)

    # The same attempt through the API.
    token = (await client.post(f"/api/v1/contests/{case.slug}/identify", json={"phone": "0987200001", "birth_year": 1988})).json()
    auth = {"authorization": f"Bearer {token['token']}"}
    resumed = await client.post(f"/api/v1/rounds/{case.round_id}/attempts", headers=auth)
    assert resumed.json()["id"] == a
    assert_api_attempt_is_bare(resumed.json())
    seen["API attempt"] = resumed.text
    api_right = await client.put(f"/api/v1/attempts/{a}/answers/3", headers=auth, json={"option_id": key[3][0]})
    api_wrong = await client.put(f"/api/v1/attempts/{a}/answers/4", headers=auth, json={"option_id": key[4][1][0]})
    assert (api_right.status_code, api_right.content) == (api_wrong.status_code, api_wrong.content) == (204, b"")
    shown = await client.get(f"/api/v1/attempts/{a}", headers=auth)
    assert_api_attempt_is_bare(shown.json())
    seen["API attempt, answered"] = shown.text

    submitted = await client.post(f"/attempts/{a}/submit", data={"_csrf_token": csrf_of(reload.text)}, follow_redirects=True)
    seen["result page, scoring"] = submitted.text
    worker()
    seen["result fragment"] = (await client.get(f"/attempts/{a}/result/status", headers={"hx-request": "true"})).text
    result_page = await client.get(f"/attempts/{a}/result")
    assert "2/4" in result_page.text  # the score is the contestant's to see; which answers were right is not
    seen["result page"] = result_page.text
    api_result = await client.get(f"/api/v1/attempts/{a}/result", headers=auth)
    assert set(api_result.json()) == {
        "attempt_id", "status", "ready", "correct", "total", "duration_ms", "auto_submitted", "attempts_left", "best"
    }  # fmt: skip
    seen["API result"] = api_result.text
    seen["API attempt, submitted"] = (await client.get(f"/api/v1/attempts/{a}", headers=auth)).text

    # A second attempt, wholly through the API.
    second = (await client.post(f"/api/v1/rounds/{case.round_id}/attempts", headers=auth)).json()
    assert second["id"] != a
    seen["API second attempt"] = str(second)
    seen["API submit"] = (await client.post(f"/api/v1/attempts/{second['id']}/submit", headers=auth, json={})).text
    seen["contest page"] = (await client.get(f"/c/{case.slug}")).text

    found = {name: leaks(body, explanations) for name, body in seen.items()}
    assert {name: what for name, what in found.items() if what} == {}

    # Once the round has closed, the review shows the key and the explanations: the scan above would have seen them.
    clock.advance(hours=2)
    review = await client.get(f"/attempts/{a}/result")
    assert "✔ đáp án đúng" in review.text and leaks(review.text, explanations)
    assert any(e[:60] in review.text for e in explanations)
