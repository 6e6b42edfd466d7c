"""Checking an imported file's rows against the bank: each row a question or its problems, and for a row with an id,
whether it changes the question it names (new / changed / unchanged)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from contest import db
from contest.i18n import DEFAULT, InputError, message
from contest.questions.service import duplicates_among, repeated
from contest.questions.tables import DIFFICULTIES, Topic
from contest.questions.transfer_read import LABELS, LETTERS, MAX_OPTIONS, Row, Sheet
from contest.text import fold, same_key
from contest.uploads import PreparedImage, prepare_image

MIN_OPTIONS = 2
MAX_TEXT = 2000
MAX_TAG = 40  # Question.tags is varchar(40)[]
CHUNK = 1000  # rows per progress report (and per INSERT)
_YES = {"co", "c", "x", "1", "true", "yes", "y", "dang dung"}
_NO = {"khong", "k", "0", "false", "no", "n", "ngung"}
# What a changed row changes, as the dry run names it (message codes).
FIELDS = ("topic", "difficulty", "text", "options", "correct", "explanation", "tags", "active", "image")

Progress = Callable[[str, int, int], None]  # phase ("read" | "write"), done, total


@dataclass
class RowError:
    row: int
    code: str
    params: dict[str, Any] = field(default_factory=dict)

    def text(self, lang: str = DEFAULT) -> str:
        return message("import_row", lang, row=self.row, error=message(self.code, lang, **self.params))


@dataclass
class Item:
    row: int
    topic: int
    text: str
    normalized: str
    options: list[str]
    correct: set[int]
    explanation: str
    difficulty: int
    tags: list[str]
    active: bool
    id: int | None = None  # the question a row of an export stands for
    image: str | None = None  # the image's file name once stored
    upload: PreparedImage | None = None  # an image from the zip, stored when the import is written
    changes: list[str] = field(default_factory=list)  # FIELDS this row changes of question `id`


@dataclass
class Checked:
    """A file's rows sorted: new questions, changed ones, how many are unchanged, and every problem."""

    new: list[Item] = field(default_factory=list)
    changed: list[Item] = field(default_factory=list)
    unchanged: int = 0
    errors: list[RowError] = field(default_factory=list)


def _letters(value: str) -> list[str] | None:
    parts = [p.strip().upper() for p in re.split(r"[,;/\s]+", value) if p.strip()]
    return parts if all(len(p) == 1 and p in LETTERS for p in parts) else None


def _check(row: Row, topics: dict[str, int]) -> Item | list[RowError]:
    """One row as a question, or every problem it has."""
    errors: list[RowError] = []

    def bad(code: str, **params: Any) -> None:
        errors.append(RowError(row.number, code, params))

    for key in row.formulas:
        bad("import_formula", column=LABELS.get(key, key))
    if row.formulas:
        return errors
    if row.stray:
        bad("import_cell_outside")
    c = row.cells
    topic = c.get("topic", "")
    topic_id = topics.get(topic.lower()) or topics.get(fold(topic))
    if not topic:
        bad("import_topic_missing")
    elif topic_id is None:
        bad("import_topic_unknown", value=topic)
    difficulty = 2
    if c.get("difficulty"):
        difficulty = int(c["difficulty"]) if c["difficulty"].isascii() and c["difficulty"].isdigit() else 0
        if difficulty not in DIFFICULTIES:
            bad("import_difficulty_invalid", value=c["difficulty"])
    text = c.get("text", "")
    if not text:
        bad("import_text_missing")
    elif len(text) > MAX_TEXT:
        bad("import_text_too_long", max=MAX_TEXT)
    filled = sorted((k[-1].upper(), v) for k, v in c.items() if k.startswith("option_") and v)
    letters = [letter for letter, _ in filled]
    options = [v for _, v in filled]
    if any(letter >= LETTERS[MAX_OPTIONS] for letter in letters):
        bad("import_options_too_many", max=MAX_OPTIONS)
    elif len(options) < MIN_OPTIONS:
        bad("import_options_too_few", min=MIN_OPTIONS)
    elif letters != list(LETTERS[: len(letters)]):
        gap = next(x for x, y in zip(LETTERS, letters, strict=False) if x != y)
        bad("import_option_gap", letter=gap)
    if clash := repeated(options):
        one, two = clash
        bad("import_option_repeated", letter=letters[two], text=options[two], other=letters[one], other_text=options[one])
    correct: set[int] = set()
    chosen = _letters(c.get("correct", ""))
    if not c.get("correct"):
        bad("import_correct_missing")
    elif chosen is None:
        bad("import_correct_invalid", value=c["correct"])
    else:
        for letter in chosen:
            if letter not in letters:
                bad("import_correct_not_option", letter=letter)
            else:
                correct.add(letters.index(letter))
    tags: list[str] = []
    for tag in (t.strip() for t in c.get("tags", "").split(",")):
        if tag and tag not in tags:
            tags.append(tag)
            if len(tag) > MAX_TAG:
                bad("import_tag_too_long", tag=tag[:20], max=MAX_TAG)
    active = True
    if c.get("active"):
        word = fold(c["active"])
        if word not in _YES | _NO:
            bad("import_active_invalid", value=c["active"])
        active = word in _YES
    qid = None
    if c.get("id"):
        qid = int(c["id"]) if c["id"].isascii() and c["id"].isdigit() and len(c["id"]) < 10 else None
        if qid is None:
            bad("import_id_unknown", value=c["id"])
    if errors:
        return errors
    assert topic_id is not None
    explanation = c.get("explanation", "")
    item = Item(row.number, topic_id, text, fold(text), options, correct, explanation, difficulty, tags, active, qid)
    item.image = c.get("image") or None  # the cell, until _image reads it
    return item


