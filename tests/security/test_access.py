"""Who reaches what: every /staff route by role (from the route table), officials only in their own communes, and
contestants only in their own attempts, whatever ids or extra fields they send."""

from __future__ import annotations

import re

from contest.attempts.tables import Attempt, AttemptItem
from contest.people.tables import Contestant
from tests.conftest import client_for
from tests.factories import HAI_PHONG_COMMUNES, answer_key
from tests.staff.test_signin import csrf_of, sign_in, staff

MINE, THEIRS = HAI_PHONG_COMMUNES
ROLES = ("anonymous", "official", "organiser", "admin")
RANK = {role: i for i, role in enumerate(ROLES)}
PUBLIC = {"/staff/login", "/staff/logout", "/staff/invite/{token:str}"}
# The least role each route needs. Every other /staff route is for organisers (and admins): a new route that is
# meant for officials or for admins only fails here until it is added to its list.
FOR_OFFICIALS = {
    "/staff",
    "/staff/logout-everywhere",
    "/staff/officials",
    "/staff/officials/communes/{code:int}",
    "/staff/officials/communes/{code:int}/contestants.xlsx",
    "/staff/officials/api/communes",
    "/staff/officials/api/communes/{code:int}/summary",
    "/staff/officials/api/communes/{code:int}/contestants",
}
FOR_ADMINS = ("/staff/people", "/staff/audit")


def needs(path: str) -> str:
    if path in FOR_OFFICIALS:
        return "official"
    return "admin" if path.startswith(FOR_ADMINS) else "organiser"


def fill(path: str, code: int = MINE) -> str:
    path = path.replace("{code:int}", str(code))
    path = re.sub(r"\{[^}:]+:int\}", "1", path)
    return re.sub(r"\{[^}]+\}", "x", path)


