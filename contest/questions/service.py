"""The question bank."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from contest import clock, db
from contest.i18n import InputError
from contest.questions.tables import DIFFICULTIES, Option, Question, Topic
from contest.staff.audit import audit
from contest.text import fold, nfc, same_key

DEMO_BANK = Path(__file__).parent / "demo_questions.json"


async def ensure_topics(topics: dict[str, str]) -> dict[str, int]:
    """Create missing topics (slug -> name); return slug -> id."""
    for slug, name in topics.items():
        await db.raw(
            "INSERT INTO topic (slug, name) VALUES ({}, {}) ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name",
            slug,
            name,
        )
    rows = await Topic.select(Topic.id, Topic.slug)
    return {r["slug"]: r["id"] for r in rows}


async def add_questions(items: list[dict], topic_ids: dict[str, int]) -> int:
    """Add questions ({topic, text, options, correct, explanation}) with their options, in one transaction."""
    async with Question._meta.db.transaction():
        for item in items:
            now = clock.now()
            rows = await Question.insert(
                Question(
                    topic=topic_ids[item["topic"]],
                    text=nfc(item["text"]),
                    explanation=nfc(item.get("explanation", "")),
                    difficulty=item.get("difficulty", 2),
                    tags=item.get("tags", []),
                    normalized=fold(item["text"]),
                    created_at=now,
                    updated_at=now,
                )
            ).returning(Question.id)
            qid = rows[0]["id"]
            await Option.insert(
                *[
                    Option(question=qid, position=i, text=nfc(text), is_correct=(i == item["correct"]))
                    for i, text in enumerate(item["options"])
                ]
            )
    return len(items)


def demo_bank() -> list[dict]:
    """The demo questions shipped with the code."""
    return json.loads(DEMO_BANK.read_text(encoding="utf-8"))


# --- The bank as staff edit it: search, create, edit (versioned once used), copy, retire. ---

PAGE_SIZE = 50
MIN_OPTIONS, MAX_OPTIONS = 2, 6
MAX_TEXT, MAX_OPTION, MAX_EXPLANATION = 2000, 500, 4000
MAX_TAGS, MAX_TAG = 10, 40
# Appended to a copy's text, so the copy never clashes with its original.
COPY_MARK = "(bản sao)"
_LIMITS = {
    "min_options": MIN_OPTIONS,
    "max_options": MAX_OPTIONS,
    "max_text": MAX_TEXT,
    "max_option": MAX_OPTION,
    "max_explanation": MAX_EXPLANATION,
    "max_tags": MAX_TAGS,
    "max_tag": MAX_TAG,
}


@dataclass
class QuestionDraft:
    """A question as typed in the form: options in order, `correct` holds positions in `options`."""

    topic: int | None
    text: str
    options: list[str]
    correct: list[int]
    explanation: str = ""
    difficulty: int | None = 2
    tags: list[str] = field(default_factory=list)
    active: bool = True
    image: str | None = None


@dataclass
class QuestionPage:
    rows: list[dict]
    total: int
    page: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // PAGE_SIZE))


def repeated(options: list[str]) -> tuple[int, int] | None:
    """The positions of the first two options that are the same text (see text.same_key), if any."""
    seen: dict[str, int] = {}
    for i, option in enumerate(options):
        earlier = seen.setdefault(same_key(option), i)
        if earlier != i:
            return earlier, i
    return None


def parse_tags(raw: str) -> list[str]:
    """ "AI, an toàn ,AI" -> ["AI", "an toàn"]: trimmed, NFC, without repeats."""
    tags: list[str] = []
    for part in (raw or "").split(","):
        tag = nfc(part)
        if tag and tag not in tags:
            tags.append(tag)
    return tags


async def topics() -> list[dict]:
    """Every topic (id, slug, name), by name."""
    return await Topic.select(Topic.id, Topic.slug, Topic.name).order_by(Topic.name)


async def duplicate_of(text: str, exclude: int | None = None) -> int | None:
    """The id of an active question with the same text (see text.same_key), other than `exclude`, if any."""
    rows = await db.raw(
        "SELECT id, text FROM question WHERE active AND normalized = {} AND id <> coalesce({}::int, 0) ORDER BY id",
        fold(text),
        exclude,
    )
    key = same_key(text)
    return next((int(r["id"]) for r in rows if same_key(r["text"]) == key), None)


async def duplicates_among(texts: list[str]) -> dict[str, int]:
    """For an import: same_key of a text -> id of the first active question that has the same text."""
    folded = sorted({fold(t) for t in texts if t})
    if not folded:
        return {}
    # The folded column narrows by index; the exact comparison keeps tone marks and punctuation apart.
    rows = await db.raw("SELECT id, text FROM question WHERE active AND normalized = ANY({}) ORDER BY id DESC", folded)
    return {same_key(r["text"]): int(r["id"]) for r in rows}


async def check_draft(draft: QuestionDraft, exclude: int | None = None) -> QuestionDraft:
    """The draft cleaned (NFC, trimmed); InputError naming every problem at once, nothing written."""
    clean = QuestionDraft(
        topic=draft.topic,
        text=nfc(draft.text),
        options=[nfc(o) for o in draft.options],
        correct=sorted(set(draft.correct)),
        explanation=nfc(draft.explanation),
        difficulty=draft.difficulty,
        tags=[nfc(t) for t in draft.tags],
        active=draft.active,
        image=draft.image,
    )
    errors: dict[str, str] = {}
    params: dict[str, object] = dict(_LIMITS)
    if clean.topic is None or not await Topic.exists().where(Topic.id == clean.topic):
        errors["topic"] = "question_topic_invalid"
    if not fold(clean.text) or len(clean.text) > MAX_TEXT:
        errors["text"] = "question_text_required"
    if clean.difficulty not in DIFFICULTIES:
        errors["difficulty"] = "question_difficulty_invalid"
    if (
        not MIN_OPTIONS <= len(clean.options) <= MAX_OPTIONS
        or any(not o for o in clean.options)
        or any(len(o) > MAX_OPTION for o in clean.options)
    ):
        errors["options"] = "question_options_count"
    elif clash := repeated(clean.options):
        errors["options"] = "question_options_distinct"
        params["first"], params["second"] = (clean.options[i] for i in clash)
    if not clean.correct or any(not 0 <= c < len(clean.options) for c in clean.correct):
        errors["correct"] = "question_correct_required"
    if len(clean.explanation) > MAX_EXPLANATION:
        errors["explanation"] = "question_explanation_too_long"
    if len(clean.tags) > MAX_TAGS or any(len(t) > MAX_TAG for t in clean.tags):
        errors["tags"] = "question_tags_invalid"
    if "text" not in errors and clean.active:
        existing = await duplicate_of(clean.text, exclude)
        if existing is not None:
            errors["text"] = "question_duplicate"
            params["existing"] = existing
    if errors:
        raise InputError(errors, **params)
    return clean


_SEARCH_WHERE = (
    "WHERE ({} = '' OR q.normalized LIKE '%' || {} || '%') AND ({}::int IS NULL OR q.topic = {}) "
    "AND ({}::int IS NULL OR q.difficulty = {}) AND ({}::text IS NULL OR {} = ANY(q.tags)) "
    "AND ({}::bool IS NULL OR q.active = {})"
)


async def search_questions(
    query: str = "",
    topic: int | None = None,
    difficulty: int | None = None,
    tag: str | None = None,
    active: bool | None = None,
    page: int = 1,
) -> QuestionPage:
    """Newest first, PAGE_SIZE a page; the query matches without accents ("cong dan so" finds "Công dân số")."""
    page = max(1, page)
    folded = fold(query).replace("_", "\\_")  # fold() leaves no other LIKE wildcard
    args = (folded, folded, topic, topic, difficulty, difficulty, tag or None, tag or None, active, active)
    rows = await db.raw(
        "SELECT q.id, q.text, q.difficulty, q.active, q.tags, q.image, q.replaced_by, t.name AS topic_name, "
        "(SELECT count(*) FROM option o WHERE o.question = q.id) AS option_count, count(*) OVER () AS total "
        "FROM question q JOIN topic t ON t.id = q.topic " + _SEARCH_WHERE + " ORDER BY q.id DESC LIMIT {} OFFSET {}",
        *args,
        PAGE_SIZE,
        (page - 1) * PAGE_SIZE,
    )
    total = int(rows[0]["total"]) if rows else 0
    if not rows and page > 1:  # past the last page: still say how many there are
        total = int((await db.raw("SELECT count(*) AS n FROM question q " + _SEARCH_WHERE, *args))[0]["n"])
    return QuestionPage(rows, total, page)


async def all_tags() -> list[str]:
    """Every tag in use, for the filter."""
    rows = await db.raw("SELECT DISTINCT unnest(tags) AS tag FROM question ORDER BY 1")
    return [r["tag"] for r in rows]


async def question_detail(question_id: int) -> dict:
    """A question with its options and answer key (staff only), its topic and its versions."""
    rows = await db.raw(
        "SELECT q.*, t.name AS topic_name FROM question q JOIN topic t ON t.id = q.topic WHERE q.id = {}", question_id
    )
    if not rows:
        raise InputError({"question": "question_not_found"})
    question = dict(rows[0])
    question["options"] = await Option.select().where(Option.question == question_id).order_by(Option.position)
    question["older"] = [r["id"] for r in await Question.select(Question.id).where(Question.replaced_by == question_id)]
    return question


def draft_of(question: dict) -> QuestionDraft:
    """The form's starting point for an existing question."""
    return QuestionDraft(
        topic=question["topic"],
        text=question["text"],
        options=[o["text"] for o in question["options"]],
        correct=[i for i, o in enumerate(question["options"]) if o["is_correct"]],
        explanation=question["explanation"],
        difficulty=question["difficulty"],
        tags=list(question["tags"] or []),
        active=question["active"],
        image=question["image"],
    )


