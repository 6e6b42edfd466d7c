"""The share card a contestant gets when they finish: a 1200×630 PNG for social media, in the contest's look.

Rendered with Pillow in Be Vietnam Pro (full Vietnamese coverage) from NFC text, and kept on disk under the
private storage folder (never /media: the card carries a name and a score, so only its owner may fetch it).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import fontpkg.pil
from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from contest import db
from contest.contests.look import SITE_PRIMARY, rgb
from contest.formatting import score
from contest.i18n import DEFAULT, message
from contest.leaderboard import scorecode
from contest.people.phone import short_name
from contest.settings import get_settings
from contest.text import composed, nfc

WIDTH, HEIGHT = 1200, 630
FAMILY = "Be Vietnam Pro"
# Bump when the drawing changes, so cards cached on disk are drawn again.
VERSION = 1
INK = (27, 31, 36)
MUTED = (91, 100, 112)
BAND = 220  # height of the coloured band with the logo and the contest's title
MARGIN = 60
LOGO_BOX = 150


@dataclass(frozen=True)
class Card:
    """What a share card shows: all of it text the contestant is happy to post (their name is shortened)."""

    contest_title: str
    round_title: str
    name: str
    commune: str
    correct: int | float  # the score in questions: 7.5 with partial credit
    total: int
    primary: str
    accent: str
    logo: str | None = None  # file name under the media folder
    site: str = ""
    lang: str = DEFAULT

    def normalised(self) -> Card:
        """Every text in NFC: decomposed marks would be drawn as separate, misplaced glyphs."""
        texts: dict[str, Any] = {k: nfc(v) for k, v in asdict(self).items() if isinstance(v, str)}
        return replace(self, **texts)

    @property
    def description(self) -> str:
        correct = message("correct", self.lang, "share")
        return f"{self.name} ({self.commune}): {score(self.correct, self.lang)}/{self.total} {correct} – {self.contest_title}"


async def card_of(attempt_id: int, contestant_id: int, lang: str = DEFAULT) -> Card | None:
    """The card of a scored attempt, for its own contestant only (None otherwise: not theirs, a preview, not scored)."""
    rows = await db.raw(
        "SELECT a.points, a.total, p.full_name, m.name AS commune_name, r.title AS round_title, c.title, c.logo, "
        "c.brand_primary, c.brand_accent FROM attempt a JOIN contestant p ON p.id = a.contestant "
        "JOIN place m ON m.code = p.collective JOIN round r ON r.id = a.round JOIN contest c ON c.id = r.contest "
        "WHERE a.id = {} AND a.contestant = {} AND NOT a.preview AND a.status = 'scored'",
        attempt_id,
        contestant_id,
    )
    if not rows:
        return None
    row = rows[0]
    primary = row["brand_primary"] or SITE_PRIMARY
    return Card(
        contest_title=row["title"],
        round_title=row["round_title"],
        name=short_name(composed(row["full_name"])),
        commune=row["commune_name"],
        correct=scorecode.in_questions(row["points"]) or 0,
        total=row["total"],
        primary=primary,
        accent=row["brand_accent"] or primary,
        logo=row["logo"],
        site=get_settings().public_url.split("://", 1)[-1],
        lang=lang,
    ).normalised()


@dataclass(frozen=True)
class ShareMeta:
    """Open Graph tags of a result page: what a link preview shows when the contestant shares it."""

    title: str
    description: str
    image: str
    url: str


async def share_meta(attempt_id: int, contestant_id: int, slug: str, lang: str = DEFAULT) -> ShareMeta | None:
    """The result page's Open Graph tags (None while the attempt is not scored)."""
    card = await card_of(attempt_id, contestant_id, lang)
    if card is None:
        return None
    base = get_settings().public_url
    return ShareMeta(card.contest_title, card.description, f"{base}/attempts/{attempt_id}/share.png", f"{base}/c/{slug}")


def card_path(attempt_id: int, card: Card) -> Path:
    """Where this very card is cached: the name changes with anything drawn on it."""
    digest = hashlib.sha256(json.dumps([VERSION, asdict(card)], ensure_ascii=False).encode()).hexdigest()[:24]
    return get_settings().storage_dir / "share" / f"{attempt_id}-{digest}.png"


def cached_png(attempt_id: int, card: Card) -> bytes:
    """The card's PNG from disk, drawn and stored first if needed (older cards of the attempt are removed)."""
    path = card_path(attempt_id, card)
    if path.exists():
        return path.read_bytes()
    data = render(card)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    for old in path.parent.glob(f"{attempt_id}-*.png"):
        if old != path:
            old.unlink(missing_ok=True)
    return data


