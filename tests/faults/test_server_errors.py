"""A running `contest web`: what used to answer 500 is refused, every request leaves an access line with its id,
and a real server error leaves its traceback, route and id in the log and shows the id to the reader."""

from __future__ import annotations

import os
import re
import time

import asyncpg
import httpx

from contest.access import redact
from contest.settings import get_settings
from tests.faults.conftest import WebApp
from tests.staff.test_signin import PASSWORD, csrf_of, staff

GOOD_TOKEN = "ab" * 64  # the right length and alphabet, signed by nobody


def logged(web: WebApp, rid: str, timeout: float = 5) -> str:
    """The log records of the web process that name this request id, each with its traceback if any (they arrive
    through a queue: wait a little)."""
    deadline = time.monotonic() + timeout
    while True:
        text = web.proc.log.read_text(errors="replace")  # type: ignore[union-attr]
        if f"ms id={rid}" in text or time.monotonic() > deadline:  # the access line comes last
            return "\n".join(block for block in re.split(r"\n(?=[A-Z]+:? )", text) if f"id={rid}" in block)
        time.sleep(0.1)


def answered(web: WebApp, response: httpx.Response, status: int) -> str:
    """The response has this status and the access log has its line; that line (and any traceback of it)."""
    rid = response.headers["x-request-id"]
    assert response.status_code == status, (response.request.url, response.status_code, response.text[:300])
    lines = logged(web, rid)
    path = response.request.url.path
    assert f"{response.request.method} {path} {status} " in lines, (lines, web.log())
    return lines


async def test_malformed_tokens_and_job_ids_are_refused_and_logged_never_a_500(web_app) -> None:
    web = web_app().start()
    email = await staff("organiser")
    conn = await asyncpg.connect(get_settings().db.url)
    round_id = await conn.fetchval("SELECT min(id) FROM round")
    await conn.close()
    with httpx.Client(base_url=web.url) as http:
        # A bearer token with a non-ASCII character, on a contestant route of the API.
        r = http.get("/api/v1/attempts/1", headers={"authorization": "Bearer c1.ả".encode()})
        answered(web, r, 401)
        r = http.put("/api/v1/attempts/1/answers/1", json={"option_id": 1}, headers={"authorization": "Bearer cá.x".encode()})
        answered(web, r, 401)
        # CSRF cookie and field of 65+ characters, ASCII or not.
        for token in ("x" * 65, "ệ" * 65, GOOD_TOKEN + "g"):
            cookie = f"csrftoken={token}".encode()
            r = http.post("/staff/login", headers={"cookie": cookie}, data={"_csrf_token": token, "email": "a@b.vn"})
            answered(web, r, 403)
        # The CSRF token sent as a file part of a multipart form.
        page = http.get("/staff/login")
        token = csrf_of(page.text)
        r = http.post("/staff/login", files={"_csrf_token": ("token.txt", token.encode())}, data={"email": "a@b.vn"})
        answered(web, r, 403)
        # A malformed job id on the certificate pages (signed in as an organiser).
        http.cookies.clear()
        page = http.get("/staff/login")
        data = {"_csrf_token": csrf_of(page.text), "email": email, "password": PASSWORD, "next": "/staff/"}
        assert http.post("/staff/login", data=data).status_code in (200, 302, 303)
        answered(web, http.get(f"/staff/certificates/round/{round_id}?job=a.b"), 404)
        answered(web, http.get("/staff/certificates/jobs/a.b"), 404)
        answered(web, http.get(f"/staff/certificates/round/{round_id}"), 200)


def test_head_answers_like_get_on_pages_and_api_reads(web_app) -> None:
    web = web_app().start()
    with httpx.Client(base_url=web.url) as http:
        for path in ("/", "/verify/", "/api/v1/contests", "/healthz"):
            got = http.get(path)
            head = http.head(path)
            if path != "/healthz":  # health checks leave no access line (below)
                answered(web, head, 200)
            assert head.status_code == 200 and head.content == b""
            assert head.headers["content-type"] == got.headers["content-type"]


def test_a_server_error_is_logged_with_its_traceback_route_and_id_which_the_page_shows(web_app) -> None:
    url = os.environ["DATABASE_URL"]
    # Every query of this process finds no table: a real unhandled error on every page that reads the database.
    web = web_app(DATABASE_URL=url + ("&" if "?" in url else "?") + "search_path=nowhere").start()
    with httpx.Client(base_url=web.url) as http:
        page = http.get("/")
        lines = answered(web, page, 500)
        rid = page.headers["x-request-id"]
        assert rid in page.text and "Lỗi hệ thống" in page.text
        assert f"unhandled error in GET / id={rid}" in lines
        assert "Traceback" in lines and "UndefinedTableError" in lines
        api = http.get("/api/v1/contests", headers={"accept-language": "en"})
        lines = answered(web, api, 500)
        assert api.json()["request_id"] == api.headers["x-request-id"]
        assert "Something went wrong" in api.json()["errors"]["server"]
        assert "unhandled error in GET /api/v1/contests" in lines and "Traceback" in lines


def test_phone_numbers_never_reach_the_log() -> None:
    line = redact("phone=0913 000 123, +84912345678 and 84912345678 at line 1904 on 2026-12-03 20:25:49")
    assert "913" not in line and "912345678" not in line
    assert "line 1904" in line and "2026-12-03 20:25:49" in line


def test_health_checks_leave_no_access_line_and_every_other_request_does(web_app) -> None:
    web = web_app().start()
    with httpx.Client(base_url=web.url) as http:
        probes = [http.get("/healthz") for _ in range(3)]
        assert all(p.status_code == 200 and p.headers["x-request-id"] for p in probes)
        answered(web, http.get("/c/khong-co"), 404)  # a later request's line is written: the probes' would be by now
    text = web.proc.log.read_text(errors="replace")  # type: ignore[union-attr]
    assert "GET /c/khong-co 404" in text
    assert "GET /healthz" not in text and not any(p.headers["x-request-id"] in text for p in probes)
