"""Over HTTPS (directly, or behind a trusted proxy that says so) every cookie is Secure: the contestant's session,
the staff session, the CSRF token and the language; over plain HTTP (a laptop) they still work."""

from __future__ import annotations

import httpx
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from tests.staff.test_signin import sign_in, staff


async def _cookies_of_a_visit(client: httpx.AsyncClient, headers: dict[str, str], signs_in: bool = True) -> dict[str, str]:
    """name -> Set-Cookie line, for a contestant choosing a language and a staff member signing in."""
    seen: dict[str, str] = {}
    for response in [
        await client.get("/", headers=headers),
        await client.get("/lang/en?next=/", headers=headers),
        await client.get("/staff/login", headers=headers),
    ]:
        for line in response.headers.get_list("set-cookie"):
            seen[line.split("=", 1)[0]] = line
    if not signs_in:
        return seen
    done = await sign_in(client, await staff("organiser"))
    assert done.status_code == 302
    for line in done.headers.get_list("set-cookie"):
        seen[line.split("=", 1)[0]] = line
    return seen


def _names(seen: dict[str, str]) -> set[str]:
    return {name for name in seen if name in ("session", "lang", "csrftoken") or name.startswith("staff")}


async def test_every_cookie_is_secure_over_https(app_client, app) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as client:
        seen = await _cookies_of_a_visit(client, {})
    assert {"session", "lang", "csrftoken"} <= _names(seen) and len(_names(seen)) == 4, seen
    assert [line for line in seen.values() if "Secure" not in line] == []


async def test_every_cookie_is_secure_behind_a_trusted_proxy_that_terminates_https(app_client, app) -> None:  # type: ignore[no-untyped-def]
    proxied = ProxyHeadersMiddleware(app, trusted_hosts="127.0.0.1")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=proxied), base_url="http://testserver") as client:
        # The client here speaks plain HTTP to the "proxy" and so (rightly) keeps Secure cookies to itself: no sign-in.
        seen = await _cookies_of_a_visit(client, {"x-forwarded-proto": "https"}, signs_in=False)
    assert {"session", "lang", "csrftoken"} <= _names(seen) and [line for line in seen.values() if "Secure" not in line] == []


async def test_cookies_still_work_over_plain_http(app_client, app) -> None:  # type: ignore[no-untyped-def]
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        seen = await _cookies_of_a_visit(client, {})
    assert len(_names(seen)) == 4 and [line for line in seen.values() if "Secure" in line] == []
