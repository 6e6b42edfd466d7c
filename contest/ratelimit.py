"""Rate limits on registration, sign-in and attempt starts (Litestar's RateLimitConfig, Redis store)."""

from __future__ import annotations

from litestar.middleware import DefineMiddleware
from litestar.middleware.rate_limit import RateLimitConfig

from contest.settings import get_settings


def limit(kind: str) -> DefineMiddleware:
    """Route middleware: at most N requests a minute per client address for this kind of action."""
    per_minute = get_settings().contest.rate_limit_per_minute
    config = RateLimitConfig(
        rate_limit=("minute", per_minute or 10**9),
        # One budget per kind: the app's store registry makes a Redis namespace per name.
        store=f"rate_limit_{kind}",
    )
    return config.middleware