def matrix(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, route path as declared) for every /staff route but sign-in itself."""
    out = []
    for route in app.routes:
        if route.path.startswith("/staff") and route.path not in PUBLIC:
            out.extend((m, route.path) for m in sorted(set(getattr(route, "methods", ())) - {"HEAD", "OPTIONS"}))
    return out


async def browser_of(app, role: str):  # type: ignore[no-untyped-def]
    browser = client_for(app)
    await browser.__aenter__()
    if role != "anonymous":
        await sign_in(browser, await staff(role, [MINE] if role == "official" else None))
    token = csrf_of((await browser.get("/staff/login")).text)
    return browser, {"x-csrftoken": token}


async def test_every_staff_route_by_role(client, app) -> None:
    routes = matrix(app)
    assert len(routes) > 60
    browsers = {role: await browser_of(app, role) for role in ROLES}
    try:
        for method, route in routes:
            least = needs(route)
            for role, (browser, headers) in browsers.items():
                allowed = RANK[role] >= RANK[least]
                if allowed and method != "GET":
                    continue  # a refusal is checked before any handler runs; an allowed POST would change things
                r = await browser.request(method, fill(route), headers=headers)
                where = (method, route, role, r.status_code)
                if role == "anonymous":
                    assert r.status_code == 302 and r.headers["location"].startswith("/staff/login?next="), where
                elif not allowed:
                    assert r.status_code == 403, where
                else:
                    assert r.status_code < 500 and r.status_code not in (401, 403), where
                    assert not r.headers.get("location", "").startswith("/staff/login"), where
    finally:
        for browser, _ in browsers.values():
            await browser.__aexit__(None, None, None)


async def test_an_official_reaches_only_their_own_communes_on_every_commune_route(client, app, new_round) -> None:
    case = await new_round()
    await sign_in(client, await staff("official", [MINE]))
    commune_routes = [r for m, r in matrix(app) if "{code:int}" in r and m == "GET"]
    assert len(commune_routes) >= 4
    for route in commune_routes:
        mine = await client.get(fill(route, MINE), params={"contest": case.contest_id})
        theirs = await client.get(fill(route, THEIRS), params={"contest": case.contest_id})
        missing = await client.get(fill(route, 99999), params={"contest": case.contest_id})
        assert mine.status_code == 200, (route, mine.status_code)
        # Whether the other commune exists or not: the same 403, no hint.
        assert theirs.status_code == 403 and missing.status_code == 403, (route, theirs.status_code, missing.status_code)
    listed = (await client.get("/staff/officials/api/communes")).json()["communes"]
    assert [c["code"] for c in listed] == [MINE]


# --- Contestants: the API and the pages --------------------------------------------------------


async def api_contestant(client, slug: str, phone: str, **extra: object) -> tuple[int, dict]:  # type: ignore[no-untyped-def]
    body = {"full_name": "Đỗ Thị Lan", "phone": phone, "birth_year": 1992, "commune": MINE, "group": "citizens", "consent": True}
    reg = await client.post(f"/api/v1/contests/{slug}/register", json={**body, **extra})
    assert reg.status_code == 201, reg.text
    return reg.json()["contestant_id"], {"authorization": f"Bearer {reg.json()['token']}"}


async def attempt_state(attempt_id: int) -> tuple[dict, list[dict]]:
    attempt = await Attempt.select().where(Attempt.id == attempt_id).first()
    items = await AttemptItem.select(AttemptItem.position, AttemptItem.chosen).where(AttemptItem.attempt == attempt_id)
    return attempt, sorted(items, key=lambda i: i["position"])


async def test_another_contestants_token_cannot_read_answer_or_submit_an_attempt(client, new_round) -> None:
    case = await new_round()
    _, alice = await api_contestant(client, case.slug, "0987 100 001")
    _, bob = await api_contestant(client, case.slug, "0987 100 002")
    attempt = (await client.post(f"/api/v1/rounds/{case.round_id}/attempts", headers=alice)).json()
    a = attempt["id"]
    key = await answer_key(a)
    before = await attempt_state(a)
    for method, path, body in (
        ("GET", f"/api/v1/attempts/{a}", None),
        ("PUT", f"/api/v1/attempts/{a}/answers/1", {"option_id": key[1][0]}),
        ("PUT", f"/api/v1/attempts/{a}/prediction", {"value": 42}),
        ("POST", f"/api/v1/attempts/{a}/submit", {"prediction": 42}),
        ("GET", f"/api/v1/attempts/{a}/result", None),
    ):
        r = await client.request(method, path, headers=bob, json=body)
        assert r.status_code in (403, 404, 422), (method, path, r.status_code)
        assert "Không tìm thấy lượt thi" in r.text and str(key[1][0]) not in r.text, (method, path, r.text)
    assert await attempt_state(a) == before  # nothing answered, predicted or submitted for Alice
    # Alice herself can, which shows the refusals above were about Bob.
    mine = await client.put(f"/api/v1/attempts/{a}/answers/1", headers=alice, json={"option_id": key[1][0]})
    assert mine.status_code == 204


async def test_another_contestants_browser_cannot_reach_an_attempt_page(client, app, new_round) -> None:
    case = await new_round()
    alice = await case.contestant(1)
    from contest.attempts import starting

    a = await starting.start_attempt(alice, case.round_id)
    key = await answer_key(a)
    before = await attempt_state(a)
    bob_id = await case.contestant(2)
    await register_as(client, case, bob_id)
    home = await client.get(f"/c/{case.slug}/me")
    token = {"x-csrftoken": csrf_of(home.text)}
    for method, path, data in (
        ("GET", f"/attempts/{a}", None),
        ("POST", f"/attempts/{a}/answers/1", {"option": str(key[1][0])}),
        ("POST", f"/attempts/{a}/prediction", {"prediction": "42"}),
        ("POST", f"/attempts/{a}/submit", {"prediction": "42"}),
        ("GET", f"/attempts/{a}/result", None),
        ("GET", f"/attempts/{a}/result/status", None),
    ):
        r = await client.request(method, path, headers=token, data=data)
        assert r.status_code in (403, 404, 409, 422), (method, path, r.status_code)
        assert "Không tìm thấy lượt thi" in r.text, (method, path, r.text[:300])
    assert await attempt_state(a) == before


async def register_as(client, case, contestant_id: int) -> None:  # type: ignore[no-untyped-def]
    """Sign this browser in as a contestant who registered earlier (phone + year of birth, as on the identify page)."""
    row = await Contestant.select(Contestant.phone, Contestant.birth_year).where(Contestant.id == contestant_id).first()
    page = await client.get(f"/c/{case.slug}/me")
    done = await client.post(
        f"/c/{case.slug}/identify",
        data={"_csrf_token": csrf_of(page.text), "phone": row["phone"], "birth_year": str(row["birth_year"])},
    )
    assert done.status_code == 302, done.text


HOSTILE_FIELDS = {
    "id": 1,
    "contestant": 1,
    "contestant_id": 1,
    "status": "scored",
    "correct": 99,
    "is_correct": True,
    "score": 100,
    "total": 1,
    "duration_ms": 1,
    "registered_ip": "8.8.8.8",
    "round": 1,
    "contest": 1,
}


async def test_extra_fields_in_api_bodies_are_never_applied(client, new_round, worker) -> None:
    case = await new_round()
    me, auth = await api_contestant(client, case.slug, "0987 100 003", **HOSTILE_FIELDS)
    stored = await Contestant.select().where(Contestant.id == me).first()
    assert me != 1 and stored["contest"] == case.contest_id and stored["registered_ip"] == "127.0.0.1"
    attempt = (await client.post(f"/api/v1/rounds/{case.round_id}/attempts", headers=auth, json=HOSTILE_FIELDS)).json()
    a = attempt["id"]
    key = await answer_key(a)
    for position, (_, wrong) in key.items():
        r = await client.put(
            f"/api/v1/attempts/{a}/answers/{position}", headers=auth, json={"option_id": wrong[0], **HOSTILE_FIELDS}
        )
        assert r.status_code == 204
    r = await client.put(f"/api/v1/attempts/{a}/prediction", headers=auth, json={"value": 7, **HOSTILE_FIELDS})
    assert r.status_code == 204
    submitted = await client.post(f"/api/v1/attempts/{a}/submit", headers=auth, json={"prediction": 8, **HOSTILE_FIELDS})
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"
    worker()
    row, items = await attempt_state(a)
    assert row["contestant"] == me and row["status"] == "scored" and row["correct"] == 0 and row["prediction"] == 8
    assert row["total"] == len(key) and row["duration_ms"] != 1
    assert [i["chosen"] for i in items] == [key[i["position"]][1][0] for i in items]
    result = (await client.get(f"/api/v1/attempts/{a}/result", headers=auth)).json()
    assert result["correct"] == 0 and result["best"]["correct"] == 0


async def test_extra_fields_in_forms_are_never_applied(client, new_round) -> None:
    case = await new_round()
    other = await case.contestant(9)
    page = await client.get(f"/c/{case.slug}/register")
    form = {
        "_csrf_token": csrf_of(page.text),
        "full_name": "Vương Thị Hằng",
        "phone": "0987 100 004",
        "birth_year": "1985",
        "province": "31",
        "commune": str(MINE),
        "group": "citizens",
        "consent": "yes",
        **{k: str(v) for k, v in HOSTILE_FIELDS.items()},
        "contestant": str(other),
    }
    done = await client.post(f"/c/{case.slug}/register", data=form)
    assert done.status_code == 302
    me = await Contestant.select().where(Contestant.phone == "0987100004").first()
    assert me is not None and me["id"] not in (1, other) and me["contest"] == case.contest_id
    assert me["registered_ip"] == "127.0.0.1"
    started = await client.post(
        f"/rounds/{case.round_id}/start", data={"_csrf_token": form["_csrf_token"], "contestant": str(other)}
    )
    a = int(started.headers["location"].rsplit("/", 1)[1])
    assert (await Attempt.select(Attempt.contestant).where(Attempt.id == a).first())["contestant"] == me["id"]
