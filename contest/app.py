"""The web app, assembled in one place. Nothing is wired at import time."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import redis.exceptions
from litestar import Litestar, MediaType, Request, Response, Router, get
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException, TooManyRequestsException
from litestar.exceptions.responses import create_exception_response
from litestar.logging.config import LoggingConfig
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.session.base import SessionMiddleware
from litestar.middleware.session.client_side import ClientSideSessionBackend, CookieBackendConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from litestar.template.config import TemplateConfig
from litestar.types import ASGIApp

from contest import errors, formatting, keys, translations
from contest.access import AccessLog, flush_access_lines
from contest.api.routes import ContestantApi, PublicApi
from contest.assets import static_router, static_url
from contest.attempts import push
from contest.attempts.routes import AttemptController
from contest.certificates.routes import CertificateController
from contest.certificates.staff_routes import StaffCertificateController
from contest.compression import LeanCompression
from contest.contests.look import theme_version
from contest.contests.routes import ContestController, LookController
from contest.contests.staff_routes import ContestBuilderController
from contest.db import close_pool, start_pool
from contest.errors import api_lang as _api_lang
from contest.errors import is_api as _is_api
from contest.i18n import InputError, message
from contest.leaderboard.routes import BoardController
from contest.leaderboard.staff_routes import PopulationController
from contest.officials.staff_routes import OfficialsController
from contest.people.routes import PeopleController
from contest.people.staff_routes import DuplicatesController, PrivacyRequestController
from contest.people.staff_units_routes import UnitsController
from contest.practice.routes import PracticeController
from contest.practice.staff_routes import StaffPracticeController
from contest.questions.staff_routes import QuestionBankController
from contest.questions.staff_transfer_routes import QuestionTransferController
from contest.redis import async_redis, close_async_redis
from contest.requests import ContestRequest
from contest.results.routes import PublicResultsController
from contest.results.staff_routes import StaffResultsController
from contest.security import CSRFGuard, security_headers
from contest.settings import ROOT, Settings, get_settings
from contest.shared import SharedRendering
from contest.staff.accounts_routes import InvitationController, StaffAccountsController
from contest.staff.routes import staff_router
from contest.web import lang_of, page

logger = logging.getLogger(__name__)


@get("/healthz", media_type=MediaType.TEXT, sync_to_thread=False)
def healthz() -> str:
    """Liveness, and the hello-world baseline of the benchmarks."""
    return "ok"


def _input_error(request: Request, exc: InputError) -> Response:
    errors = exc.messages(lang_of(request) if not _is_api(request) else _api_lang(request))
    if _is_api(request):
        return Response({"errors": errors}, status_code=422)
    return page("error.html", status_code=422, errors=errors)


def _not_authorized(request: Request, exc: NotAuthorizedException) -> Response:
    if request.url.path.startswith("/staff"):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(path="/staff/login", query_params={"next": target})
    text = message("not_identified", _api_lang(request) if _is_api(request) else lang_of(request))
    if _is_api(request):
        return Response({"errors": {"auth": text}}, status_code=401)
    return page("error.html", status_code=401, errors={"auth": text})


def _forbidden(request: Request, exc: PermissionDeniedException) -> Response:
    text = message("staff_forbidden", lang_of(request))
    if _is_api(request):
        return Response({"errors": {"auth": text}}, status_code=403)
    return page("error.html", status_code=403, errors={"auth": text})


def _bad_request(request: Request, exc: HTTPException) -> Response:
    """Malformed or mistyped input: a clear message in the caller's language, and the parser's detail."""
    text = message("body_invalid", _api_lang(request) if _is_api(request) else lang_of(request))
    detail = str(getattr(exc, "extra", None) or exc.detail)
    if _is_api(request):
        return Response({"errors": {"body": text}, "detail": detail}, status_code=400)
    return page("error.html", status_code=400, errors={"body": text})


def _data_error(request: Request, exc: Exception) -> Response:
    """A value PostgreSQL cannot take (an id past its integer range in an address): bad input, not a server error."""
    return _bad_request(request, HTTPException(status_code=400, detail="value out of range"))


def _too_many(request: Request, exc: TooManyRequestsException) -> Response:
    """Over a rate limit: say so in the caller's language, with the limiter's RateLimit-* headers and Retry-After."""
    text = message("too_many_requests", _api_lang(request) if _is_api(request) else lang_of(request))
    headers = dict(exc.headers or {})
    headers["Retry-After"] = next((v for k, v in headers.items() if k.lower() == "ratelimit-reset"), "60")
    if _is_api(request):
        return Response({"errors": {"rate": text}}, status_code=429, headers=headers)
    response = page("error.html", status_code=429, errors={"rate": text})
    response.headers.update(headers)
    return response


# PostgreSQL or Redis out of reach (a restart, a failover, a network blip). The pool and the Redis client
# reconnect on their own, so the next request may well succeed: say so, rather than a bare 500.
UNAVAILABLE: tuple[type[Exception], ...] = (
    OSError,  # refused, reset, timed out, a unix socket gone (file errors are told apart below)
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up, crashed
    asyncpg.exceptions.ConnectionDoesNotExistError,  # a pooled connection lost mid-query
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
)


def _unavailable(request: Request, exc: Exception) -> Response:
    """A backing service is out of reach: 503 with Retry-After, in the caller's language, at once."""
    if isinstance(exc, OSError) and exc.filename is not None:  # a file that is not there: a bug, not an outage
        logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return create_exception_response(request, exc)
    logger.warning("%s %s: service unavailable: %r", request.method, request.url.path, exc)
    headers = {"Retry-After": "5"}
    text = message("service_unavailable", _api_lang(request) if _is_api(request) else lang_of(request))
    if _is_api(request):
        return Response({"errors": {"service": text}}, status_code=503, headers=headers)
    if request.headers.get("hx-request"):  # an answer being saved: the message goes where the tick would
        return Response(text, status_code=503, media_type=MediaType.HTML, headers=headers)
    response = page("error.html", status_code=503, errors={"service": text})
    response.headers.update(headers)
    return response