async def topic_lookup() -> dict[str, int]:
    """Slug (lower-case) and folded Vietnamese name -> topic id: a file may name a topic either way."""
    rows = await Topic.select(Topic.id, Topic.slug, Topic.name)
    return {r["slug"].lower(): r["id"] for r in rows} | {fold(r["name"]): r["id"] for r in rows}


async def current_questions(ids: list[int]) -> dict[int, dict[str, Any]]:
    """The questions an import's rows name, with their options and key, as a row would state them."""
    rows = await db.raw(
        """SELECT q.id, q.topic, q.text, q.explanation, q.active, q.difficulty, q.tags, q.image, q.replaced_by,
                  array_agg(o.text ORDER BY o.position) AS options, array_agg(o.is_correct ORDER BY o.position) AS keys
           FROM question q JOIN option o ON o.question = q.id WHERE q.id = ANY({}) GROUP BY q.id""",
        sorted(set(ids)),
    )
    return {r["id"]: r for r in rows}


def _changes(item: Item, old: dict[str, Any]) -> list[str]:
    now = {
        "topic": item.topic,
        "difficulty": item.difficulty,
        "text": item.text,
        "options": item.options,
        "correct": item.correct,
        "explanation": item.explanation,
        "tags": item.tags,
        "active": item.active,
        "image": item.image,
    }
    before = dict(old, options=list(old["options"]), tags=list(old["tags"] or []))
    before["correct"] = {i for i, k in enumerate(old["keys"]) if k}
    return [name for name in FIELDS if now[name] != before[name]]


def _image(item: Item, old: dict[str, Any] | None, images: dict[str, bytes]) -> RowError | None:
    """The row's image: kept when it names the question's own, else read (and checked) from the zip."""
    cell = item.image
    if not cell or (old is not None and cell == old["image"]):
        return None
    if cell not in images:
        return RowError(item.row, "import_image_missing", {"name": cell})
    try:
        item.upload = prepare_image(images[cell])
    except InputError as exc:
        return RowError(item.row, "import_image_invalid", {"name": cell, "error": exc.messages()["image"]})
    item.image = item.upload.name
    return None


async def check_rows(sheet: Sheet, progress: Progress | None = None) -> Checked:
    """Every row checked against the bank: new, changed and unchanged questions, or every problem of every row."""
    topics = await topic_lookup()
    out = Checked()
    items: list[Item] = []
    first_row: dict[str, int] = {}
    for i, row in enumerate(sheet.rows, start=1):
        checked = _check(row, topics)
        if isinstance(checked, list):
            out.errors.extend(checked)
        elif (key := same_key(checked.text)) in first_row:
            out.errors.append(RowError(row.number, "import_duplicate_row", {"other": first_row[key]}))
        else:
            first_row[key] = row.number
            items.append(checked)
        if progress and i % CHUNK == 0:
            progress("read", i, len(sheet.rows))
    bank = await current_questions([it.id for it in items if it.id is not None])
    id_row: dict[int, int] = {}
    for item in items:
        old = bank.get(item.id) if item.id is not None else None
        if item.id is not None and old is None:
            out.errors.append(RowError(item.row, "import_id_unknown", {"value": item.id}))
        elif old is not None and old["replaced_by"] is not None:
            out.errors.append(RowError(item.row, "import_id_replaced", {"id": item.id, "newer": old["replaced_by"]}))
        elif item.id is not None and item.id in id_row:
            out.errors.append(RowError(item.row, "import_id_repeated", {"id": item.id, "other": id_row[item.id]}))
        elif problem := _image(item, old, sheet.images):
            out.errors.append(problem)
        elif old is None:
            out.new.append(item)
        elif changes := _changes(item, old):
            item.changes = changes
            out.changed.append(item)
        else:
            out.unchanged += 1
        if item.id is not None:
            id_row.setdefault(item.id, item.row)
    # An unchanged row is the question itself; a new or changed one must not repeat another active question.
    written = out.new + out.changed
    in_bank = await duplicates_among([item.text for item in written])
    for item in written:
        other = in_bank.get(same_key(item.text))
        if other is not None and other != item.id:
            out.errors.append(RowError(item.row, "import_duplicate_bank", {"id": other}))
    out.errors.sort(key=lambda e: e.row)
    return out
