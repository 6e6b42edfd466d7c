"""The demo's certificate design: a paper-like background photo, a red seal and a signature scanned on white paper.

Drawn here (no image files in the repository) the way an organiser would upload them; the demo contest and the
certificate benchmark both use them, so the size goals are measured on the look a new organiser first sees.
"""

from __future__ import annotations

import io
import math
import random
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

TEXT: dict[str, Any] = {
    "issuer": "ỦY BAN NHÂN DÂN\nTHÀNH PHỐ HẢI PHÒNG",
    "place": "Hải Phòng",
    "signer_title": "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
    "signer_name": "Nguyễn Văn Tùng",
    "award_participation": "1",
    "collective_top": "3",
    "collective_by": "people",
}


def uploads() -> dict[str, bytes]:
    """The three images as an organiser uploads them (before prepare_design_image)."""
    return {"background": background(), "seal": seal(), "signature": signature()}


def background() -> bytes:
    """A warm paper-like photo with a soft vignette and a faint bronze-drum ring: busy enough to be realistic."""
    rng = random.Random(1)
    img = Image.new("RGB", (3000, 2120), (244, 236, 214))
    draw = ImageDraw.Draw(img)
    for _ in range(260):
        x, y, r = rng.randrange(3000), rng.randrange(2120), rng.randrange(40, 220)
        tone = rng.randrange(-14, 10)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(238 + tone, 228 + tone, 200 + tone))
    for radius in range(200, 1000, 70):
        draw.ellipse((1500 - radius, 1060 - radius, 1500 + radius, 1060 + radius), outline=(228, 214, 180), width=6)
    img = img.filter(ImageFilter.GaussianBlur(6))
    noise = Image.effect_noise(img.size, 18).convert("RGB")
    img = Image.blend(img, noise, 0.05)
    draw = ImageDraw.Draw(img)
    for inset, width, color in ((60, 34, (150, 30, 30)), (112, 8, (186, 146, 70)), (132, 3, (186, 146, 70))):
        draw.rectangle((inset, inset, 3000 - inset, 2120 - inset), outline=color, width=width)
    return _encode(img, "JPEG")


def seal() -> bytes:
    """A round red seal on a transparent background, a star in the middle."""
    img = Image.new("RGBA", (900, 900), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    red = (200, 30, 40, 215)
    draw.ellipse((20, 20, 880, 880), outline=red, width=26)
    draw.ellipse((110, 110, 790, 790), outline=red, width=10)
    radii = [150 if i % 2 == 0 else 60 for i in range(10)]
    star = [(450 + r * math.sin(i * math.pi / 5), 450 - r * math.cos(i * math.pi / 5)) for i, r in enumerate(radii)]
    draw.polygon(star, fill=red)
    for angle in range(0, 360, 12):  # the lettering around the rim, as dashes
        x, y = 450 + 375 * math.sin(math.radians(angle)), 450 - 375 * math.cos(math.radians(angle))
        draw.ellipse((x - 18, y - 18, x + 18, y + 18), fill=red)
    return _encode(img, "PNG")


def signature() -> bytes:
    """A pen signature photographed on white paper (no transparency): the upload turns the paper transparent."""
    img = Image.new("RGB", (1400, 600), (250, 250, 247))
    draw = ImageDraw.Draw(img)
    points = [(100 + t * 12, 330 + 150 * math.sin(t / 7) * math.cos(t / 23)) for t in range(100)]
    draw.line(points, fill=(20, 40, 120), width=9, joint="curve")
    draw.line([(260, 460), (1250, 180)], fill=(20, 40, 120), width=7)
    return _encode(img.filter(ImageFilter.GaussianBlur(1.2)), "JPEG")


def _encode(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return out.getvalue()
