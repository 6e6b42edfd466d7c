"""Where everything on a certificate goes: one list of elements that the PDF and the PNG painter both draw.

Positions are in millimetres from the page's top-left corner, font sizes in points, text anchored on its
baseline. Widths are measured with the real Be Vietnam Pro metrics, so what fits here fits on paper.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image

from contest.certificates.fonts import PT, em_width, fit, ink, ink_extent, shrink
from contest.i18n import N_
from contest.text import nfc

PAGE_WIDTH, PAGE_HEIGHT = 297.0, 210.0  # A4 landscape
# Everything drawn stays inside this (left, top, right, bottom): office printers leave ~5 mm unprinted.
PRINTABLE = (6.0, 6.0, PAGE_WIDTH - 6.0, PAGE_HEIGHT - 6.0)

# The document's own wording: printed on every certificate, in Vietnamese whatever the reader's language
# (`make i18n` puts it in the catalog with the rest of the site's text, so its English is kept beside it).
LABELS = {
    "nation": N_("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"),
    "motto": N_("Độc lập - Tự do - Hạnh phúc"),
    "title_participation": N_("GIẤY CHỨNG NHẬN"),
    "title_prize": N_("GIẤY CHỨNG NHẬN"),
    "title_collective": N_("GIẤY KHEN"),
    "to_participation": N_("Trao tặng"),
    "to_prize": N_("Trao tặng"),
    "to_collective": N_("Tặng tập thể"),
    "wording_participation": N_("Đã tham gia và hoàn thành"),
    "wording_prize": N_("Đã đạt thành tích xuất sắc tại"),
    "wording_collective": N_("Đã có thành tích xuất sắc trong tổ chức, vận động người dân tham gia"),
    "date": N_("{place}, ngày {day} tháng {month} năm {year}"),
    "date_without_place": N_("Ngày {day} tháng {month} năm {year}"),
    "scan": N_("Quét để xác minh"),
    "code": N_("Mã số: {code}"),
}

Color = tuple[int, int, int]
RED = (165, 27, 31)
GOLD = (190, 146, 62)
NAVY = (22, 48, 102)
INK = (33, 33, 33)
MUTED = (88, 88, 88)
CREAM = (252, 248, 236)
WHITE = (255, 255, 255)

# Columns: issuer top-left, national header and signer on the right, the body across the middle.
LEFT_X, LEFT_WIDTH = 78.0, 92.0
RIGHT_X, RIGHT_WIDTH = 214.0, 112.0
MIDDLE_X, MIDDLE_WIDTH = PAGE_WIDTH / 2, 244.0
HEADER_Y = 27.5  # first header baseline
TITLE_Y = 58.0
BODY_TOP, BODY_BOTTOM = 64.0, 144.5
DATE_Y = 150.5
SIGNER_Y = 157.0
NAME_Y = 193.0
SEAL_SIZE = 27.0
QR_X, QR_Y, QR_SIZE = 21.0, 157.0, 28.0  # white square, quiet zone included
CAPTION_X = QR_X + QR_SIZE + 3.5
CAPTION_BOX = (CAPTION_X, QR_Y, 150.0, PAGE_HEIGHT - 14)
LINE_SPACING = 1.25  # baseline to baseline within a block, in em


@dataclass(frozen=True)
class Design:
    """What the organiser set for a contest's certificates."""

    issuer: str
    place: str
    signer_name: str
    signer_title: str
    wording: str
    background: Path | None
    seal: Path | None
    signature: Path | None
    version: str


@dataclass(frozen=True)
class Face:
    """One certificate's own text."""

    kind: str
    code: str
    holder: str
    commune: str
    contest_title: str
    round_title: str
    prize: str | None
    detail: str
    issued_on: datetime.date
    verify_url: str


Box = tuple[float, float, float, float]  # left, top, right, bottom


@dataclass(frozen=True)
class Text:
    """One line of text, anchored on its baseline at (x, y); it must stay inside box."""

    text: str
    x: float
    y: float
    size: float
    weight: int
    color: Color
    anchor: str  # "left" | "center" | "right"
    width: float
    box: Box

    def bounds(self) -> Box:
        left = self.x - {"left": 0.0, "center": self.width / 2, "right": self.width}[self.anchor]
        above, below = ink(self.text, self.weight)
        return left, self.y - above * self.size * PT, left + self.width, self.y + below * self.size * PT


