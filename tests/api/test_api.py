"""The JSON API mirrors the journey for the city's mobile app."""

from tests.factories import answer_key


async def test_the_whole_journey_over_json(client, new_round, worker) -> None:
    case = await new_round()
    contest = (await client.get(f"/api/v1/contests/{case.slug}")).json()
    assert contest["rounds"][0]["state"] == "open"
    communes = (await client.get("/api/v1/provinces/31/communes")).json()
    assert len(communes) == 114
    reg = await client.post(
        f"/api/v1/contests/{case.slug}/register",
        json={
            "full_name": "Vũ Minh Giang",
            "phone": "0934 567 890",
            "birth_year": 2001,
            "commune": communes[0]["code"],
            "group": "students",
            "consent": True,
        },
    )
    assert reg.status_code == 201, reg.text
    from contest.people.tables import Contestant

    stored = await Contestant.select(Contestant.registered_ip).where(Contestant.id == reg.json()["contestant_id"]).first()
    assert stored["registered_ip"] == "127.0.0.1"  # a duplicate-account signal
    auth = {"authorization": f"Bearer {reg.json()['token']}"}
    again = await client.post(f"/api/v1/contests/{case.slug}/identify", json={"phone": "+84934567890", "birth_year": 2001})
    assert again.json()["contestant_id"] == reg.json()["contestant_id"]

    attempt = (await client.post(f"/api/v1/rounds/{case.round_id}/attempts", headers=auth)).json()
    key = await answer_key(attempt["id"])
    for q in attempt["questions"]:
        r = await client.put(
            f"/api/v1/attempts/{attempt['id']}/answers/{q['position']}",
            headers=auth,
            json={"option_id": key[q["position"]][0]},
        )
        assert r.status_code == 204
    submitted = await client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=auth, json={"prediction": 777})
    assert submitted.json()["status"] == "submitted"
    worker()
    result = (await client.get(f"/api/v1/attempts/{attempt['id']}/result", headers=auth)).json()
    assert result["ready"] and result["correct"] == 4 and result["best"]["rank"] == 1
    board = (await client.get(f"/api/v1/rounds/{case.round_id}/board")).json()
    assert board["people"] == 1 and board["top"][0]["phone"] == "09x****890"


async def test_api_errors_are_clear_and_vietnamese_first(client, new_round) -> None:
    case = await new_round()
    bad = await client.post(
        f"/api/v1/contests/{case.slug}/register",
        json={"full_name": "", "phone": "1", "birth_year": 1800, "commune": 1, "group": "x", "consent": False},
    )
    assert bad.status_code == 422
    assert bad.json()["errors"]["phone"].startswith("Số điện thoại không hợp lệ")
    english = await client.post(
        f"/api/v1/contests/{case.slug}/register",
        headers={"accept-language": "en"},
        json={"full_name": "", "phone": "1", "birth_year": 1800, "commune": 1, "group": "x", "consent": False},
    )
    assert english.json()["errors"]["phone"].startswith("This phone number is not valid")
    malformed = await client.post(f"/api/v1/contests/{case.slug}/register", content=b"{not json")
    assert malformed.status_code == 400 and "errors" in malformed.json()
    no_token = await client.post(f"/api/v1/rounds/{case.round_id}/attempts")
    assert no_token.status_code == 401
    forged = await client.post(f"/api/v1/rounds/{case.round_id}/attempts", headers={"authorization": "Bearer c1.AAAA"})
    assert forged.status_code == 401


async def test_the_api_is_documented_at_schema(client) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/attempts/{attempt_id}/answers/{position}" in spec["paths"]


async def test_the_api_offers_no_retake_once_the_round_has_closed(client, new_round, clock, worker) -> None:
    from datetime import timedelta

    case = await new_round(closes_in=timedelta(minutes=20))  # two attempts each
    reg = await client.post(
        f"/api/v1/contests/{case.slug}/register",
        json={"full_name": "Vũ Minh Giang", "phone": "0934 567 001", "birth_year": 2001, "commune": 11560,
              "group": "students", "consent": True},
    )  # fmt: skip
    auth = {"authorization": f"Bearer {reg.json()['token']}"}
    attempt = (await client.post(f"/api/v1/rounds/{case.round_id}/attempts", headers=auth)).json()
    clock.advance(minutes=20, seconds=5)  # the round closes while the answers are sent: submitted within the grace
    submitted = (await client.post(f"/api/v1/attempts/{attempt['id']}/submit", headers=auth, json={})).json()
    assert submitted["attempts_left"] == 0
    worker()
    result = (await client.get(f"/api/v1/attempts/{attempt['id']}/result", headers=auth)).json()
    assert result["ready"] and result["attempts_left"] == 0
