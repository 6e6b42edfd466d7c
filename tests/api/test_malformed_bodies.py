"""A JSON body that is well formed to the eye but unreadable (invalid UTF-8 inside a string, an extra field nested
a thousand levels deep) is a malformed body like any other: 400, in the caller's language, nothing stored."""

from __future__ import annotations

import re

import pytest
from litestar.routes import HTTPRoute

from contest.api.auth import issue
from contest.attempts.service import attempt_view
from contest.attempts.starting import start_attempt
from contest.people.tables import Contestant

BODIES = {
    "invalid UTF-8 in a string": (
        b'{"option_id":"\xc3\x28","value":"\xc3\x28","prediction":"\xc3\x28","full_name":"\xc3\x28",'
        b'"phone":"\xc3\x28","birth_year":2001,"commune":1,"group":"students","consent":true}'
    ),
    "a field nested 1,000 deep": (
        b'{"option_id":1,"value":1,"prediction":1,"full_name":"A","phone":"0934567890","birth_year":2001,'
        b'"commune":1,"group":"students","consent":true,"extra":' + b"[" * 1000 + b"]" * 1000 + b"}"
    ),
}
SAYS = {"vi": "Dữ liệu gửi lên không đúng định dạng.", "en": "The request is malformed or has fields of the wrong type."}


def json_routes(app) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """Every route that reads a JSON body, from the app's own route table."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            data = handler.parsed_fn_signature.parameters.get("data")
            if data is not None and getattr(data.kwarg_definition, "media_type", None) is None:
                found.extend((method, route.path) for method in handler.http_methods)
    return sorted(found)


def test_the_json_routes_are_the_api_journey(app) -> None:
    assert [path.rsplit("/", 1)[-1] for _, path in json_routes(app)] == [
        "submit",
        "identify",
        "register",
        "{position:int}",
        "prediction",
    ]


@pytest.mark.parametrize("lang", ["vi", "en"])
@pytest.mark.parametrize("body", list(BODIES), ids=list(BODIES))
async def test_an_unreadable_json_body_is_a_clear_400_and_nothing_is_stored(app, client, new_round, body, lang) -> None:  # type: ignore[no-untyped-def]
    case = await new_round()
    me = await case.contestant(1)
    attempt_id = await start_attempt(me, case.round_id)
    values = {"slug": case.slug, "attempt_id": attempt_id, "position": 1}
    people = await Contestant.count()
    headers = {"authorization": f"Bearer {issue(me)}", "content-type": "application/json"}
    if lang == "en":
        headers["accept-language"] = "en"
    for method, template in json_routes(app):
        path = re.sub(r"\{(\w+):\w+\}", lambda m: str(values[m.group(1)]), template)
        r = await client.request(method, path, content=BODIES[body], headers=headers)
        assert r.status_code == 400, f"{method} {path}: {r.status_code} {r.text}"
        assert r.json()["errors"]["body"] == SAYS[lang], f"{method} {path}"
    assert await Contestant.count() == people
    view = await attempt_view(attempt_id, me)
    assert view.status == "open" and view.prediction is None
    assert all(item.chosen is None for item in view.items)