async def _lock_text(text: str) -> None:
    # Two organisers saving the same text at once must not both pass the duplicate check.
    await db.raw("SELECT pg_advisory_xact_lock(hashtext({}))", "question:" + fold(text))


async def _insert(draft: QuestionDraft) -> int:
    now = clock.now()
    rows = await Question.insert(
        Question(
            topic=draft.topic,
            text=draft.text,
            explanation=draft.explanation,
            difficulty=draft.difficulty,
            tags=draft.tags,
            image=draft.image,
            active=draft.active,
            normalized=fold(draft.text),
            created_at=now,
            updated_at=now,
        )
    ).returning(Question.id)
    qid = int(rows[0]["id"])
    await Option.insert(
        *[Option(question=qid, position=i, text=t, is_correct=i in draft.correct) for i, t in enumerate(draft.options)]
    )
    return qid


async def create_question(draft: QuestionDraft, actor: int | None) -> int:
    """Add a question after checking it (duplicates included); audited."""
    async with Question._meta.db.transaction():
        await _lock_text(draft.text)
        clean = await check_draft(draft)
        qid = await _insert(clean)
        await audit(actor, "question.create", f"question:{qid}", text=clean.text[:100])
    return qid


async def _ever_drawn(question_id: int) -> bool:
    rows = await db.raw("SELECT 1 FROM attempt_item WHERE question = {} LIMIT 1", question_id)
    return bool(rows)