@dataclass(frozen=True)
class Frame:
    """A rectangle: filled when stroke is 0, else outlined with the stroke centred on its edges."""

    x: float
    y: float
    width: float
    height: float
    color: Color
    stroke: float = 0.0

    def bounds(self) -> Box:
        half = self.stroke / 2
        return self.x - half, self.y - half, self.x + self.width + half, self.y + self.height + half


@dataclass(frozen=True)
class Rule:
    """A horizontal line, e.g. under the motto."""

    x0: float
    x1: float
    y: float
    color: Color
    stroke: float

    def bounds(self) -> Box:
        return self.x0, self.y - self.stroke / 2, self.x1, self.y + self.stroke / 2


@dataclass(frozen=True)
class Picture:
    """An organiser's image (background, seal or signature) stretched over its rectangle."""

    role: str
    path: Path
    x: float
    y: float
    width: float
    height: float

    def bounds(self) -> Box:
        return self.x, self.y, self.x + self.width, self.y + self.height


@dataclass(frozen=True)
class Code:
    """The QR code: dark modules row by row, in a white square of side size with quiet modules of margin."""

    modules: tuple[tuple[bool, ...], ...]
    x: float
    y: float
    size: float
    # ISO asks for 4; the square is white and scanners read 2 fine. 3 keeps the modules large (~0.7 mm).
    quiet: int = 3

    def bounds(self) -> Box:
        return self.x, self.y, self.x + self.size, self.y + self.size


Element = Text | Frame | Rule | Picture | Code


def layout(design: Design, face: Face) -> list[Element]:
    """Every element of one certificate, in painting order."""
    return [*page_layout(design), *face_layout(design, face)]


def page_layout(design: Design) -> tuple[Element, ...]:
    """What every certificate of a design shares: background, headers, signer, seal. Painters may cache it."""
    return _page_layout(page_design(design))


def page_design(design: Design) -> Design:
    """The design without what page_layout does not draw: the key its caches share across the three kinds."""
    return replace(design, wording="")


@lru_cache(maxsize=16)
def _page_layout(design: Design) -> tuple[Element, ...]:
    out: list[Element] = []
    if design.background:
        out.append(Picture("background", design.background, 0, 0, PAGE_WIDTH, PAGE_HEIGHT))
    else:
        out += _border()
    issuer = clean(design.issuer).upper()
    national_x = RIGHT_X if issuer else MIDDLE_X
    out.append(_line(LABELS["nation"], national_x, HEADER_Y, 12.5, 700, INK, _column(national_x, RIGHT_WIDTH, 14, 42)))
    motto = _line(LABELS["motto"], national_x, HEADER_Y + 6.2, 13.5, 600, INK, _column(national_x, RIGHT_WIDTH, 14, 42))
    out += [motto, Rule(national_x - motto.width / 2, national_x + motto.width / 2, motto.y + 2.0, INK, 0.3)]
    if issuer:
        lines = _block(issuer, LEFT_X, HEADER_Y, 12.5, 700, INK, _column(LEFT_X, LEFT_WIDTH, 14, 42), max_lines=2)
        rule = max(line.width for line in lines) * 0.35
        out += [*lines, Rule(LEFT_X - rule / 2, LEFT_X + rule / 2, lines[-1].y + 2.0, INK, 0.3)]
    out += _signer(design)
    scan = _line(LABELS["scan"], CAPTION_X, QR_Y + QR_SIZE - 8.5, 9.5, 600, INK, CAPTION_BOX, "left")
    return (*out, scan)


