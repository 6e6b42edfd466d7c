"""The one reader of the environment: settings as plain dataclass groups, loaded once."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""


@dataclass(frozen=True)
class RedisSettings:
    url: str = ""


@dataclass(frozen=True)
class ContestSettings:
    # Answers and submits are accepted this long after the deadline, to absorb slow networks.
    grace_seconds: int = 10
    # Batch size the scoring worker takes from PostgreSQL in one transaction.
    scoring_batch: int = 500
    # How often the sweeper auto-submits expired attempts and re-kicks stuck ones.
    sweep_seconds: int = 5
    # Registrations, sign-ins and attempt starts per client address per minute (0 turns limits off,
    # e.g. for a load test from one address). Generous: many phones share one carrier address.
    rate_limit_per_minute: int = 30


@dataclass(frozen=True)
class WebSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    debug: bool = False
    # Strict-Transport-Security on every response: only behind HTTPS, or browsers refuse the site for a year.
    hsts: bool = False
    # Proxies whose X-Forwarded-For is believed (comma-separated addresses or networks, "*" for any): behind nginx,
    # rate limits then count the real client instead of the proxy.
    forwarded_allow_ips: str = "127.0.0.1,::1"


@dataclass(frozen=True)
class Settings:
    db: DatabaseSettings
    redis: RedisSettings
    contest: ContestSettings
    web: WebSettings
    data_dir: Path
    # Uploaded question images (checked and re-encoded), served read-only at /media.
    media_dir: Path = field(default_factory=lambda: Path(os.environ.get("CONTEST_DATA_DIR", ROOT / ".data")) / "media")
    # Private files (certificate images and renders, zips): never served as static files.
    storage_dir: Path = field(
        default_factory=lambda: Path(
            os.environ.get("CONTEST_STORAGE_DIR") or Path(os.environ.get("CONTEST_DATA_DIR", ROOT / ".data")) / "storage"
        )
    )
    # Where QR codes point: the public address of this site.
    public_url: str = field(default_factory=lambda: os.environ.get("CONTEST_PUBLIC_URL", "http://127.0.0.1:8000").rstrip("/"))


def _secret() -> bytes:
    raw = os.environ.get("SECRET_KEY", "")
    if raw:
        return hashlib.sha256(raw.encode()).digest()
    # A stable key per checkout, so sessions survive restarts of `make run`.
    data_dir = Path(os.environ.get("CONTEST_DATA_DIR", ROOT / ".data"))
    key_file = data_dir / "secret.key"
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        # Exclusive create: the web server and workers start together, and they must agree on one key.
        with key_file.open("xb") as f:
            f.write(secrets.token_bytes(32))
    except FileExistsError:
        pass
    for _ in range(50):
        key = key_file.read_bytes()
        if len(key) >= 32:
            return key[:32]
        time.sleep(0.01)  # another process created it and is still writing
    raise RuntimeError(f"{key_file} is not a 32-byte key")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the environment once."""
    env = os.environ
    return Settings(
        db=DatabaseSettings(url=env.get("DATABASE_URL", "")),
        redis=RedisSettings(url=env.get("REDIS_URL", "")),
        contest=ContestSettings(
            grace_seconds=int(env.get("CONTEST_GRACE_SECONDS", "10")),
            scoring_batch=int(env.get("CONTEST_SCORING_BATCH", "500")),
            sweep_seconds=int(env.get("CONTEST_SWEEP_SECONDS", "5")),
            rate_limit_per_minute=int(env.get("CONTEST_RATE_LIMIT", "30")),
        ),
        web=WebSettings(
            host=env.get("CONTEST_HOST", "127.0.0.1"),
            port=int(env.get("CONTEST_PORT", "8000")),
            secret=_secret(),
            debug=env.get("CONTEST_DEBUG", "") == "1",
            hsts=env.get("CONTEST_HSTS", "") == "1",
            forwarded_allow_ips=env.get("CONTEST_FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
        ),
        data_dir=Path(env.get("CONTEST_DATA_DIR", ROOT / ".data")),
    )
