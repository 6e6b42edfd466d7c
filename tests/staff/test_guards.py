"""Every staff page is guarded: anonymous people are sent to sign in, officials never reach organiser pages."""

import re

from tests.staff.test_signin import sign_in, staff

PUBLIC = ("/staff/login", "/staff/logout", "/staff/invite")
OFFICIALS_ALLOWED = ("/staff/", "/staff/logout-everywhere", "/staff/officials/", "/staff/officials/api/communes")


def staff_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(method, path with ids filled in) for every staff route."""
    out = []
    for route in app.routes:
        if not route.path.startswith("/staff") or route.path.startswith(PUBLIC):
            continue
        path = re.sub(r"\{[^}]+\}", "1", route.path)
        for method in sorted(getattr(route, "methods", {"GET"}) - {"HEAD", "OPTIONS"}):
            out.append((method, path))
    return out


async def test_anonymous_people_are_sent_to_sign_in_on_every_staff_route(client, app) -> None:
    routes = staff_routes(app)
    assert len(routes) > 20
    for method, path in routes:
        page = await client.get("/staff/login")
        token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
        r = await client.request(method, path, headers={"x-csrftoken": token})
        assert r.status_code in (302, 303) and "/staff/login" in r.headers["location"], (method, path, r.status_code)


async def test_a_commune_official_gets_403_on_every_organiser_and_admin_route(client, app) -> None:
    await sign_in(client, await staff("official", [11560]))
    page = await client.get("/staff/")
    token = re.search(r'name="_csrf_token" value="([^"]+)"', page.text).group(1)
    for method, path in staff_routes(app):
        if path.rstrip("/") in {p.rstrip("/") for p in OFFICIALS_ALLOWED}:
            continue
        r = await client.request(method, path, headers={"x-csrftoken": token})
        assert r.status_code == 403, (method, path, r.status_code)
