"""Image uploads (questions, a contest's look, certificate designs): checked with Pillow before anything is decoded;
question and look images are then downscaled, re-encoded (no metadata) and stored by content hash."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps

from contest.i18n import InputError
from contest.settings import get_settings

MAX_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # checked from the header, before anything is decoded
LONG_SIDE = 1200
# Only formats phones and cameras produce; never EPS/PDF (Pillow would hand those to Ghostscript).
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
LIMITS = {"max_mb": MAX_BYTES // (1024 * 1024), "max_megapixels": MAX_PIXELS // 1_000_000}


@dataclass(frozen=True)
class PreparedImage:
    """An image ready to store: re-encoded bytes and the file name they will have."""

    name: str
    data: bytes
    width: int
    height: int


def _refuse(code: str) -> InputError:
    return InputError({"image": code}, **LIMITS)


def open_upload(data: bytes, formats: tuple[str, ...] = FORMATS, invalid: str = "image_invalid") -> Image.Image:
    """Decode an upload of sane size (bytes, then pixels from the header) upright; InputError with invalid if unreadable."""
    if len(data) > MAX_BYTES:
        raise _refuse("image_too_large")
    if not data:
        raise _refuse(invalid)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=formats) as probe:
                if probe.width * probe.height > MAX_PIXELS:
                    raise _refuse("image_too_large")
                probe.verify()
            # verify() leaves the image unusable: open again to decode it.
            with Image.open(io.BytesIO(data), formats=formats) as img:
                img.seek(0)  # the first frame of an animation
                img.load()
                return ImageOps.exif_transpose(img)
    except InputError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        # A header claiming far more pixels than MAX_PIXELS: Pillow refuses it before we can look.
        raise _refuse("image_too_large") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise _refuse(invalid) from None


def prepare_image(data: bytes) -> PreparedImage:
    """Verify an upload is a real image of sane size, downscale it and re-encode it as WebP; InputError if not."""
    picture = open_upload(data)
    picture = picture.convert("RGBA" if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info else "RGB")
    picture.thumbnail((LONG_SIDE, LONG_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # A fresh encode keeps pixels only: EXIF (GPS, camera), comments and anything appended are gone.
    picture.save(out, format="WEBP", quality=82, method=4)
    encoded = out.getvalue()
    name = hashlib.sha256(encoded).hexdigest()[:32] + ".webp"
    return PreparedImage(name, encoded, picture.width, picture.height)


def media_dir() -> Path:
    return get_settings().media_dir


def store_image(image: PreparedImage) -> str:
    """Write the image under the media folder (same content, same name: idempotent); return its name."""
    folder = media_dir()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / image.name
    if not target.exists():
        fd, tmp = tempfile.mkstemp(dir=folder, suffix=".part")
        with os.fdopen(fd, "wb") as f:
            f.write(image.data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    return image.name
