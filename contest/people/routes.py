from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import Redirect, Template

from contest.contests.look import look_of
from contest.contests.service import contest_by_slug
from contest.digits import is_digits, read_int
from contest.i18n import LANGUAGES, InputError
from contest.people import service, units
from contest.people.privacy import consent_version, retention_days
from contest.people.service import Registration
from contest.ratelimit import limit
from contest.shared import SHARED
from contest.web import LANG_COOKIE, errors_of, lang_of, page

Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]
LANG_MAX_AGE = 60 * 60 * 24 * 365  # a reader's language is kept across visits


class PeopleController(Controller):
    @get("/communes", name="communes", opt=SHARED)
    async def communes(self, province: str = "", contest: str = "") -> Template:
        """The commune options of a province; with a contest's slug, only the communes that contest admits."""
        # "– Chọn tỉnh/thành phố –" sends an empty province: an empty list, not a 400 page swapped into the select.
        if not (is_digits(province) and len(province) < 6):
            return page("people/_commune_options.html", communes=[])
        info = await contest_by_slug(contest) if contest else None
        if contest and info is None:
            raise NotFoundException()
        return page("people/_commune_options.html", communes=await service.communes_of(int(province), info.id if info else None))

    @get("/c/{slug:str}/register", name="register")
    async def register_form(self, slug: str) -> Template:
        contest = await contest_by_slug(slug)
        if contest is None:
            raise NotFoundException()
        return await _form(contest, {}, {})

    @post("/c/{slug:str}/register", middleware=[limit("register")])
    async def register(self, request: Request, slug: str, data: Form) -> Template | Redirect:
        contest = await contest_by_slug(slug)
        if contest is None:
            raise NotFoundException()
        reg = Registration(
            full_name=data.get("full_name", ""),
            phone=data.get("phone", ""),
            birth_year=data.get("birth_year", ""),
            province=data.get("province", ""),
            commune=data.get("commune", ""),
            group=data.get("group", ""),
            unit=data.get("unit", ""),
            consent=data.get("consent") == "yes",
            consent_version=data.get("consent_version"),
        )
        try:
            contestant_id = await service.register(contest.id, reg, request.client.host if request.client else None)
        except InputError as exc:
            return await _form(contest, data, errors_of(request, exc), status_code=422)
        request.session["contestant"] = contestant_id
        return Redirect(path=f"/c/{slug}")

    @post("/c/{slug:str}/identify", middleware=[limit("login")])
    async def identify(self, request: Request, slug: str, data: Form) -> Template | Redirect:
        contest = await contest_by_slug(slug)
        if contest is None:
            raise NotFoundException()
        try:
            contestant_id = await service.identify(contest.id, data.get("phone", ""), data.get("birth_year", ""))
        except InputError as exc:
            return page("people/identify.html", status_code=422, contest=contest, values=data, errors=errors_of(request, exc))
        request.session["contestant"] = contestant_id
        return Redirect(path=f"/c/{slug}")

    @post("/leave", name="leave")
    async def leave(self, request: Request) -> Redirect:
        request.session.pop("contestant", None)
        return Redirect(path="/")

    @get("/privacy", name="privacy")
    async def privacy(self, request: Request, lang: str | None = None) -> Template:
        """What is done with contestants' personal data and their rights: in Vietnamese, or English on request."""
        chosen = lang if lang in LANGUAGES else lang_of(request)
        name = "people/privacy_en.html" if chosen == "en" else "people/privacy.html"
        return page(name, consent_version=consent_version(), retention_days=None, lang=chosen)

    @get("/lang/{code:str}", name="lang")
    async def set_lang(self, request: Request, code: str, next: str | None = None) -> Redirect:
        """Switch the pages' language and go back: kept in the session, and in a cookie of its own for staff pages
        (their session is apart from this one); without `next`, back to the page the switch was on."""
        target = next if next is not None else _same_site(request, request.headers.get("referer", ""))
        redirect = Redirect(path=target if target.startswith("/") and not target.startswith("//") else "/")
        if code in LANGUAGES:
            request.session["lang"] = code
            redirect.set_cookie(LANG_COOKIE, code, max_age=LANG_MAX_AGE, httponly=True, samesite="lax")
        return redirect


def _same_site(request: Request, url: str) -> str:
    """The path (and query) of a URL on this site, else the home page."""
    parts = urlsplit(url)
    if parts.netloc != request.url.netloc or not parts.path:
        return "/"
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def _form(contest, values: dict, errors: dict, status_code: int = 200) -> Template:  # type: ignore[no-untyped-def]
    # Only the places and groups the contest admits: nobody learns after submitting that they cannot enter.
    where: dict = {}
    if contest.units:  # its own units instead of places, grouped by the unit they are part of
        where["units"] = units.grouped(await units.units_of(contest.id))
    else:
        provinces = await service.provinces(contest.id)
        if not values.get("province") and len(provinces) == 1:
            values = {**values, "province": str(provinces[0]["code"])}  # one province to choose: skip a step
        code = read_int(values.get("province") or "")
        where["provinces"] = provinces
        where["communes"] = await service.communes_of(code, contest.id) if code is not None and code < 2**31 else []
    return page(
        "people/register.html",
        status_code=status_code,
        contest=contest,
        values=values,
        errors=errors,
        groups=service.admitted_groups(contest.groups),
        consent_version=consent_version(),
        retention_days=await retention_days(contest.id),
        look=await look_of(contest.slug),  # the theme's fingerprinted address, cached for a year
        **where,
    )
