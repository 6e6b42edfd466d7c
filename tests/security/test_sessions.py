"""Staff sessions: a new id at every sign-in (no session fixation), dead after logout; sign-in is slowed and locked.

The lockout itself (5 wrong passwords, 15 minutes, the right password waits) is in tests/staff/test_signin.py.
"""

from __future__ import annotations

import asyncio

from tests.conftest import client_for
from tests.staff.test_signin import csrf_of, sign_in, staff

COOKIE = "staff_session"


def session_id(browser) -> str | None:  # type: ignore[no-untyped-def]
    return next((c.value for c in browser.cookies.jar if c.name == COOKIE), None)


def plant(browser, value: str) -> None:  # type: ignore[no-untyped-def]
    """Put a staff session cookie in a browser, as an attacker with a foothold on the site or network could."""
    browser.cookies.clear()
    browser.cookies.set(COOKIE, value, domain="testserver.local", path="/")


async def test_signing_in_gives_a_new_session_id_and_a_planted_one_never_signs_in(client, app) -> None:
    email = await staff("organiser")
    async with client_for(app) as attacker:
        await attacker.get("/staff/login")
        planted = session_id(attacker)
        assert planted and len(planted) >= 32
        plant(client, planted)
        done = await sign_in(client, email)
        assert done.status_code == 302 and done.headers["location"] == "/staff/"
        fresh = session_id(client)
        assert fresh and fresh != planted
        assert (await client.get("/staff/")).status_code == 200
        # The attacker's copy of the id they planted: still signed out.
        lost = await attacker.get("/staff/")
        assert lost.status_code == 302 and lost.headers["location"].startswith("/staff/login")


async def test_a_second_sign_in_in_the_same_browser_also_changes_the_id(client, app) -> None:
    await sign_in(client, await staff("official", [11560]))
    first = session_id(client)
    await sign_in(client, await staff("organiser"))
    second = session_id(client)
    assert first and second and first != second
    async with client_for(app) as thief:
        plant(thief, first)
        assert (await thief.get("/staff/")).status_code == 302


async def test_a_session_id_copied_before_logout_is_dead_after_it(client, app) -> None:
    await sign_in(client, await staff("organiser"))
    stolen = session_id(client)
    home = await client.get("/staff/")
    out = await client.post("/staff/logout", data={"_csrf_token": csrf_of(home.text)})
    assert out.status_code == 302
    async with client_for(app) as thief:
        plant(thief, stolen)  # type: ignore[arg-type]
        assert (await thief.get("/staff/")).status_code == 302


async def test_the_session_cookie_is_http_only_and_same_site(client) -> None:
    done = await sign_in(client, await staff("organiser"))
    cookie = next(v for k, v in done.headers.multi_items() if k == "set-cookie" and v.startswith(COOKIE + "="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie


async def test_a_locked_account_stays_locked_from_any_browser(client, app) -> None:
    email = await staff("organiser")
    for _ in range(5):
        await sign_in(client, email, "wrong-pass-1")
    async with client_for(app) as other:
        refused = await sign_in(other, email)
        assert refused.status_code == 422 and "tài khoản bị tạm khóa 15 phút" in refused.text
        assert (await other.get("/staff/")).status_code == 302


async def test_staff_sign_in_is_rate_limited_with_a_vietnamese_message(client) -> None:
    page = await client.get("/staff/login")
    form = {"_csrf_token": csrf_of(page.text), "email": "nobody@haiphong.gov.vn", "password": "guess-1234"}
    # At once, as a script would: the budget is spent atomically, and twenty argon2 checks one after another could
    # outlast the minute on a busy machine (the window would open again).
    answers = await asyncio.gather(*(client.post("/staff/login", data=form) for _ in range(20)))
    assert [a.status_code for a in answers] == [422] * 20  # CONTEST_RATE_LIMIT is 20 a minute in tests
    limited = await client.post("/staff/login", data=form)
    assert limited.status_code == 429
    assert "Bạn thao tác quá nhanh. Vui lòng chờ một phút rồi thử lại." in limited.text
    assert int(limited.headers["retry-after"]) > 0


async def test_api_sign_in_is_rate_limited_with_a_json_message(client) -> None:
    body = {"phone": "0912345678", "birth_year": 1990}
    codes = [(await client.post("/api/v1/contests/khong-co/identify", json=body)).status_code for _ in range(20)]
    assert codes == [404] * 20
    limited = await client.post("/api/v1/contests/khong-co/identify", json=body)
    assert limited.status_code == 429 and limited.json()["errors"]["rate"].startswith("Bạn thao tác quá nhanh")
    english = await client.post("/api/v1/contests/khong-co/identify", json=body, headers={"accept-language": "en"})
    assert english.json()["errors"]["rate"] == "Too many requests. Please wait a minute and try again."