def face_layout(design: Design, face: Face) -> list[Element]:
    """What is this certificate's own: title, holder, wording, date, QR code."""
    kind = kind_of(face)
    title_size = 44.0 if kind == "collective" else 40.0
    out: list[Element] = [_line(LABELS[f"title_{kind}"], MIDDLE_X, TITLE_Y, title_size, 700, RED, _column(MIDDLE_X, 200, 36, 64))]
    out += _body(design, face, kind)
    place = clean(design.place)
    day, month, year = face.issued_on.day, face.issued_on.month, face.issued_on.year
    # Administrative style: days under 10 and months 1-2 get a leading zero, so nobody can add a digit.
    date = LABELS["date" if place else "date_without_place"].format(
        place=place, day=f"{day:02d}", month=f"{month:02d}" if month < 3 else str(month), year=year
    )
    out.append(_line(date, RIGHT_X, DATE_Y, 12.5, 400, INK, _column(RIGHT_X, RIGHT_WIDTH, DATE_Y - 7, DATE_Y + 3)))
    out.append(Code(qr_modules(face.verify_url), QR_X, QR_Y, QR_SIZE))
    code = "-".join(face.code[i : i + 4] for i in range(0, len(face.code), 4)).upper()
    text = LABELS["code"].format(code=code)
    out.append(_line(text, CAPTION_X, QR_Y + QR_SIZE - 3.0, 9.0, 400, MUTED, CAPTION_BOX, "left"))
    return out


def kind_of(face: Face) -> str:
    """The face's kind, or participation for one this renderer does not know (a certificate all the same)."""
    return face.kind if f"title_{face.kind}" in LABELS else "participation"


def _body(design: Design, face: Face, kind: str) -> list[Element]:
    """The middle of the page, centred between title and date; everything shrinks a little when it would not fit."""
    # (text, weight, colour, size, smallest size before wrapping or None to wrap first, most lines, space above in mm)
    parts: list[tuple[str, int, Color, float, float | None, int, float]] = []
    prize = clean(face.prize or "")
    if kind == "prize" and prize:
        parts.append((prize.upper(), 700, RED, 22.0, None, 1, 0.0))
    parts.append((LABELS[f"to_{kind}"], 400, INK, 14.0, None, 1, 1.0))
    parts.append((clean(face.holder), 700, NAVY, 34.0, 24.0, 2, 0.0))
    parts.append((clean(face.commune), 600, INK, 15.0, None, 1, 0.5))
    parts.append((clean(design.wording) or LABELS[f"wording_{kind}"], 400, INK, 15.0, None, 3, 3.0))
    parts.append((clean(face.contest_title), 700, INK, 17.0, None, 3, 0.5))
    parts.append((clean(face.round_title), 600, INK, 14.0, None, 1, 1.5))
    parts.append((clean(face.detail), 400, INK, 14.0, None, 1, 0.5))
    box = _column(MIDDLE_X, MIDDLE_WIDTH, BODY_TOP, BODY_BOTTOM)
    for step in range(9):
        scale = 1.0 - 0.05 * step
        lines: list[Text] = []
        y = 0.0  # laid out from 0, moved into place below
        for text, weight, color, size, smallest, max_lines, space in parts:
            if not text:
                continue
            block = _block(text, MIDDLE_X, 0.0, size * scale, weight, color, box, max_lines, smallest and smallest * scale)
            above, below = ink_extent(weight)
            first = y + space * scale + above * block[0].size * PT
            lines += [replace(line, y=first + line.y) for line in block]
            y = lines[-1].y + below * block[-1].size * PT
        if y <= BODY_BOTTOM - BODY_TOP:
            break
    # Centred, a little high: the eye puts the middle of a page above its true middle.
    shift = BODY_TOP + max(0.0, BODY_BOTTOM - BODY_TOP - y) * 0.45
    return [replace(line, y=line.y + shift) for line in lines]


