"""Certificates as files: a print PDF (reportlab, vector text) and a phone JPEG (Pillow) painted from one layout.

Everything that does not depend on the certificate itself (fonts, decoded images, the built-in page) is
prepared once per process, so a worker renders each certificate in milliseconds.
"""

from __future__ import annotations

import copy
import hashlib
import io
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

from PIL import Image, ImageDraw
from reportlab import rl_config
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from contest.certificates.fonts import WEIGHTS, font_path, pil_font
from contest.certificates.images import prepare_design_image
from contest.certificates.layout import (
    LABELS,
    PAGE_HEIGHT,
    PAGE_WIDTH,
    PT,
    WHITE,
    Code,
    Design,
    Element,
    Face,
    Frame,
    Picture,
    Rule,
    Text,
    clean,
    face_layout,
    kind_of,
    layout,
    page_design,
    page_layout,
)

__all__ = [
    "Design",
    "Face",
    "Element",
    "layout",
    "prepare_design_image",
    "render_book",
    "render_jpeg",
    "render_pdf",
    "render_png",
]

POINTS = 1 / PT  # points in a millimetre
PRINT_DPI = 300  # what seal and signature are embedded at in the PDF: enough for print, far smaller than the upload
# The background photo in the PDF (seal and signature painted on it): a print at 150 dpi shows no more, and at
# quality 60 the JPEG stays within ~40 dB PSNR of the upload scaled to 150 dpi (tests/certificates/test_files.py).
BACKGROUND_DPI, BACKGROUND_QUALITY = 150, 60
PHONE_QUALITY = 82  # the phone image: ~200 KB with a photo background, no ringing around the text at 150 dpi
_ANCHORS = {"left": "ls", "center": "ms", "right": "rs"}


# --------------------------------------------------------------------------- PDF


def render_pdf(design: Design, face: Face, compress: bool = True) -> bytes:
    """One A4-landscape page for print: vector text in Be Vietnam Pro, images as prepared, a vector QR code."""
    return render_book([(design, face)], f"{LABELS[f'title_{kind_of(face)}']} - {clean(face.holder)}", compress)


def render_book(pages: list[tuple[Design, Face]], title: str, compress: bool = True) -> bytes:
    """Several certificates as the pages of one PDF: fonts and every image (the background) are stored once."""
    _setup_reportlab()
    out = io.BytesIO()
    # invariant: no timestamp or random ID, so the same certificate gives the same bytes.
    pdf = canvas.Canvas(
        out,
        pagesize=(PAGE_WIDTH * POINTS, PAGE_HEIGHT * POINTS),
        pageCompression=int(compress),
        invariant=1,
        initialFontName=_pdf_font(400),  # else reportlab names Helvetica, unembedded, which print shops flag
    )
    pdf.setTitle(title)
    if pages:
        pdf.setSubject(clean(pages[0][1].contest_title))
        pdf.setAuthor(clean(pages[0][0].issuer))
    for design, face in pages:
        for element in _print_elements(design, face):
            _draw(pdf, element)
        pdf.showPage()
    pdf.save()
    return out.getvalue()


def _print_elements(design: Design, face: Face) -> list[Element | Sheet]:
    """The layout as printed: over a background photo, seal and signature are painted into one print-resolution
    JPEG with it (a 150 dpi print shows them no sharper as separate images, and they would cost as much again)."""
    elements = layout(design, face)
    pictures = tuple(e for e in elements if isinstance(e, Picture))
    if not design.background or not pictures or pictures[0].role != "background":
        return list(elements)
    return [Sheet(pictures), *(e for e in elements if not isinstance(e, Picture))]


@dataclass(frozen=True)
class Sheet:
    """The background with the seal and signature painted on it: one image under everything else."""

    pictures: tuple[Picture, ...]


@cache
def _setup_reportlab() -> None:
    # reportlab's pure-Python ASCII85 costs ~600 ms on a background; PDF streams may as well be binary.
    rl_config.useA85 = 0
    for weight in WEIGHTS:
        pdfmetrics.registerFont(TTFont(_pdf_font(weight), str(font_path(weight))))


def _pdf_font(weight: int) -> str:
    return f"BeVietnamPro-{weight}"


