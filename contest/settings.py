"""The one reader of the environment: settings as plain dataclass groups, loaded once."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

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
    # A result page holds one request this long for the worker's word that the attempt is ranked (then asks again).
    result_wait_seconds: int = 20
    # With that channel down it polls: every result_poll_seconds plus up to result_poll_spread more, chosen by attempt,
    # so that the auto-submits of one deadline do not all ask in the same second.
    result_poll_seconds: int = 2
    result_poll_spread: int = 8
    # At an opening: attempt starts let in per second (a token bucket with start_burst, default one second's worth);
    # the rest wait in line with their position shown (attempts.admission). 0: no line.
    start_rate: int = 0
    start_burst: int = 0


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
    # The ASGI app factory `contest web` serves (`--app`; the benchmarks serve a bare hello under the same server).
    app: str = "contest.app:create_app"
    # How long every viewer shares one rendering of a public page (contest.shared); 0: rendered per request.
    shared_seconds: float = 2.0
    # Open connections one web process holds (granian's backpressure, which counts connections, not requests; its
    # default, backlog / workers = 512, left every browser beyond it waiting tens of seconds to be accepted while
    # the others kept theirs alive), and the kernel's queue of connections not yet accepted.
    connections: int = 20_000
    backlog: int = 4096


@dataclass(frozen=True)
class Settings:
    db: DatabaseSettings = field(default_factory=DatabaseSettings)
    redis: RedisSettings = field(default_factory=RedisSettings)
    contest: ContestSettings = field(default_factory=ContestSettings)
    web: WebSettings = field(default_factory=WebSettings)
    # Everything the site writes lives under it unless a folder below is given its own place.
    data_dir: Path = ROOT / ".data"
    # Private files (certificate images and renders, zips): never served as static files. Default: data_dir/storage.
    storage_override: Path | None = None
    # Where QR codes point: the public address of this site.
    public_url: str = "http://127.0.0.1:8000"
    # `contest createadmin` reads the first admin's password from here instead of asking (scripts, containers).
    admin_password: str = ""

    @property
    def media_dir(self) -> Path:
        """Uploaded images (checked and re-encoded), served read-only at /media."""
        return self.data_dir / "media"

    @property
    def storage_dir(self) -> Path:
        """Private files: certificate images and renders, zips, share cards."""
        return self.storage_override or self.data_dir / "storage"


def _env(name: str, default: Any) -> Any:
    """The variable `name` read as the type of its default, or the default (written once, in the class) when unset."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    if isinstance(default, bool):
        return raw == "1"
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, Path):
        return Path(raw)
    return raw


def _secret(data_dir: Path) -> bytes:
    raw = os.environ.get("SECRET_KEY", "")
    if raw:
        return hashlib.sha256(raw.encode()).digest()
    # A stable key per checkout, so sessions survive restarts of `make run`.
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


# Where `contest run` writes the URLs of the private servers it started, so that other commands run meanwhile
# (createadmin, questions import, leaderboards check) find them without DATABASE_URL / REDIS_URL.
RUNNING_SERVERS = "servers.json"


def running_servers(data_dir: Path) -> dict[str, str]:
    """The URLs of the private servers of a `contest run` that is still running on this data dir (else empty)."""
    try:
        found = json.loads((data_dir / RUNNING_SERVERS).read_text())
        os.kill(int(found["pid"]), 0)  # a run killed without its clean-up leaves the file behind
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    return {name: str(url) for name, url in found.items() if name in ("DATABASE_URL", "REDIS_URL")}


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Read the environment once."""
    data_dir: Path = _env("CONTEST_DATA_DIR", Settings.data_dir)
    storage = _env("CONTEST_STORAGE_DIR", "")
    db_url, redis_url = _env("DATABASE_URL", DatabaseSettings.url), _env("REDIS_URL", RedisSettings.url)
    running = running_servers(data_dir) if not (db_url and redis_url) else {}
    return Settings(
        db=DatabaseSettings(url=db_url or running.get("DATABASE_URL", "")),
        redis=RedisSettings(url=redis_url or running.get("REDIS_URL", "")),
        contest=ContestSettings(
            grace_seconds=_env("CONTEST_GRACE_SECONDS", ContestSettings.grace_seconds),
            scoring_batch=_env("CONTEST_SCORING_BATCH", ContestSettings.scoring_batch),
            sweep_seconds=_env("CONTEST_SWEEP_SECONDS", ContestSettings.sweep_seconds),
            rate_limit_per_minute=_env("CONTEST_RATE_LIMIT", ContestSettings.rate_limit_per_minute),
            result_wait_seconds=_env("CONTEST_RESULT_WAIT_SECONDS", ContestSettings.result_wait_seconds),
            result_poll_seconds=_env("CONTEST_RESULT_POLL_SECONDS", ContestSettings.result_poll_seconds),
            result_poll_spread=_env("CONTEST_RESULT_POLL_SPREAD", ContestSettings.result_poll_spread),
            start_rate=_env("CONTEST_START_RATE", ContestSettings.start_rate),
            start_burst=_env("CONTEST_START_BURST", ContestSettings.start_burst),
        ),
        web=WebSettings(
            host=_env("CONTEST_HOST", WebSettings.host),
            port=_env("CONTEST_PORT", WebSettings.port),
            secret=_secret(data_dir),
            debug=_env("CONTEST_DEBUG", WebSettings.debug),
            hsts=_env("CONTEST_HSTS", WebSettings.hsts),
            forwarded_allow_ips=_env("CONTEST_FORWARDED_ALLOW_IPS", WebSettings.forwarded_allow_ips),
            app=_env("CONTEST_WEB_APP", WebSettings.app),
            shared_seconds=_env("CONTEST_SHARED_SECONDS", WebSettings.shared_seconds),
            connections=_env("CONTEST_WEB_CONNECTIONS", WebSettings.connections),
            backlog=_env("CONTEST_WEB_BACKLOG", WebSettings.backlog),
        ),
        data_dir=data_dir,
        storage_override=Path(storage) if storage else None,
        public_url=_env("CONTEST_PUBLIC_URL", Settings.public_url).rstrip("/"),
        admin_password=_env("CONTEST_ADMIN_PASSWORD", Settings.admin_password),
    )
