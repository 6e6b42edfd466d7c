"""The question bank."""

from __future__ import annotations

import json
from pathlib import Path

from contest import clock
from contest.questions.tables import Option, Question, Topic
from contest.questions.text import fold, nfc

DEMO_BANK = Path(__file__).parent / "demo_questions.json"


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


async def count_questions() -> int:
    return await Question.count()