def _signer(design: Design) -> list[Element]:
    """Signer's title, then room to sign (the signature image, the seal over its left third), then the name."""
    out: list[Element] = []
    top = SIGNER_Y - 5.0
    title = clean(design.signer_title).upper()
    if title:
        out += _block(title, RIGHT_X, SIGNER_Y, 12.5, 700, INK, _column(RIGHT_X, RIGHT_WIDTH, DATE_Y + 1, 175), max_lines=2)
        top = out[-1].y + 2.0
    bottom = NAME_Y - 6.5
    middle = (top + bottom) / 2
    signature = None
    if design.signature:
        signature = _fitted_picture("signature", design.signature, RIGHT_X, middle, 60, bottom - top)
        out.append(signature)
    if design.seal:
        # Stamped over the left third of the signature, as a real seal is; a little high rather than on the name.
        x = signature.x + signature.width * 0.2 if signature else RIGHT_X - 12
        out.append(_fitted_picture("seal", design.seal, x, middle - 0.5, SEAL_SIZE, SEAL_SIZE))
    name = clean(design.signer_name)
    if name:
        out.append(_line(name, RIGHT_X, NAME_Y, 13.5, 700, INK, _column(RIGHT_X, RIGHT_WIDTH, bottom, PAGE_HEIGHT - 13)))
    return out


def _border() -> list[Element]:
    """The built-in look: cream paper, a red frame lined with gold, red-and-gold squares at its corners."""
    out: list[Element] = [
        Frame(0, 0, PAGE_WIDTH, PAGE_HEIGHT, CREAM),
        Frame(9, 9, PAGE_WIDTH - 18, PAGE_HEIGHT - 18, RED, 2.2),
        Frame(11.6, 11.6, PAGE_WIDTH - 23.2, PAGE_HEIGHT - 23.2, GOLD, 0.6),
        Frame(12.8, 12.8, PAGE_WIDTH - 25.6, PAGE_HEIGHT - 25.6, GOLD, 0.25),
    ]
    for x in (11.6, PAGE_WIDTH - 11.6):
        for y in (11.6, PAGE_HEIGHT - 11.6):
            out += [Frame(x - 2.6, y - 2.6, 5.2, 5.2, RED), Frame(x - 1.5, y - 1.5, 3.0, 3.0, GOLD)]
    return out


def clean(text: str) -> str:
    """NFC, single spaces, line breaks kept: what is printed, however the text was typed."""
    lines = (" ".join(line.split()) for line in nfc(text).splitlines())
    return "\n".join(line for line in lines if line)


def _column(x: float, width: float, top: float, bottom: float) -> Box:
    return x - width / 2, top, x + width / 2, bottom


def _line(text: str, x: float, y: float, size: float, weight: int, color: Color, box: Box, anchor: str = "center") -> Text:
    """One line that stays inside its box, shrunk if it must be."""
    room = box[2] - x if anchor == "left" else box[2] - box[0]
    size = shrink(size, room, em_width(text, weight))
    return Text(text, x, y, size, weight, color, anchor, em_width(text, weight) * size * PT, box)


def _block(
    text: str, x: float, y: float, size: float, weight: int, color: Color, box: Box, max_lines: int, smallest: float | None = None
) -> list[Text]:
    """Centred lines from baseline y, fitted to the box width by fit()."""
    lines, size = fit(text, weight, box[2] - box[0], size, max_lines, smallest)
    out: list[Text] = []
    for line in lines:
        if out:
            # Capitals with marks ("HẢI") under a line with dots below ("HỌC") need more than the usual leading.
            y += max(LINE_SPACING, ink(out[-1].text, weight)[1] + ink(line, weight)[0] + 0.1) * size * PT
        out.append(Text(line, x, y, size, weight, color, "center", em_width(line, weight) * size * PT, box))
    return out


def _fitted_picture(role: str, path: Path, x: float, y: float, width: float, height: float) -> Picture:
    """The image as large as fits width × height, centred on (x, y), its proportions kept."""
    w, h = _pixel_size(path)
    scale = min(width / w, height / h)
    return Picture(role, path, x - w * scale / 2, y - h * scale / 2, w * scale, h * scale)


@lru_cache(maxsize=64)
def _pixel_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as img:
        return img.size


def qr_modules(data: str) -> tuple[tuple[bool, ...], ...]:
    """The QR code for data (error correction M), dark modules True, without the quiet zone."""
    # Any mask gives a valid code; qrcode tries all 8 by the ISO penalty, 3.5 of a PDF's ~10 ms. For verify
    # URLs (versions 4-5, 300 random codes measured) mask 2 scores within 1 % of the best on average, and
    # decodes as reliably, blurred at 2-3 px a module.
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=2)
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())
