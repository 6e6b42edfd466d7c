from piccolo.columns import (
    Array,
    Boolean,
    ForeignKey,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.table import Table

DIFFICULTIES = (1, 2, 3)  # easy, medium, hard


class Topic(Table):
    id: Serial
    slug = Varchar(length=40, unique=True)
    name = Varchar(length=200)


class Question(Table):
    """A question as contestants saw it. Once drawn into an attempt it is never edited in place:
    an edit makes a new question and retires this one (`replaced_by`), so old attempts keep their
    wording and key."""

    id: Serial
    topic = ForeignKey(Topic, index=True)
    text = Text()
    explanation = Text(default="")
    active = Boolean(default=True)
    difficulty = SmallInt(default=2)
    tags = Array(base_column=Varchar(length=40), default=list)
    # File name under the media folder, of an image checked and downscaled on upload.
    image = Varchar(length=100, null=True, default=None)
    # Lower-case text without diacritics or punctuation: accent-insensitive search and duplicate checks.
    normalized = Text(default="", index=True)
    replaced_by = ForeignKey("self", null=True, default=None, on_delete=OnDelete.set_null)  # type: ignore[var-annotated]
    # Released for practice (ôn tập) at this time: its key becomes public, so contest draws never take it again.
    # Null: a contest question, whose key stays secret until the rounds that may draw it have closed.
    practice_since = Timestamptz(null=True, default=None)
    created_at = Timestamptz(null=True, default=None)
    updated_at = Timestamptz(null=True, default=None)


class Option(Table):
    id: Serial
    question = ForeignKey(Question, index=True)
    position = SmallInt()
    text = Text()
    # The answer key: read only by scoring, never sent to a browser before a round closes.
    # More than one option may be correct: contestants then tick every option they think right
    # (checkboxes), and the question scores only when the ticks are exactly the correct options.
    is_correct = Boolean(default=False)