async def _open_pool() -> None:
    await start_pool()


async def _close_pool() -> None:
    await close_pool()
    await close_async_redis()


def _template_engine(engine_: JinjaTemplateEngine) -> None:
    env = engine_.engine
    translations.install(env)  # {% trans %} and _() in the language of the request being rendered
    env.globals.update(formatting.template_globals())
    env.globals["static_url"] = static_url  # /static/app.<hash>.css: cached for a year
    env.globals["theme_version"] = theme_version  # /c/<slug>/theme.css?v=<hash>: likewise
    env.filters.update(formatting.template_filters())


def _contestant_session(app: ASGIApp, secret: bytes) -> ASGIApp:
    """The contestant's session, in a signed and encrypted cookie (staff have their own, server-side). Built per
    route from the secret: a router's middleware is copied, and the cookie backend's cipher cannot be."""
    config = CookieBackendConfig(secret=secret, max_age=60 * 60 * 24 * 30, exclude=["/staff"])
    return SessionMiddleware(app=app, backend=ClientSideSessionBackend(config))


def _pages(settings: Settings) -> Router:
    """Every HTML page and form: the contestant's cookie session (staff have their own, server-side) and CSRF."""
    return Router(
        path="/",
        route_handlers=[
            ContestController,
            PeopleController,
            AttemptController,
            BoardController,
            PublicResultsController,
            CertificateController,
            LookController,
            PracticeController,
            staff_router(
                InvitationController,
                StaffAccountsController,
                QuestionBankController,
                QuestionTransferController,
                ContestBuilderController,
                StaffResultsController,
                OfficialsController,
                PopulationController,
                UnitsController,
                DuplicatesController,
                PrivacyRequestController,
                StaffCertificateController,
                StaffPracticeController,
            ),
        ],
        middleware=[
            DefineMiddleware(_contestant_session, secret=settings.web.secret),
            # Litestar's CSRF check, refusing malformed tokens instead of failing on them.
            DefineMiddleware(
                CSRFGuard,
                # HttpOnly: no script reads it; htmx sends the token rendered into the page (base.html's hx-headers).
                config=CSRFConfig(secret=settings.web.secret.hex(), cookie_httponly=True),
            ),
        ],
    )


def create_app(**overrides: Any) -> Litestar:
    """Build the app from settings."""
    settings = get_settings()
    redis_store = RedisStore(async_redis(), namespace=keys.STORES)
    app = Litestar(
        route_handlers=[
            # Neither the JSON API (bearer tokens), nor /healthz, nor static files read or set a cookie: they are
            # outside the pages' router, so no session or CSRF layer is built into their routes at all (each layer
            # cost a hello-world request about a tenth of its time even when it skipped itself).
            healthz,
            PublicApi,
            ContestantApi,
            _pages(settings),
            create_static_files_router(path="/media", directories=[settings.media_dir], name="media"),
            static_router(),
        ],
        template_config=TemplateConfig(
            directory=ROOT / "templates", engine=JinjaTemplateEngine, engine_callback=_template_engine
        ),
        # Outermost: a shared public page is served before any session or CSRF cookie is read or set.
        middleware=[DefineMiddleware(SharedRendering)],
        stores=StoreRegistry(default_factory=lambda name: redis_store.with_namespace(name)),
        # Slow mobile data: pages and htmx go out brotli-compressed, gzipped to browsers without brotli (tiny answers
        # and 204s are below the threshold).
        compression_config=CompressionConfig(
            backend="brotli",
            minimum_size=800,
            brotli_quality=5,
            brotli_gzip_fallback=True,
            gzip_compress_level=6,
            middleware_class=LeanCompression,  # type: ignore[arg-type]  # Litestar calls it as (app=, config=)
        ),
        openapi_config=OpenAPIConfig(title="Contest API", version="1", path="/schema"),
        exception_handlers={
            InputError: _input_error,
            NotAuthorizedException: _not_authorized,
            PermissionDeniedException: _forbidden,
            400: _bad_request,
            asyncpg.exceptions.DataError: _data_error,
            TooManyRequestsException: _too_many,
            **dict.fromkeys(UNAVAILABLE, _unavailable),
            404: errors.not_found,
            405: errors.not_allowed,
            500: errors.server_error,
        },
        request_class=ContestRequest,
        # Unhandled errors are logged once, by errors.server_error, with the request id.
        logging_config=LoggingConfig(log_exceptions="never"),
        # The result pages' held requests wait on the worker's word through Redis pub/sub (attempts.push).
        plugins=[push.channels_plugin()],
        on_startup=[_open_pool],
        on_shutdown=[_close_pool, flush_access_lines],
        debug=settings.web.debug,
        **overrides,
    )
    # Router included: every request is logged and gets the security headers, 404s too.
    app.asgi_handler = AccessLog(app.asgi_handler, on_start=security_headers(hsts=settings.web.hsts))
    return app
