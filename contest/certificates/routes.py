"""Public certificate pages: /verify/<code> (what the QR code opens) and a holder's downloads by code.

The code (80 random bits) is the certificate's capability: it is printed on the certificate and known to its
holder, so whoever has it may see the verification page (shortened name) and download the files.
"""

from __future__ import annotations

from urllib.parse import quote

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.response import File, Redirect, Template

from contest.certificates import design, files, jobs, service
from contest.people.phone import short_name
from contest.ratelimit import limit
from contest.web import page


async def _valid(code: str) -> tuple[dict, dict]:
    cert = await service.by_code(code)
    if cert is None or cert["revoked_at"] is not None:
        raise NotFoundException()
    return cert, await design.design_of(cert["contest"])


class CertificateController(Controller):
    path = ""

    @get("/verify", name="verify_form")
    async def verify_form(self, code: str = "") -> Template | Redirect:
        """A field to type the code printed on a certificate; the form sends it to the verification page."""
        typed = code.strip()[:40]
        if typed:
            return Redirect(path=f"/verify/{quote(typed, safe='')}")
        return page("certificates/verify.html", cert=None, code="", asking=True)

    @get("/verify/{code:str}", name="verify", middleware=[limit("verify")])
    async def verify(self, code: str) -> Template:
        cert = await service.by_code(code)
        if cert is None:
            return page("certificates/verify.html", status_code=404, cert=None, code=code[:40])
        shown = cert["holder"] if cert["kind"] == "collective" else short_name(cert["holder"])
        issuer = (await design.design_of(cert["contest"]))["issuer"]
        return page("certificates/verify.html", cert=cert, holder=shown, code=cert["code"], issuer=issuer)

    @get("/certificates/{code:str}/files", name="certificate_files")
    async def status(self, code: str) -> Template:
        """The htmx fragment with the download links, polling until a worker has rendered them."""
        cert, values = await _valid(code)
        ready = {fmt: files.cached(cert, values, fmt) is not None for fmt in files.FORMATS}
        if not all(ready.values()):
            await jobs.queue_render(cert["code"], files.render_key(values))
        return page("certificates/_files.html", cert=cert, ready=all(ready.values()))

    @get("/certificates/{code:str}/{fmt:str}", name="certificate_file")
    async def download(self, request: Request, code: str, fmt: str) -> File:
        fmt = "jpg" if fmt == "png" else fmt  # the phone picture was a PNG: links already shared keep working
        if fmt not in files.FORMATS:
            raise NotFoundException()
        cert, values = await _valid(code)
        path = files.cached(cert, values, fmt)
        if path is None:
            await jobs.queue_render(cert["code"], files.render_key(values))
            raise NotFoundException()
        name = f"giay-chung-nhan-{cert['code']}.{fmt}"
        if request.query_params.get("view"):
            return File(path=path, filename=name, media_type=files.MEDIA_TYPES[fmt], content_disposition_type="inline")
        return File(path=path, filename=name, media_type=files.MEDIA_TYPES[fmt])
