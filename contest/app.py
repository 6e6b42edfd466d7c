"""The web app, assembled in one place. Nothing is wired at import time."""

from __future__ import annotations

from typing import Any

from litestar import Litestar, MediaType, Request, Response, get
from litestar.config.compression import CompressionConfig
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import HTTPException, NotAuthorizedException, PermissionDeniedException
from litestar.middleware.session.client_side import CookieBackendConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from litestar.template.config import TemplateConfig

from contest import formatting
from contest.api.routes import ContestantApi, PublicApi
from contest.attempts.routes import AttemptController
from contest.contests.builder_routes import ContestBuilderController
from contest.contests.routes import ContestController
from contest.db import close_pool, start_pool
from contest.i18n import InputError, message
from contest.leaderboard.routes import BoardController
from contest.leaderboard.staff_routes import PopulationController
from contest.officials.routes import OfficialsController
from contest.people.duplicates_routes import DuplicatesController
from contest.people.routes import PeopleController
from contest.questions.bank_routes import QuestionBankController
from contest.questions.transfer_routes import QuestionTransferController
from contest.redis import async_redis, close_async_redis
from contest.results.public_routes import PublicResultsController
from contest.results.routes import StaffResultsController
from contest.settings import ROOT, get_settings
from contest.staff.people_routes import InvitationController, StaffPeopleController
from contest.staff.routes import staff_router
from contest.web import lang_of, page


@get("/healthz", media_type=MediaType.TEXT, sync_to_thread=False)
def healthz() -> str:
    """Liveness, and the hello-world baseline of the benchmarks."""
    return "ok"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _input_error(request: Request, exc: InputError) -> Response:
    errors = exc.messages(lang_of(request) if not _is_api(request) else _api_lang(request))
    if _is_api(request):
        return Response({"errors": errors}, status_code=422)
    return page("error.html", status_code=422, errors=errors)


def _api_lang(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "vi"


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


async def _open_pool() -> None:
    await start_pool()


async def _close_pool() -> None:
    await close_pool()
    await close_async_redis()


def _template_engine(engine_: JinjaTemplateEngine) -> None:
    env = engine_.engine
    env.globals.update(formatting.template_globals())
    env.filters.update(formatting.template_filters())


def create_app(**overrides: Any) -> Litestar:
    """Build the app from settings."""
    settings = get_settings()
    redis_store = RedisStore(async_redis(), namespace="contest")
    return Litestar(
        route_handlers=[
            healthz,
            ContestController,
            PeopleController,
            AttemptController,
            BoardController,
            PublicApi,
            ContestantApi,
            PublicResultsController,
            staff_router(
                InvitationController,
                StaffPeopleController,
                QuestionBankController,
                QuestionTransferController,
                ContestBuilderController,
                StaffResultsController,
                OfficialsController,
                PopulationController,
                DuplicatesController,
            ),
            create_static_files_router(path="/media", directories=[settings.media_dir], name="media"),
            create_static_files_router(
                path="/static",
                directories=[ROOT / "static"],
                name="static",
                cache_control=CacheControlHeader(max_age=86400, public=True),
            ),
        ],
        template_config=TemplateConfig(
            directory=ROOT / "templates", engine=JinjaTemplateEngine, engine_callback=_template_engine
        ),
        # The API authenticates by bearer token and /healthz is bare: neither needs cookies.
        middleware=[
            CookieBackendConfig(
                secret=settings.web.secret,
                max_age=60 * 60 * 24 * 30,
                exclude=["/api/", "/healthz", "/static/", "/media/", "/staff"],
            ).middleware
        ],
        csrf_config=CSRFConfig(secret=settings.web.secret.hex(), exclude=["/api/", "/schema", "/healthz"]),
        stores=StoreRegistry(default_factory=lambda name: redis_store.with_namespace(name)),
        # Slow mobile data: pages and htmx go out gzipped (tiny answers and 204s are below the threshold).
        compression_config=CompressionConfig(backend="gzip", minimum_size=800, gzip_compress_level=6),
        openapi_config=OpenAPIConfig(title="Contest API", version="1", path="/schema"),
        exception_handlers={
            InputError: _input_error,
            NotAuthorizedException: _not_authorized,
            PermissionDeniedException: _forbidden,
            400: _bad_request,
        },
        on_startup=[_open_pool],
        on_shutdown=[_close_pool],
        debug=settings.web.debug,
        **overrides,
    )
