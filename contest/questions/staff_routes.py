"""Staff pages: /questions, the question bank (search, create, edit, copy, retire). Organisers and admins."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.datastructures import UploadFile
from litestar.params import QueryParameter
from litestar.response import Redirect, Template

from contest.digits import read_int
from contest.i18n import InputError
from contest.questions import service
from contest.questions.service import MAX_OPTIONS, QuestionDraft
from contest.staff.guards import require
from contest.staff.signin import StaffUser
from contest.uploads import PreparedImage, prepare_image, store_image
from contest.web import errors_of, page

FIELDS = ("topic", "text", "difficulty", "options", "correct", "explanation", "tags", "image")


def _int(raw: Any) -> int | None:
    text = str(raw or "").strip()
    number = read_int(text.removeprefix("-"))
    return None if number is None else -number if text.startswith("-") else number


def _draft(form: Any, image: str | None = None) -> QuestionDraft:
    """The form as a draft: blank option rows are skipped, ticks follow their rows."""
    slots = [str(o) for o in form.getall("option", [])][:MAX_OPTIONS]
    ticked = {_int(c) for c in form.getall("correct", [])}
    options: list[str] = []
    correct: list[int] = []
    for slot, text in enumerate(slots):
        if text.strip():
            if slot in ticked:
                correct.append(len(options))
            options.append(text)
    return QuestionDraft(
        topic=_int(form.get("topic")),
        text=str(form.get("text") or ""),
        options=options,
        correct=correct,
        explanation=str(form.get("explanation") or ""),
        difficulty=_int(form.get("difficulty")),
        tags=service.parse_tags(str(form.get("tags") or "")),
        active=form.get("active") == "1",
        image=image,
    )


async def _upload(form: Any) -> bytes | None:
    value = form.get("image")
    if isinstance(value, UploadFile) and value.filename:
        data = await value.read()
        return data if data else None
    return None


async def _form_page(
    staff: StaffUser, draft: QuestionDraft, errors: dict[str, str], question: dict | None = None, status_code: int = 200
) -> Template:
    return page(
        "questions/bank/form.html",
        status_code=status_code,
        draft=draft,
        errors=errors,
        question=question,
        topics=await service.topics(),
        slots=MAX_OPTIONS,
        fields=FIELDS,
        user=staff,
    )


class QuestionBankController(Controller):
    path = "/questions"
    guards = [require("organiser")]

    @get("/", name="question_bank")
    async def index(
        self,
        request: Request,
        staff: StaffUser,
        q: str = "",
        topic: str = "",
        difficulty: str = "",
        tag: str = "",
        active: str = "",
        page_number: Annotated[int, QueryParameter(name="page", ge=1, le=100_000)] = 1,
    ) -> Template:
        filters = {"q": q, "topic": topic, "difficulty": difficulty, "tag": tag, "active": active}
        found = await service.search_questions(
            q,
            topic=_int(topic),
            difficulty=_int(difficulty),
            tag=tag.strip() or None,
            active={"1": True, "0": False}.get(active),
            page=page_number,
        )
        context: dict[str, Any] = {"found": found, "filters": filters}
        if request.headers.get("hx-target") == "results":
            return page("questions/bank/_results.html", **context)
        return page(
            "questions/bank/index.html",
            topics=await service.topics(),
            tags=await service.all_tags(),
            user=staff,
            **context,
        )

    @get("/new", name="question_new")
    async def new(self, staff: StaffUser) -> Template:
        return await _form_page(staff, QuestionDraft(topic=None, text="", options=[], correct=[]), {})

    @post("/validate", name="question_validate")
    async def validate(self, request: Request) -> Template:
        """Inline checks while the form is filled in (the image is checked on save)."""
        form = await request.form()
        try:
            await service.check_draft(_draft(form), exclude=_int(form.get("id")))
            errors: dict[str, str] = {}
        except InputError as exc:
            errors = errors_of(request, exc)
        return page("questions/bank/_checks.html", errors=errors, fields=FIELDS, oob=True, checked=True)

    @post("/", name="question_create")
    async def create(self, request: Request, staff: StaffUser) -> Template | Redirect:
        form = await request.form()
        draft = _draft(form)
        try:
            qid = await _save(request, staff, draft, await _upload(form), None)
        except InputError as exc:
            return await _form_page(staff, draft, errors_of(request, exc), status_code=422)
        return Redirect(path=f"/staff/questions/{qid}", status_code=303)

    @get("/{question_id:int}", name="question_detail")
    async def detail(self, question_id: int, staff: StaffUser) -> Template:
        return page("questions/bank/detail.html", q=await service.question_detail(question_id), user=staff)

    @get("/{question_id:int}/edit", name="question_edit")
    async def edit(self, question_id: int, staff: StaffUser) -> Template:
        question = await service.question_detail(question_id)
        return await _form_page(staff, service.draft_of(question), {}, question)

    @post("/{question_id:int}/edit", name="question_update")
    async def update(self, request: Request, question_id: int, staff: StaffUser) -> Template | Redirect:
        question = await service.question_detail(question_id)
        form = await request.form()
        draft = _draft(form, image=None if form.get("remove_image") == "1" else question["image"])
        try:
            qid = await _save(request, staff, draft, await _upload(form), question_id)
        except InputError as exc:
            return await _form_page(staff, draft, errors_of(request, exc), question, status_code=422)
        return Redirect(path=f"/staff/questions/{qid}", status_code=303)

    @post("/{question_id:int}/copy", name="question_copy")
    async def copy(self, question_id: int, staff: StaffUser) -> Redirect:
        qid = await service.copy_question(question_id, staff.id)
        return Redirect(path=f"/staff/questions/{qid}/edit", status_code=303)

    @post("/{question_id:int}/retire", name="question_retire")
    async def retire(self, question_id: int, staff: StaffUser) -> Redirect:
        await service.set_active(question_id, False, staff.id)
        return Redirect(path=f"/staff/questions/{question_id}", status_code=303)

    @post("/{question_id:int}/restore", name="question_restore")
    async def restore(self, question_id: int, staff: StaffUser) -> Redirect:
        await service.set_active(question_id, True, staff.id)
        return Redirect(path=f"/staff/questions/{question_id}", status_code=303)


async def _save(request: Request, staff: StaffUser, draft: QuestionDraft, upload: bytes | None, question_id: int | None) -> int:
    """Check the draft and the image together (every message at once), then store the image and save."""
    errors: dict[str, str] = {}
    image: PreparedImage | None = None
    if upload is not None:
        try:
            image = prepare_image(upload)
        except InputError as exc:
            errors.update(errors_of(request, exc))
    try:
        await service.check_draft(draft, exclude=question_id)
    except InputError as exc:
        errors = {**errors_of(request, exc), **errors}
    if errors:
        raise _Refused(errors)
    if image is not None:
        draft.image = store_image(image)
    if question_id is None:
        return await service.create_question(draft, staff.id)
    return await service.update_question(question_id, draft, staff.id)


class _Refused(InputError):
    """Messages already in the reader's language (from two checks merged)."""

    def __init__(self, texts: dict[str, str]) -> None:
        super().__init__(dict.fromkeys(texts, ""))
        self.texts = texts

    def messages(self, lang: str = "vi") -> dict[str, str]:
        return self.texts