@lru_cache(maxsize=64)
def _font(weight: int, size: int) -> ImageFont.FreeTypeFont:
    return fontpkg.pil.truetype(FAMILY, size, weight=weight)


def _fit(
    text: str, weight: int, width: int, size: int, smallest: int, max_lines: int
) -> tuple[list[str], ImageFont.FreeTypeFont]:
    """Lines and font so text fits width: shrink down to smallest, then wrap, then cut with an ellipsis."""
    for px in range(size, smallest - 1, -2):
        if _font(weight, px).getlength(text) <= width:
            return [text], _font(weight, px)
    font = _font(weight, smallest)
    lines: list[str] = []
    words = text.split()
    while words and len(lines) < max_lines:
        line = words.pop(0)
        while words and font.getlength(f"{line} {words[0]}") <= width:
            line += " " + words.pop(0)
        lines.append(line)
    if words or font.getlength(lines[-1]) > width:
        last = lines[-1]
        while last and font.getlength(last + "…") > width:
            last = last[:-1]
        lines[-1] = last.rstrip() + "…"
    return lines, font


def _logo(name: str) -> Image.Image | None:
    path = get_settings().media_dir / name
    try:
        with Image.open(path) as img:
            logo = img.convert("RGBA")
    except (OSError, ValueError):
        return None  # a logo removed from disk: the card is still worth having
    logo.thumbnail((LOGO_BOX - 24, LOGO_BOX - 24), Image.Resampling.LANCZOS)
    return logo


def render(card: Card) -> bytes:
    """Draw the card: the contest's band with logo and title, the name and commune, the score in large type."""
    card = card.normalised()
    primary, accent = rgb(card.primary), rgb(card.accent)
    image = Image.new("RGB", (WIDTH, HEIGHT), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, WIDTH, BAND), fill=primary)
    draw.rectangle((0, BAND, WIDTH, BAND + 14), fill=accent)

    left = MARGIN
    logo = _logo(card.logo) if card.logo else None
    if logo is not None:
        top = (BAND - LOGO_BOX) // 2
        draw.rounded_rectangle((MARGIN, top, MARGIN + LOGO_BOX, top + LOGO_BOX), radius=18, fill=(255, 255, 255))
        image.paste(logo, (MARGIN + (LOGO_BOX - logo.width) // 2, top + (LOGO_BOX - logo.height) // 2), logo)
        left = MARGIN + LOGO_BOX + 36
    lines, font = _fit(card.contest_title, 700, WIDTH - left - MARGIN, 52, 34, 2)
    step = int(font.size * 1.3)
    y = BAND // 2 - step * len(lines) // 2 + step // 2
    for line in lines:
        draw.text((left, y), line, font=font, fill=(255, 255, 255), anchor="lm")
        y += step

    score_right = WIDTH - MARGIN
    score_text = f"{score(card.correct, card.lang)}/{card.total}"
    score_font = _font(800, 150)
    draw.text((score_right, 400), score_text, font=score_font, fill=primary, anchor="rs")
    draw.text((score_right, 455), message("correct", card.lang, "share"), font=_font(600, 36), fill=INK, anchor="rs")
    text_width = int(score_right - score_font.getlength(score_text) - 40 - MARGIN)

    draw.text((MARGIN, 300), message("done", card.lang, "share"), font=_font(400, 32), fill=MUTED, anchor="ls")
    name_lines, name_font = _fit(card.name, 700, text_width, 64, 40, 1)
    draw.text((MARGIN, 380), name_lines[0], font=name_font, fill=INK, anchor="ls")
    commune_lines, commune_font = _fit(card.commune, 400, text_width, 36, 26, 1)
    draw.text((MARGIN, 432), commune_lines[0], font=commune_font, fill=MUTED, anchor="ls")

    draw.line((MARGIN, 520, WIDTH - MARGIN, 520), fill=(217, 221, 227), width=2)
    footer = " · ".join(part for part in (card.round_title, card.site) if part)
    footer_lines, footer_font = _fit(footer, 400, WIDTH - 2 * MARGIN, 28, 22, 1)
    draw.text((MARGIN, 570), footer_lines[0], font=footer_font, fill=MUTED, anchor="ls")

    info = PngInfo()
    info.add_itxt("Title", card.contest_title)
    info.add_itxt("Description", card.description)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True, pnginfo=info)
    return out.getvalue()