def _draw(pdf: canvas.Canvas, element: Element | Sheet) -> None:
    if isinstance(element, Text):
        pdf.setFillColorRGB(*_rgb(element.color))
        pdf.setFont(_pdf_font(element.weight), element.size)
        x, y = element.x * POINTS, (PAGE_HEIGHT - element.y) * POINTS
        if element.anchor == "center":
            pdf.drawCentredString(x, y, element.text)
        elif element.anchor == "right":
            pdf.drawRightString(x, y, element.text)
        else:
            pdf.drawString(x, y, element.text)
    elif isinstance(element, Frame):
        x, y, w, h = _rect(element.x, element.y, element.width, element.height)
        if element.stroke:
            pdf.setStrokeColorRGB(*_rgb(element.color))
            pdf.setLineWidth(element.stroke * POINTS)
            pdf.rect(x, y, w, h, stroke=1, fill=0)
        else:
            pdf.setFillColorRGB(*_rgb(element.color))
            pdf.rect(x, y, w, h, stroke=0, fill=1)
    elif isinstance(element, Rule):
        pdf.setStrokeColorRGB(*_rgb(element.color))
        pdf.setLineWidth(element.stroke * POINTS)
        y = (PAGE_HEIGHT - element.y) * POINTS
        pdf.line(element.x0 * POINTS, y, element.x1 * POINTS, y)
    elif isinstance(element, Picture):
        _draw_picture(pdf, element)
    elif isinstance(element, Sheet):
        _draw_image(pdf, _sheet_image(element), 0, 0, PAGE_WIDTH, PAGE_HEIGHT)
    else:
        _draw_code(pdf, element)


def _rgb(color: tuple[int, int, int]) -> tuple[float, float, float]:
    return color[0] / 255, color[1] / 255, color[2] / 255


def _rect(x: float, y: float, width: float, height: float) -> tuple[float, float, float, float]:
    """A rectangle from the layout (mm, top-left, y down) in PDF points (bottom-left, y up)."""
    return x * POINTS, (PAGE_HEIGHT - y - height) * POINTS, width * POINTS, height * POINTS


def _draw_code(pdf: canvas.Canvas, code: Code) -> None:
    """White square, then every run of dark modules as one rectangle of a single path: no seams between them."""
    pdf.setFillColorRGB(1, 1, 1)
    pdf.rect(*_rect(code.x, code.y, code.size, code.size), stroke=0, fill=1)
    count = len(code.modules)
    module = code.size / (count + 2 * code.quiet)
    pdf.saveState()
    pdf.setFillColorRGB(0, 0, 0)
    # Module units from the code's top-left corner, rows downwards: the rectangles are small integers.
    left, top = code.x + code.quiet * module, code.y + code.quiet * module
    pdf.transform(module * POINTS, 0, 0, -module * POINTS, left * POINTS, (PAGE_HEIGHT - top) * POINTS)
    runs = []
    for row, modules in enumerate(code.modules):
        start = None
        for col, dark in enumerate((*modules, False)):
            if dark and start is None:
                start = col
            elif not dark and start is not None:
                runs.append(f"{start} {row} {col - start} 1 re")
                start = None
    pdf.addLiteral("\n".join(runs) + "\nf")
    pdf.restoreState()


def _draw_picture(pdf: canvas.Canvas, picture: Picture) -> None:
    _draw_image(pdf, _pdf_image(picture.path, picture.width, picture.height), picture.x, picture.y, picture.width, picture.height)


def _draw_image(pdf: canvas.Canvas, template: pdfdoc.PDFImageXObject, *box: float) -> None:
    """drawImage, but with the image's PDF stream made once per process instead of once per document (and so
    once per document however many pages show it)."""
    # What canvas.drawImage does once it has the image object (reportlab 4-5 internals, stable for years).
    doc = pdf._doc
    registered = doc.getXObjectName(template.name)
    if registered not in doc.idToObject:
        image = copy.copy(template)
        doc.Reference(image, registered)
        doc.addForm(template.name, image)
        smask = getattr(template, "_smask", None)
        if smask is not None:
            del image._smask
            image.smask = doc.Reference(copy.copy(smask), doc.getXObjectName(smask.name))
    x, y, w, h = _rect(*box)
    pdf.saveState()
    pdf.translate(x, y)
    pdf.scale(w, h)
    pdf.addLiteral(f"/{registered} Do")
    pdf.restoreState()
    pdf._formsinuse.append(template.name)


# Paths are content-addressed (stored under a hash of the prepared image), so a path never changes content.
@lru_cache(maxsize=32)
def _pdf_image(path: Path, width: float, height: float) -> pdfdoc.PDFImageXObject:
    """A seal or signature as a PDF XObject: reduced to PRINT_DPI, with its alpha."""
    _setup_reportlab()
    with Image.open(path) as img:
        picture = img.convert("RGBA")
    target = (max(1, round(width / 25.4 * PRINT_DPI)), max(1, round(height / 25.4 * PRINT_DPI)))
    if picture.width > target[0]:
        picture = picture.resize(target, Image.Resampling.LANCZOS)
    return pdfdoc.PDFImageXObject(f"{path.stem}-{width:.1f}x{height:.1f}", ImageReader(picture), mask="auto")


@lru_cache(maxsize=8)
def _sheet_image(sheet: Sheet) -> pdfdoc.PDFImageXObject:
    _setup_reportlab()
    data = print_sheet(sheet.pictures)
    image = pdfdoc.PDFImageXObject(f"sheet-{hashlib.sha256(data).hexdigest()[:16]}")
    image.loadImageFromJPEG(io.BytesIO(data))
    return image


