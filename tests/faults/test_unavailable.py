"""Which failures mean "a backing service is out of reach, retry" (503) and which are bugs (500)."""

from __future__ import annotations

import asyncpg
import httpx
import pytest
import redis.exceptions
from litestar import Litestar, get

from contest.app import UNAVAILABLE, _unavailable

FAILURES = {
    "refused": ConnectionRefusedError(111, "Connection refused"),
    "socket": FileNotFoundError(2, "No such file or directory"),  # a unix socket gone: no file name
    "starting": asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
    "lost": asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    "redis": redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."),
    "file": FileNotFoundError(2, "No such file or directory", "/srv/storage/cert-1.pdf"),
}


@get("/api/fail/{name:str}")
async def fail(name: str) -> None:
    raise FAILURES[name]


@pytest.mark.parametrize(
    ("name", "status"), [("refused", 503), ("socket", 503), ("starting", 503), ("lost", 503), ("redis", 503), ("file", 500)]
)
async def test_an_outage_is_a_503_to_retry_and_a_missing_file_stays_a_500(name: str, status: int) -> None:
    app = Litestar(route_handlers=[fail], exception_handlers=dict.fromkeys(UNAVAILABLE, _unavailable))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        response = await client.get(f"/api/fail/{name}")
    assert response.status_code == status
    if status == 503:
        assert response.headers["retry-after"] == "5"
        assert "Hệ thống đang tạm gián đoạn" in response.json()["errors"]["service"]
    else:
        assert "retry-after" not in response.headers and "cert-1.pdf" not in response.text
