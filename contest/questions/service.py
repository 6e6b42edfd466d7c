"""The question bank."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from contest.questions.tables import Option, Question, Topic

DEMO_BANK = Path(__file__).parent / "demo_questions.json"


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


async def ensure_topics(topics: dict[str, str]) -> dict[str, int]:
    """Create missing topics (slug -> name); return slug -> id."""
    for slug, name in topics.items():
        await Topic.raw(
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
            rows = await Question.insert(
                Question(
                    topic=topic_ids[item["topic"]],
                    text=_nfc(item["text"]),
                    explanation=_nfc(item.get("explanation", "")),
                )
            ).returning(Question.id)
            qid = rows[0]["id"]
            await Option.insert(
                *[
                    Option(question=qid, position=i, text=_nfc(text), is_correct=(i == item["correct"]))
                    for i, text in enumerate(item["options"])
                ]
            )
    return len(items)


def demo_bank() -> list[dict]:
    """The demo questions shipped with the code."""
    return json.loads(DEMO_BANK.read_text(encoding="utf-8"))


async def count_questions() -> int:
    return await Question.count()