def print_sheet(pictures: tuple[Picture, ...]) -> bytes:
    """The background (first) with the other pictures painted on it, as a JPEG at BACKGROUND_DPI."""
    out = io.BytesIO()
    # Colour at half resolution (4:2:0) as in any photo: the seal's edges stay sharp in brightness; 4:4:4 costs 20 KB.
    sheet_picture(pictures).save(out, format="JPEG", quality=BACKGROUND_QUALITY, subsampling=2, optimize=True)
    return out.getvalue()


def sheet_picture(pictures: tuple[Picture, ...]) -> Image.Image:
    """The background (first) with the other pictures painted on it at BACKGROUND_DPI, before any compression."""
    px = BACKGROUND_DPI / 25.4
    size = (round(PAGE_WIDTH * px), round(PAGE_HEIGHT * px))
    with Image.open(pictures[0].path) as img:
        img.draft("RGB", size)
        page = img.convert("RGB").resize(size, Image.Resampling.LANCZOS)
    for picture in pictures[1:]:
        left, top, right, bottom = (round(v * px) for v in picture.bounds())
        stamp = _png_picture(picture.path, max(1, right - left), max(1, bottom - top))
        page.paste(stamp, (left, top), stamp if stamp.mode == "RGBA" else None)
    return page


# --------------------------------------------------------------------------- PNG


def render_png(design: Design, face: Face, dpi: int = 150) -> bytes:
    """The certificate as a lossless picture (previews, checks): the same layout drawn with Pillow at dpi."""
    out = io.BytesIO()
    # Level 1: on a photo background 40 % faster than the default for 7 % more bytes.
    _picture(design, face, dpi).save(out, format="PNG", compress_level=1)
    return out.getvalue()


def render_jpeg(design: Design, face: Face, dpi: int = 150) -> bytes:
    """The certificate as phones get it: a JPEG at screen resolution, a fraction of the PNG's bytes."""
    out = io.BytesIO()
    _picture(design, face, dpi).save(out, format="JPEG", quality=PHONE_QUALITY, optimize=True)
    return out.getvalue()


def _picture(design: Design, face: Face, dpi: int) -> Image.Image:
    page = _png_page(page_design(design), dpi).copy()
    draw = ImageDraw.Draw(page)
    for element in face_layout(design, face):
        _paint(page, draw, element, dpi)
    return page


@lru_cache(maxsize=4)
def _png_page(design: Design, dpi: int) -> Image.Image:
    """The design's page without any certificate's text, painted once per process and copied."""
    page = Image.new("RGB", (round(PAGE_WIDTH / 25.4 * dpi), round(PAGE_HEIGHT / 25.4 * dpi)), WHITE)
    draw = ImageDraw.Draw(page)
    for element in page_layout(design):
        _paint(page, draw, element, dpi)
    return page


def _paint(page: Image.Image, draw: ImageDraw.ImageDraw, element: Element, dpi: int) -> None:
    px = dpi / 25.4
    if isinstance(element, Text):
        font = pil_font(element.weight, round(element.size * dpi / 72 * 4) / 4)
        draw.text((element.x * px, element.y * px), element.text, font=font, fill=element.color, anchor=_ANCHORS[element.anchor])
    elif isinstance(element, Code):
        _paint_code(page, draw, element, px)
    else:
        left, top, right, bottom = (round(v * px) for v in element.bounds())
        right, bottom = max(right, left + 1), max(bottom, top + 1)  # a hairline still gets a pixel
        if isinstance(element, Picture):
            picture = _png_picture(element.path, right - left, bottom - top)
            page.paste(picture, (left, top), picture if picture.mode == "RGBA" else None)
        elif isinstance(element, Frame) and element.stroke:
            draw.rectangle((left, top, right - 1, bottom - 1), outline=element.color, width=max(1, round(element.stroke * px)))
        else:
            draw.rectangle((left, top, right - 1, bottom - 1), fill=element.color)


@lru_cache(maxsize=16)
def _png_picture(path: Path, width: int, height: int) -> Image.Image:
    """An image decoded and resized once per process for its place on the page."""
    with Image.open(path) as img:
        img.draft("RGB", (width, height))  # a JPEG background decodes straight at half or quarter size
        picture = img.convert("RGBA" if img.mode in ("RGBA", "LA", "PA", "P") else "RGB")
    return picture.resize((width, height), Image.Resampling.LANCZOS)


def _paint_code(page: Image.Image, draw: ImageDraw.ImageDraw, code: Code, px: float) -> None:
    """Whole pixels per module (sharp edges scan best), centred in the white square."""
    side = round(code.size * px)
    left, top = round(code.x * px), round(code.y * px)
    draw.rectangle((left, top, left + side - 1, top + side - 1), fill=WHITE)
    count = len(code.modules)
    module = max(1, side // (count + 2 * code.quiet))
    matrix = Image.frombytes("L", (count, count), bytes(0 if dark else 255 for row in code.modules for dark in row))
    matrix = matrix.resize((count * module, count * module), Image.Resampling.NEAREST)
    offset = (side - count * module) // 2
    page.paste(matrix, (left + offset, top + offset))
