"""Every state-changing form refuses a request without its CSRF token: walked over the route table, so a new route is
covered the day it is added."""

from __future__ import annotations

import re

from tests.staff.test_signin import csrf_of, sign_in, staff

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Bearer-token JSON (no cookies, so nothing to forge) and the OpenAPI documents.
EXEMPT = ("/api/", "/schema")


def state_changing_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, path with every parameter filled in) for each POST/PUT/PATCH/DELETE route outside the API."""
    out = []
    for route in app.routes:
        if route.path.startswith(EXEMPT):
            continue
        path = re.sub(r"\{[^}:]+:int\}", "1", route.path)
        path = re.sub(r"\{[^}]+\}", "x", path)
        out.extend((method, path) for method in sorted(set(getattr(route, "methods", ())) & UNSAFE))
    return out


async def test_every_state_changing_route_refuses_a_request_without_the_csrf_token(client, app) -> None:
    routes = state_changing_routes(app)
    assert len(routes) > 40 and ("POST", "/staff/login") in routes and ("POST", "/attempts/1/answers/1") in routes
    # Signed in as an admin, whom every guard lets through: only the CSRF check stands between the request and the
    # handler, so a route without it would answer something other than 403.
    await sign_in(client, await staff("admin"))
    assert (await client.get("/staff/")).status_code == 200
    for method, path in routes:
        for attempt in (
            {},  # no token at all
            {"headers": {"x-csrftoken": "forged-token"}},  # a made-up one
            {"data": {"_csrf_token": "forged-token"}},
        ):
            r = await client.request(method, path, **attempt)  # type: ignore[arg-type]
            assert r.status_code == 403, (method, path, attempt, r.status_code)
    assert (await client.get("/staff/")).status_code == 200  # and nothing happened: still signed in


async def test_a_token_from_another_browser_is_refused_too(client, app) -> None:
    from tests.conftest import client_for

    async with client_for(app) as other:
        theirs = csrf_of((await other.get("/staff/login")).text)
    await client.get("/staff/login")
    refused = await client.post("/staff/login", data={"_csrf_token": theirs, "email": "a@b.vn", "password": "x"})
    assert refused.status_code == 403


async def test_the_refusal_is_the_csrf_check_and_the_token_lets_the_same_request_through(client) -> None:
    page = await client.get("/staff/login")
    form = {"email": "nobody@haiphong.gov.vn", "password": "guess-1234"}
    assert (await client.post("/staff/login", data=form)).status_code == 403
    assert (await client.post("/staff/login", data={**form, "_csrf_token": csrf_of(page.text)})).status_code == 422


def test_every_page_route_has_the_csrf_check_and_only_the_api_and_files_go_without(app) -> None:
    """The pages' router carries session and CSRF; the API (bearer tokens), /healthz, /schema and files live outside
    it. Every route outside those prefixes must have the check: a page added beside the router would not."""
    from litestar.routes import HTTPRoute

    from contest.security import CSRFGuard

    without = ("/api/", "/healthz", "/schema", "/static/", "/media/")
    checked = unchecked = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            has_guard = any(getattr(m, "middleware", None) is CSRFGuard for m in handler.resolve_middleware())
            if route.path.startswith(without) or route.path == "/schema":
                assert not has_guard, route.path
                unchecked += 1
            else:
                assert has_guard, f"{route.path} has no CSRF check"
                checked += 1
    assert checked > 100 and unchecked > 10