async def update_question(question_id: int, draft: QuestionDraft, actor: int | None) -> int:
    """Save an edit (see save_edit); returns the id that now holds it."""
    async with Question._meta.db.transaction():
        await lock_for_edit([question_id])
        await _lock_text(draft.text)
        clean = await check_draft(draft, exclude=question_id)
        return await save_edit(question_id, clean, actor)


async def lock_for_edit(question_ids: list[int]) -> None:
    """Lock questions about to be edited; InputError if one is gone or has a newer version. Inside a transaction."""
    # FOR UPDATE waits for starts that are drawing these questions (their insert locks the row) and holds off new ones.
    rows = await db.raw(
        "SELECT id, replaced_by FROM question WHERE id = ANY({}) ORDER BY id FOR UPDATE", sorted(set(question_ids))
    )
    if len(rows) < len(set(question_ids)):
        raise InputError({"question": "question_not_found"})
    for row in rows:
        if row["replaced_by"] is not None:
            raise InputError({"question": "question_replaced"}, newer=row["replaced_by"])


async def save_edit(question_id: int, clean: QuestionDraft, actor: int | None, **detail: object) -> int:
    """Write a checked edit of a locked question; returns the id that now holds it.

    A question already drawn into an attempt is never changed: the edit becomes a new question and the
    old one is retired with `replaced_by`, so every attempt keeps the wording and key it was given.
    """
    if await _ever_drawn(question_id):
        new_id = await _insert(clean)
        await Question.update({Question.active: False, Question.replaced_by: new_id, Question.updated_at: clock.now()}).where(
            Question.id == question_id
        )
        await audit(actor, "question.edit", f"question:{question_id}", new_version=new_id, **detail)
        return new_id
    await Question.update(
        {
            Question.topic: clean.topic,
            Question.text: clean.text,
            Question.explanation: clean.explanation,
            Question.difficulty: clean.difficulty,
            Question.tags: clean.tags,
            Question.image: clean.image,
            Question.active: clean.active,
            Question.normalized: fold(clean.text),
            Question.updated_at: clock.now(),
        }
    ).where(Question.id == question_id)
    # Options keep their ids by position, so an option id always belongs to its question.
    old = {o["position"]: o["id"] for o in await Option.select(Option.id, Option.position).where(Option.question == question_id)}
    for i, text in enumerate(clean.options):
        if i in old:
            await Option.update({Option.text: text, Option.is_correct: i in clean.correct}).where(Option.id == old[i])
        else:
            await Option.insert(Option(question=question_id, position=i, text=text, is_correct=i in clean.correct))
    await Option.delete().where((Option.question == question_id) & (Option.position >= len(clean.options)))
    await audit(actor, "question.edit", f"question:{question_id}", **detail)
    return question_id


async def copy_question(question_id: int, actor: int | None) -> int:
    """A copy marked "(bản sao)", inactive until someone edits and activates it; audited."""
    draft = draft_of(await question_detail(question_id))
    draft.text = f"{draft.text} {COPY_MARK}"[:MAX_TEXT]
    draft.active = False
    async with Question._meta.db.transaction():
        clean = await check_draft(draft)
        qid = await _insert(clean)
        await audit(actor, "question.copy", f"question:{qid}", source=question_id)
    return qid


async def set_active(question_id: int, active: bool, actor: int | None) -> None:
    """Retire a question (no longer drawn) or bring it back (checked for duplicates again); audited."""
    async with Question._meta.db.transaction():
        question = await question_detail(question_id)
        if active:
            if question["replaced_by"] is not None:
                raise InputError({"question": "question_replaced"}, newer=question["replaced_by"])
            await _lock_text(question["text"])
            existing = await duplicate_of(question["text"], exclude=question_id)
            if existing is not None:
                raise InputError({"text": "question_duplicate"}, existing=existing)
        await Question.update({Question.active: active, Question.updated_at: clock.now()}).where(Question.id == question_id)
        await audit(actor, "question.restore" if active else "question.retire", f"question:{question_id}")
