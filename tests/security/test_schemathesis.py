"""Schemathesis against /schema/openapi.json: generated valid and invalid requests to every documented API operation,
not one server error (bad input gets a 4xx with a message), and every answer, errors included, as documented.

The app runs in the test's own event loop: Schemathesis' ASGI client would start the app's lifespan in a thread
with a loop of its own, sharing this process's asyncpg pool and Redis client across two loops. So Hypothesis draws
the cases in a worker thread and each request is sent to this loop, through the same client the other tests use.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES = 25  # per operation and mode: the whole run stays well under a minute
SCOPE = ("/api/",)
# Not one server error, and every answer (400, 401, 404, 422 and 429 included) as the schema documents it.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


def _request_args(kwargs: dict[str, Any]) -> dict[str, Any]:
    """A `requests`-style call (what Schemathesis serialises to) as arguments of httpx's `request`."""
    out: dict[str, Any] = {"method": kwargs["method"], "url": kwargs["url"]}
    for key in ("headers", "params", "json", "files"):
        if kwargs.get(key) is not None:
            out[key] = kwargs[key]
    data = kwargs.get("data")
    if data is not None:
        out["content" if isinstance(data, (bytes, str)) else "data"] = data
    return out


async def test_no_generated_api_request_gets_a_server_error(client, new_round) -> None:
    from contest.api.auth import issue
    from contest.attempts.starting import start_attempt
    from contest.redis import async_redis

    # A contestant with a token and an open attempt: half the valid cases aim at them, to get past 401s and 404s.
    case_round = await new_round()
    me = await case_round.contestant(1)
    real = {
        "slug": case_round.slug,
        "round_id": case_round.round_id,
        "attempt_id": await start_attempt(me, case_round.round_id),
        "province": 31,
        "position": 1,
    }
    auth = {"authorization": f"Bearer {issue(me)}"}
    spec = (await client.get("/schema/openapi.json")).json()
    schema = schemathesis.openapi.from_dict(spec)
    operations = [result.ok() for result in schema.get_all_operations() if result.ok().path.startswith(SCOPE)]
    assert len(operations) >= 12
    loop = asyncio.get_running_loop()

    async def send(args: dict[str, Any]) -> httpx.Response:
        # Fresh rate-limit budgets, so that the handlers behind the limits are reached too.
        async for key in async_redis().scan_iter(match="contest_rate_limit*"):
            await async_redis().delete(key)
        return await client.request(**args)

    failures: list[str] = []
    sent = 0

    def run(operation: Any, mode: GenerationMode) -> None:
        @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case: Any) -> None:
            nonlocal sent
            if mode is GenerationMode.POSITIVE and sent % 2 and case.path_parameters:
                case.path_parameters = {k: real.get(k, v) for k, v in case.path_parameters.items()}
            args = _request_args(case.as_transport_kwargs(base_url="http://testserver", headers=auth))
            response = asyncio.run_coroutine_threadsafe(send(args), loop).result(timeout=30)
            sent += 1
            if response.status_code >= 500:
                body = args.get("json", args.get("content", args.get("data", "")))
                failures.append(f"{args['method']} {args['url']} {body!r} -> {response.status_code}")
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except Unsatisfiable:
            pass  # no parameter and no body: nothing invalid to send
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # Hypothesis re-raises the (shrunk) failure: noted, then the next operation
            failures.append(f"{operation.label} ({mode.value}): {type(exc).__name__}: {str(exc)[:600]}")

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            await asyncio.to_thread(run, operation, mode)
    assert sent > len(operations) * 10
    assert failures == [], "\n\n".join(dict.fromkeys(failures))


# What the run above found (500s from ids beyond PostgreSQL's integer), kept as plain cases.
@pytest.mark.parametrize(
    ("method", "path", "body", "status", "says"),
    [
        ("GET", "/api/v1/rounds/99999999999/board", None, 400, "Dữ liệu gửi lên không đúng định dạng."),
        ("GET", "/api/v1/provinces/6522158484/communes", None, 400, "Dữ liệu gửi lên không đúng định dạng."),
        ("GET", "/api/v1/contests/x/board?commune=99999999999", None, 400, "Dữ liệu gửi lên không đúng định dạng."),
        ("POST", "/api/v1/rounds/99999999999/attempts", None, 400, "Dữ liệu gửi lên không đúng định dạng."),
        ("GET", "/api/v1/attempts/99999999999", None, 400, "Dữ liệu gửi lên không đúng định dạng."),
        ("PUT", "/api/v1/attempts/99999999999/answers/1", {"option_id": 1}, 422, "Không tìm thấy lượt thi."),
        ("PUT", "/api/v1/attempts/1/answers/99999999", {"option_id": 1}, 422, "Câu hỏi không tồn tại trong lượt thi này."),
        ("PUT", "/api/v1/attempts/1/answers/1", {"option_id": 99999999999}, 400, "Dữ liệu gửi lên không đúng định dạng."),
        ("POST", "/api/v1/attempts/99999999999/submit", {}, 422, "Không tìm thấy lượt thi."),
        ("PUT", "/api/v1/attempts/99999999999/prediction", {"value": 1}, 400, "Dữ liệu gửi lên không đúng định dạng."),
        ("GET", "/api/v1/attempts/99999999999/result", None, 400, "Dữ liệu gửi lên không đúng định dạng."),
    ],
)
async def test_ids_beyond_the_database_range_are_bad_input_not_a_crash(client, method, path, body, status, says) -> None:  # type: ignore[no-untyped-def]
    from contest.api.auth import issue

    r = await client.request(method, path, json=body, headers={"authorization": f"Bearer {issue(1)}"})
    assert r.status_code == status, r.text
    assert says in r.text


async def test_the_schema_tells_clients_the_id_ranges(client) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    board = spec["paths"]["/api/v1/rounds/{round_id}/board"]["get"]["parameters"]
    assert next(p for p in board if p["name"] == "round_id")["schema"]["maximum"] == 2_147_483_647
    register = spec["components"]["schemas"]["RegisterIn"]["properties"]
    assert register["commune"]["maximum"] == 2_147_483_647 and register["birth_year"]["maximum"] == 32_767


async def test_the_schema_documents_the_error_bodies_clients_get(client) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    answer = spec["paths"]["/api/v1/attempts/{attempt_id}/answers/{position}"]["put"]["responses"]
    assert {"400", "401", "404", "422", "429", "503"} <= set(answer)
    errors = spec["components"]["schemas"]["ErrorsOut"]
    assert errors["required"] == ["errors"] and errors["properties"]["errors"]["type"] == "object"
    assert "401" not in spec["paths"]["/api/v1/contests/{slug}/register"]["post"]["responses"]
