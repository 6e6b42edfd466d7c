"""An organiser's certificate images (background, seal, signature): checked like question images, then normalised."""

from __future__ import annotations

import io

from PIL import Image, ImageCms, ImageOps

from contest.i18n import InputError
from contest.uploads import LIMITS, open_upload

ROLES = ("background", "seal", "signature")
# What phones, scanners and design tools save; no GIF (a print needs more than 256 colours).
FORMATS = ("JPEG", "PNG", "WEBP")
BACKGROUND_SIZE = (3508, 2480)  # A4 landscape at 300 dpi
MIN_BACKGROUND_SIDE = 1000  # below this a page-wide print is visibly blurry
STAMP_LONG_SIDE = 1200  # a seal is printed ~3 cm wide: 1200 px is 1000 dpi
# Grey levels of a scanned seal or signature: paper at or above PAPER turns transparent, ink at or below
# INK stays opaque, and what lies between fades, so the strokes keep their smooth edges.
PAPER, INK = 225, 175


def prepare_design_image(data: bytes, role: str) -> bytes:
    """Check an upload and normalise it: an A4 JPEG for the background, a trimmed PNG with alpha for seal or signature."""
    if role not in ROLES:
        raise ValueError(f"unknown certificate image role {role!r}")
    picture = _srgb(open_upload(data, FORMATS, invalid="design_image_invalid"))
    return _background(picture) if role == "background" else _stamp(picture)


def _background(picture: Image.Image) -> bytes:
    if min(picture.size) < MIN_BACKGROUND_SIDE:
        raise InputError({"image": "design_background_too_small"}, min_px=MIN_BACKGROUND_SIDE, **LIMITS)
    if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
        paper = Image.new("RGBA", picture.size, (255, 255, 255, 255))
        picture = Image.alpha_composite(paper, picture.convert("RGBA"))
    # Cover the page: scaled to fill it, the overflow cut equally from both sides.
    page = ImageOps.fit(picture.convert("RGB"), BACKGROUND_SIZE, Image.Resampling.LANCZOS)
    page.info.clear()  # Pillow would copy the upload's comment and profile into the new file
    out = io.BytesIO()
    # A fresh encode keeps pixels only: no EXIF, comments or profile. The PDF embeds these bytes as they are.
    page.save(out, format="JPEG", quality=88, optimize=True)
    return out.getvalue()


def _stamp(picture: Image.Image) -> bytes:
    transparent = picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info
    stamp = picture.convert("RGBA")
    alpha = stamp.getchannel("A")
    if not transparent or alpha.getextrema()[0] == 255:
        # A scan or photo on white paper: the paper goes, the ink stays.
        fade = [255 if v <= INK else 0 if v >= PAPER else (PAPER - v) * 255 // (PAPER - INK) for v in range(256)]
        alpha = stamp.convert("L").point(fade)
        stamp.putalpha(alpha)
    content = alpha.point([0] * 9 + [255] * 247).getbbox()  # nearly invisible pixels do not count
    if content is None:
        raise InputError({"image": "design_image_blank"}, **LIMITS)
    stamp = stamp.crop(content)
    stamp.thumbnail((STAMP_LONG_SIDE, STAMP_LONG_SIDE), Image.Resampling.LANCZOS)
    stamp.info.clear()
    out = io.BytesIO()
    stamp.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _srgb(picture: Image.Image) -> Image.Image:
    """Pixels in sRGB: a phone's Display P3 photo keeps its colours once its profile is dropped."""
    profile = picture.info.get("icc_profile")
    if not profile or picture.mode not in ("RGB", "RGBA"):
        return picture
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(profile))
        converted = ImageCms.profileToProfile(picture, source, ImageCms.createProfile("sRGB"), outputMode=picture.mode)
    except (ImageCms.PyCMSError, OSError, ValueError):
        return picture  # a broken profile: the pixels as they are
    return converted or picture
