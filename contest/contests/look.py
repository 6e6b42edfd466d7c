"""A contest's look: the organiser's logo and brand colours, checked on the way in and served as a tiny stylesheet."""

from __future__ import annotations

import hashlib
import io
import re
from dataclasses import dataclass

from PIL import Image

from contest.contests.tables import Contest
from contest.i18n import InputError
from contest.staff.audit import audit
from contest.staff.signin import StaffUser
from contest.uploads import LIMITS, PreparedImage, open_upload, store_image

# White text on a brand colour must stay readable: WCAG 2 AA for normal text.
MIN_CONTRAST = 4.5
# The site's own colour (static/app.css --accent), used where an organiser set only an accent.
SITE_PRIMARY = "#b4121b"
LOGO_FORMATS = ("JPEG", "PNG", "WEBP")
LOGO_MIN_SIDE = 48  # smaller is a blur on a phone's high-density screen
# Pages show it at most 120×64 CSS px and the share card in 126 px: 256 is sharp on 2x screens and stays a few KB,
# which matters on the contest page (its whole first load is meant to stay under 50 KB).
LOGO_LONG_SIDE = 256
_HEX = re.compile(r"#?([0-9a-fA-F]{6}|[0-9a-fA-F]{3})")


@dataclass(frozen=True)
class Look:
    """What a contest's pages and share card are dressed in."""

    slug: str
    title: str
    rules: str
    logo: str | None
    primary: str | None
    accent: str | None

    @property
    def colours(self) -> tuple[str, str]:
        """(primary, accent) to paint with: what the organiser set, else the site's own."""
        primary = self.primary or SITE_PRIMARY
        return primary, self.accent or primary


def _linear(channel: int) -> float:
    c = channel / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def rgb(colour: str) -> tuple[int, int, int]:
    """ "#0b4f8a" -> (11, 79, 138)."""
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def contrast_with_white(colour: str) -> float:
    """The WCAG 2 contrast ratio of white text on this "#rrggbb" background (1 to 21)."""
    r, g, b = (_linear(c) for c in rgb(colour))
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    return 1.05 / (luminance + 0.05)


def read_colour(value: object, field: str) -> str | None:
    """A typed colour as "#rrggbb" (blank: none), refused when not hex or too light for white text on it."""
    text = str(value or "").strip()
    if not text:
        return None
    match = _HEX.fullmatch(text)
    if match is None:
        raise InputError({field: "colour_invalid"}, value=text[:20])
    digits = match.group(1).lower()
    colour = "#" + (digits if len(digits) == 6 else "".join(d * 2 for d in digits))
    ratio = contrast_with_white(colour)
    if ratio < MIN_CONTRAST:
        # Rounded down, so the message never shows "4,5" for a colour that is refused for missing 4.5.
        shown = f"{int(ratio * 100) / 100:.2f}".replace(".", ",")
        raise InputError({field: "colour_contrast"}, value=colour, ratio=shown, min="4,5")
    return colour


def prepare_logo(data: bytes) -> PreparedImage:
    """Check an uploaded logo (real JPEG/PNG/WebP of sane size), downscale it and re-encode it as WebP with alpha."""
    picture = open_upload(data, LOGO_FORMATS, invalid="logo_invalid")
    if min(picture.size) < LOGO_MIN_SIDE:
        raise InputError({"logo": "logo_too_small"}, min_px=LOGO_MIN_SIDE, **LIMITS)
    picture = picture.convert("RGBA")
    content = picture.getchannel("A").getbbox()
    if content is None:
        raise InputError({"logo": "logo_blank"}, **LIMITS)
    picture = picture.crop(content)  # transparent margins would shrink the logo on the page for nothing
    picture.thumbnail((LOGO_LONG_SIDE, LOGO_LONG_SIDE), Image.Resampling.LANCZOS)
    picture.info.clear()
    out = io.BytesIO()
    # A fresh encode keeps pixels only: EXIF, comments and anything appended are gone.
    picture.save(out, format="WEBP", quality=90, method=6)
    encoded = out.getvalue()
    return PreparedImage("logo-" + hashlib.sha256(encoded).hexdigest()[:32] + ".webp", encoded, picture.width, picture.height)


def _look(row: dict) -> Look:
    return Look(row["slug"], row["title"], row["rules"], row["logo"], row["brand_primary"], row["brand_accent"])


async def look_of(slug: str) -> Look | None:
    """A published contest's look, as contestants may see it."""
    columns = (Contest.slug, Contest.title, Contest.rules, Contest.logo, Contest.brand_primary, Contest.brand_accent)
    row = await Contest.select(*columns).where((Contest.slug == slug) & (Contest.published == True)).first()  # noqa: E712
    return _look(row) if row else None


async def save_look(
    actor: StaffUser, contest_id: int, primary: object, accent: object, logo: bytes | None, remove_logo: bool
) -> None:
    """Set a contest's colours and logo from the builder: every part checked before anything is written."""
    values: dict[str, str | None] = {
        "brand_primary": read_colour(primary, "brand_primary"),
        "brand_accent": read_colour(accent, "brand_accent"),
    }
    if logo:
        values["logo"] = store_image(prepare_logo(logo))
    elif remove_logo:
        values["logo"] = None
    row = await Contest.select(Contest.slug).where(Contest.id == contest_id).first()
    if row is None:
        raise InputError({"contest": "contest_not_found"})
    await Contest.update(values).where(Contest.id == contest_id)  # type: ignore[arg-type]
    await audit(actor.id, "contest.look", row["slug"], **values)


def theme_css(look: Look) -> str:
    """The per-contest stylesheet: the logo's place, brand colours as custom properties and the few rules using them.

    Served as a file because the Content-Security-Policy allows no inline styles.
    """
    css = _HEAD_RULES
    if look.primary is None and look.accent is None:
        return css  # the site's own colours
    primary, accent = look.colours
    return css + (
        f":root{{--brand:{primary};--brand-accent:{accent}}}\n"
        ".top,.button,.brand-band{background:var(--brand)}\n"
        ".qnum,.contest-head h1,.rules-page h1{color:var(--brand)}\n"
        ".contest-head,.rules-head{border-bottom-color:var(--brand-accent)}\n"
        ".button.accent{background:var(--brand-accent)}\n"
        ".flashcard summary{border-color:var(--brand-accent)}\n"
    )


# The header with the organiser's logo, on every contest page that links the theme.
_HEAD_RULES = (
    ".contest-head{display:flex;gap:.8rem;align-items:center;padding:.6rem 0;border-bottom:4px solid transparent}\n"
    ".contest-head img{display:block;max-width:120px;max-height:64px;width:auto;height:auto}\n"
    ".contest-head h1{margin:0}\n"
)


def etag(text: str) -> str:
    return '"' + hashlib.sha256(text.encode()).hexdigest()[:20] + '"'


def theme_version(look: Look) -> str:
    """The fingerprint pages put in the stylesheet's address (?v=): a new look is a new address, so the old one
    can be cached for a year like the other fingerprinted files."""
    return etag(theme_css(look)).strip('"')[:12]
