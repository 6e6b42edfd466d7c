"""Error answers of the app's own: a page in the reader's language for browsers, JSON under /api.

A server error is logged once, with its traceback, route and request id (phone numbers masked), and the page
shows that id so a report can be matched with the log line.
"""

from __future__ import annotations

import logging
import traceback

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException

from contest.access import redact, request_id
from contest.i18n import message
from contest.web import lang_of, page

logger = logging.getLogger("contest.errors")

# Status -> the catalog code of what the page says.
_TEXTS = {404: "page_not_found", 405: "method_not_allowed", 500: "server_error"}


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def api_lang(request: Request) -> str:
    return "en" if request.headers.get("accept-language", "").lower().startswith("en") else "vi"


def error_answer(request: Request, status: int, errors: dict[str, str], headers: dict[str, str] | None = None) -> Response:
    """JSON under /api, a short text for htmx (it lands where a fragment would), else the error page."""
    if is_api(request):
        return Response({"errors": errors}, status_code=status, headers=headers)
    if request.headers.get("hx-request"):
        text = " ".join(errors.values())
        return Response(text, status_code=status, media_type=MediaType.HTML, headers=headers)
    response = page("error.html", status_code=status, errors=errors, status=status, request_id=request_id(request.scope))
    if headers:
        response.headers.update(headers)
    return response


def _text(request: Request, status: int) -> str:
    return message(_TEXTS[status], api_lang(request) if is_api(request) else lang_of(request))


def not_found(request: Request, exc: HTTPException) -> Response:
    """An unknown address, or something the address names that is not there."""
    errors = {"page": _text(request, 404)}
    if is_api(request):
        return Response({"errors": errors, "detail": exc.detail}, status_code=404)
    return error_answer(request, 404, errors)


def not_allowed(request: Request, exc: HTTPException) -> Response:
    """A method the address does not take; the Allow header says which it does."""
    return error_answer(request, 405, {"method": _text(request, 405)}, headers=dict(exc.headers or {}))


def server_error(request: Request, exc: Exception) -> Response:
    """Anything unhandled: logged with its traceback, route and request id; the answer shows the id."""
    rid = request_id(request.scope)
    route = request.scope.get("path_template") or request.url.path
    trace = redact("".join(traceback.format_exception(exc)))
    logger.error("unhandled error in %s %s id=%s\n%s", request.method, redact(str(route)), rid, trace)
    errors = {"server": _text(request, 500)}
    if is_api(request):
        return Response({"errors": errors, "request_id": rid}, status_code=500)
    return error_answer(request, 500, errors)
