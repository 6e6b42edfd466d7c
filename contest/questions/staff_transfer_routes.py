"""Staff pages: /questions/transfer, importing and exporting the question bank (xlsx, CSV, zip with images)."""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Response, Template

from contest import xlsx
from contest.i18n import message
from contest.questions import export, jobs, transfer
from contest.questions import service as questions
from contest.staff.guards import require
from contest.staff.signin import StaffUser
from contest.web import lang_of, page

Multipart = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]
Form = Annotated[dict[str, str], Body(media_type=RequestEncodingType.URL_ENCODED)]


def _attachment(data: bytes, filename: str, media_type: str) -> Response:
    return Response(data, media_type=media_type, headers={"content-disposition": f'attachment; filename="{filename}"'})


class QuestionTransferController(Controller):
    path = "/questions/transfer"
    guards = [require("organiser")]

    @get("/", name="question_transfer")
    async def index(self) -> Template:
        return page("questions/transfer/index.html", topics=await questions.topics(), errors={})

    @post("/check", request_max_body_size=transfer.MAX_BYTES * 2)
    async def check(self, request: Request, data: Multipart, staff: StaffUser) -> Template:
        """Upload: a dry run by default; a big file goes to a worker and the page polls its progress."""
        staff_id = staff.id
        upload = data.get("file")
        dry_run = data.get("dry_run") in ("1", "on", "true")
        if not isinstance(upload, UploadFile):
            topics = await questions.topics()
            errors = {"file": message("import_upload_missing", lang_of(request))}
            return page("questions/transfer/index.html", status_code=422, topics=topics, errors=errors)
        content = await upload.read()
        name = upload.filename or ""
        if len(content) > jobs.BACKGROUND_BYTES and len(content) <= transfer.MAX_BYTES:
            token = await jobs.stash_upload(content, name, staff_id)
            await jobs.queue_import(token, staff_id, dry_run)
            return page(
                "questions/transfer/started.html", token=token, filename=name, state=await jobs.import_progress(token, staff_id)
            )
        report = await transfer.import_questions(content, name, dry_run=dry_run, staff_id=staff_id)
        token = await jobs.stash_upload(content, name, staff_id) if report.ok and dry_run else ""
        return page(
            "questions/transfer/report.html",
            status_code=200 if report.ok else 422,
            report=report.as_dict(lang_of(request)),
            filename=name,
            token=token,
        )

    @post("/confirm")
    async def confirm(self, request: Request, data: Form, staff: StaffUser) -> Template:
        """Import a file checked a moment ago (kept for an hour), all or nothing."""
        staff_id = staff.id
        token = data.get("token", "")
        stored = await jobs.load_upload(token, staff_id)
        if stored is None:
            report = {
                "ok": False,
                "rows": 0,
                "imported": 0,
                "dry_run": False,
                "lines": [message("import_upload_expired", lang_of(request))],
            }
            return page("questions/transfer/report.html", status_code=422, report=report, filename="", token="")
        content, name = stored
        if len(content) > jobs.BACKGROUND_BYTES:
            await jobs.queue_import(token, staff_id, dry_run=False)
            return page(
                "questions/transfer/started.html", token=token, filename=name, state=await jobs.import_progress(token, staff_id)
            )
        outcome = await transfer.import_questions(content, name, dry_run=False, staff_id=staff_id)
        if outcome.ok:
            await jobs.drop_upload(token)
        return page(
            "questions/transfer/report.html",
            status_code=200 if outcome.ok else 422,
            report=outcome.as_dict(lang_of(request)),
            filename=name,
            token="",
        )

    @get("/progress/{token:str}")
    async def progress(self, token: str, staff: StaffUser) -> Template:
        """The progress bar fragment, polled every second until the worker is done."""
        state = await jobs.import_progress(token, staff.id)
        return page("questions/transfer/_progress.html", token=token, state=state)

    @get("/export")
    async def export(self, staff: StaffUser, format: str = "xlsx", topic: str | None = None) -> Response:
        fmt = format if format in ("csv", "zip") else "xlsx"
        data = await export.export_file(fmt, topic or None, staff_id=staff.id)
        suffix = "-" + re.sub(r"[^\w-]", "", topic) if topic else ""
        name = f"cau-hoi{suffix}.{fmt}"
        media = {"csv": "text/csv; charset=utf-8", "zip": "application/zip"}.get(fmt, xlsx.MEDIA_TYPE)
        return _attachment(data, name, media)

    @get("/template")
    async def template(self) -> Response:
        return _attachment(export.template_file(), "mau-nhap-cau-hoi.xlsx", xlsx.MEDIA_TYPE)
