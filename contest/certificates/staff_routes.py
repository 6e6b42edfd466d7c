"""Staff pages under /staff/certificates: the design editor with a live preview, awarding a round with a progress
bar, the round's certificates with revocation, and a round's zip built by a worker."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.response import File, Redirect, Template

from contest.certificates import bundles, design, files, jobs, render, service
from contest.certificates.tables import KINDS
from contest.contests.service import contest_row, contests, round_row, rounds_of
from contest.digits import is_digits, read_int
from contest.i18n import InputError
from contest.staff.guards import require
from contest.staff.signin import StaffUser
from contest.web import errors_of, page

Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
PAGE = 100
MAX_UPLOAD = 6 * 1024 * 1024
PREVIEW_DPI = 60


async def _design_page(contest_id: int, values: dict | None = None, errors: dict | None = None, status: int = 200) -> Template:
    contest = await contest_row(contest_id)
    rounds = await rounds_of(contest_id)
    for rnd in rounds:
        rnd["certificates"] = await service.counts_of_round(rnd["id"])
    saved = await design.design_of(contest_id)
    return page(
        "certificates/design.html",
        status_code=status,
        contest=contest,
        ready=design.ready(saved),
        loopback=files.loopback_address(),
        values=values or saved,
        rounds=rounds,
        errors=errors or {},
        samples=design.SAMPLE_NAMES,
        sorts=("people", "attempts", "average", "rate"),
    )


async def _round_page(request: Request, round_id: int, errors: dict | None = None, status: int = 200) -> Template:
    rnd = await round_row(round_id)
    params = request.query_params
    kind, commune = _kind(params.get("kind")), _commune(params.get("commune"))
    offset = read_int(params.get("from"), 0) or 0
    job_id = str(params.get("job") or "")
    if job_id and not jobs.well_formed(job_id):
        raise NotFoundException()
    values = await design.design_of(rnd["contest"])
    counts = await service.bundle_counts(round_id)
    # What each bundle will weigh, before anyone builds it (a sample rendered once per design and address).
    sizes = {k: await asyncio.to_thread(bundles.projected_bytes, values, n, communes) for k, (n, communes) in counts.items()}
    return page(
        "certificates/round.html",
        status_code=status,
        round=rnd,
        counts=await service.counts_of_round(round_id),
        bundles={k: {"count": counts[k][0], "communes": counts[k][1], **sizes[k]} for k in counts},
        ready=design.ready(values),
        loopback=files.loopback_address(),
        certificates=await service.of_round(round_id, kind, commune, PAGE, offset),
        kind=kind,
        commune=commune,
        offset=offset,
        page_size=PAGE,
        job=await asyncio.to_thread(jobs.job_state, job_id) if job_id else None,
        errors=errors or {},
    )


def _kind(raw: Any) -> str | None:
    return str(raw) if str(raw or "") in KINDS else None


def _commune(raw: Any) -> int | None:
    return read_int(raw)


class StaffCertificateController(Controller):
    path = "/certificates"
    guards = [require("organiser")]

    @get("/", name="staff_certificates")
    async def index(self) -> Template:
        return page("certificates/index.html", contests=await contests())

    @get("/contest/{contest_id:int}", name="staff_certificate_design")
    async def show_design(self, contest_id: int) -> Template:
        return await _design_page(contest_id)

    @post("/contest/{contest_id:int}/design", request_max_body_size=3 * MAX_UPLOAD)
    async def save_design(self, request: Request, contest_id: int, data: Multipart, staff: StaffUser) -> Template | Redirect:
        uploads: dict[str, bytes] = {}
        for role in design.IMAGES:
            upload = data.get(role)
            if isinstance(upload, UploadFile):
                uploads[role] = await upload.read()
        remove = {role for role in design.IMAGES if data.get(f"remove_{role}") in ("1", "on")}
        try:
            await design.save_design(staff, contest_id, data, uploads, remove)
        except InputError as exc:
            values = {**await design.design_of(contest_id), **design.parse_form(data)[0]}
            return await _design_page(contest_id, values, errors_of(request, exc), status=422)
        return Redirect(path=f"/staff/certificates/contest/{contest_id}?saved=1")

    @get("/contest/{contest_id:int}/preview", name="staff_certificate_preview_fragment")
    async def preview_fragment(self, request: Request, contest_id: int) -> Template:
        """The preview images for the editor's current (unsaved) wording: htmx swaps them in as the organiser types."""
        query = request.url.query or ""
        return page("certificates/_preview.html", contest_id=contest_id, query=query, samples=design.SAMPLE_NAMES)

    @get("/contest/{contest_id:int}/preview.png", name="staff_certificate_preview")
    async def preview(self, request: Request, contest_id: int) -> Response:
        """A small PNG of a sample certificate with the saved images and the wording as typed (nothing is stored)."""
        values = await design.design_of(contest_id)
        contest = await contest_row(contest_id)
        params = request.query_params
        typed, _ = design.parse_form(params)
        for name in design.TEXT_FIELDS:
            if name in params:
                values[name] = typed[name]
        kind = _kind(params.get("kind")) or "participation"
        name = str(params.get("name") or design.SAMPLE_NAMES[0])[:200]
        face = render.Face(
            kind=kind,
            code="0123456789abcdef0123",
            holder=name if kind != "collective" else "Phường Hồng Bàng",
            commune="Phường Hồng Bàng" if kind != "collective" else "",
            contest_title=contest["title"],
            round_title="Tuần 1",
            prize="Giải Nhất" if kind == "prize" else None,
            detail="",
            issued_on=date.today(),
            verify_url=files.verify_url("0123456789abcdef0123"),
        )
        data = await asyncio.to_thread(render.render_png, design.render_design(values, kind), face, PREVIEW_DPI)
        return Response(data, media_type="image/png", headers={"cache-control": "no-store"})

    @get("/contest/{contest_id:int}/image/{role:str}", name="staff_certificate_image")
    async def image(self, contest_id: int, role: str) -> File:
        values = await design.design_of(contest_id)
        if role not in design.IMAGES or not values.get(role):
            raise NotFoundException()
        path = design.images_dir() / values[role]
        if not path.exists():
            raise NotFoundException()
        return File(
            path=path, media_type="image/jpeg" if path.suffix == ".jpg" else "image/png", content_disposition_type="inline"
        )

    @post("/round/{round_id:int}/award")
    async def award(self, request: Request, round_id: int, staff: StaffUser) -> Template | Redirect:
        rnd = await round_row(round_id)
        if not design.ready(await design.design_of(rnd["contest"])):
            refused = InputError({"round": "cert_design_missing"})
            return await _round_page(request, round_id, errors_of(request, refused), status=422)
        job_id = await jobs.queue_award(round_id, staff.id)
        return Redirect(path=f"/staff/certificates/round/{round_id}?job={job_id}")

    @get("/round/{round_id:int}", name="staff_round_certificates")
    async def round_page(self, request: Request, round_id: int) -> Template:
        return await _round_page(request, round_id)

    @get("/jobs/{job_id:str}", name="staff_certificate_job")
    async def job(self, job_id: str) -> Template:
        state = await asyncio.to_thread(jobs.job_state, job_id)
        if state is None:
            raise NotFoundException()
        return page("certificates/_job.html", job=state)

    @post("/round/{round_id:int}/zip")
    async def zip(self, request: Request, round_id: int, staff: StaffUser) -> Redirect:
        await round_row(round_id)
        form = await request.form()
        kind, commune = _kind(form.get("kind")), _commune(form.get("commune"))
        layout = str(form.get("layout") or "files")
        job_id = await jobs.queue_zip(round_id, kind, commune, staff.id, layout if layout in bundles.LAYOUTS else "files")
        return Redirect(path=f"/staff/certificates/round/{round_id}?job={job_id}")

    @get("/zips/{name:str}", name="staff_certificate_zip")
    async def download_zip(self, name: str) -> File:
        path = files.zips_dir() / name
        ext = name.rsplit(".", 1)[-1]
        if "/" in name or ext not in ("zip", "pdf") or name.startswith(".") or not path.exists():
            raise NotFoundException()
        return File(path=path, filename=name, media_type=files.MEDIA_TYPES[ext])

    @post("/{code:str}/revoke")
    async def revoke(self, request: Request, code: str, staff: StaffUser) -> Template | Redirect:
        form = await request.form()
        back = (
            f"/staff/certificates/round/{form.get('round', '')}" if is_digits(form.get("round", "")) else "/staff/certificates/"
        )
        try:
            await service.revoke(staff, code, str(form.get("reason", "")))
        except InputError as exc:
            return page("error.html", status_code=422, errors=errors_of(request, exc), back=back)
        return Redirect(path=back)
