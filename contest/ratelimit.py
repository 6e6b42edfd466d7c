"""Rate limits on registration, sign-in and attempt starts: one budget per kind and client address, kept in Redis
and spent atomically, so every web process draws on the same budget."""

from __future__ import annotations

from typing import TYPE_CHECKING

from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import TooManyRequestsException
from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import DURATION_VALUES, RateLimitConfig, RateLimitMiddleware

from contest import keys
from contest.redis import async_redis
from contest.settings import get_settings

if TYPE_CHECKING:
    from litestar.types import Message, Receive, Scope, Send

# One request spent: the window opens with the first request and lasts its duration (Litestar's fixed window).
_SPEND_LUA = """
local spent = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {spent, ttl}
"""


class SharedBudget(RateLimitMiddleware):
    """Litestar's limiter reads the history, then writes it back: two web processes can read the same count and both
    let a request through. Here one INCR spends the budget, whichever process serves the request."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = scope["litestar_app"].request_class(scope)
        if await self.should_check_request(request):
            key = keys.rate_limit(self.config.store, self.get_identifier_for_request(request))
            seconds = DURATION_VALUES[self.unit]
            spent, reset = await async_redis().register_script(_SPEND_LUA)(keys=[key], args=[seconds])
            headers = self._headers(int(spent), int(reset))
            if spent > self.max_requests:
                raise TooManyRequestsException(headers=headers)
            send = self._sending(send, headers)
        await self.app(scope, receive, send)

    def _headers(self, spent: int, reset: int) -> dict[str, str]:
        config = self.config
        return {
            config.rate_limit_policy_header_key: f"{self.max_requests}; w={DURATION_VALUES[self.unit]}",
            config.rate_limit_limit_header_key: str(self.max_requests),
            config.rate_limit_remaining_header_key: str(max(0, self.max_requests - spent)),
            config.rate_limit_reset_header_key: str(reset),
        }

    @staticmethod
    def _sending(send: Send, headers: dict[str, str]) -> Send:
        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", [])
                MutableScopeHeaders(message).update(headers)
            await send(message)

        return with_headers


def limit(kind: str) -> DefineMiddleware:
    """Route middleware: at most N requests a minute per client address for this kind of action."""
    per_minute = get_settings().contest.rate_limit_per_minute
    config = RateLimitConfig(rate_limit=("minute", per_minute or 10**9), store=kind, middleware_class=SharedBudget)
    return config.middleware
