"""Certificates as people get them: Vietnamese names printed right, long text fitting, a QR code that scans."""

from __future__ import annotations

import datetime
import io
import re
import struct
import unicodedata
import zlib
from dataclasses import replace
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image, ImageDraw
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont

from contest.certificates.fonts import WEIGHTS, em_width, font_path
from contest.certificates.layout import LABELS, NAVY, PAGE_HEIGHT, PAGE_WIDTH, PRINTABLE, Text, face_layout
from contest.certificates.render import Design, Face, layout, prepare_design_image, render_pdf, render_png
from contest.i18n import InputError, message

DESIGN = Design(
    issuer="ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG",
    place="Hải Phòng",
    signer_name="Nguyễn Văn Tùng",
    signer_title="CHỦ TỊCH",
    wording="",
    background=None,
    seal=None,
    signature=None,
    version="test",
)
URL = "http://127.0.0.1:8000/verify/0123456789abcdef0123"
FACE = Face(
    kind="participation",
    code="0123456789abcdef0123",
    holder="Nguyễn Thị Hồng Nhung",
    commune="Phường Hồng Bàng",
    contest_title="Cuộc thi trực tuyến “Công dân số Hải Phòng – sử dụng thông minh, sống an toàn”",
    round_title="Tuần thi thứ 1",
    prize=None,
    detail="Đạt 10/12 câu đúng",
    issued_on=datetime.date(2026, 11, 22),
    verify_url=URL,
)
LONG_NAME = "Công Tằng Tôn Nữ Thị Phương Thảo Nguyễn Hoàng Bảo Ngọc Trâm Anh"
LONG_TITLE = (
    "Cuộc thi trực tuyến tìm hiểu về chuyển đổi số, chính quyền số, kinh tế số và xã hội số dành cho cán bộ, "
    "công chức, viên chức, đoàn viên, hội viên và toàn thể Nhân dân trên địa bàn thành phố Hải Phòng năm 2026"
)[:199] + "."

TONES = "\u0301\u0300\u0309\u0303\u0323"  # sắc, huyền, hỏi, ngã, nặng
VOWELS = "aăâeêioôơuưy"


def vietnamese_letters(decomposed: bool = False) -> list[str]:
    """Every vowel in both cases, bare and with each of the five tones, plus đ and Đ."""
    letters = ["đ", "Đ"]
    for vowel in VOWELS:
        for base in (vowel, vowel.upper()):
            letters += [base, *(base + tone for tone in TONES)]
    form = "NFD" if decomposed else "NFC"
    return [unicodedata.normalize(form, letter) for letter in letters]


def texts(design: Design, face: Face) -> list[Text]:
    return [e for e in layout(design, face) if isinstance(e, Text)]


def pdf_text(pdf: bytes) -> list[str]:
    """The strings an uncompressed reportlab PDF shows, decoded through each font's ToUnicode map."""
    objects = dict(re.findall(rb"\n(\d+) 0 obj\n(.*?)\nendobj", pdf, re.S))
    to_unicode: dict[bytes, dict[int, str]] = {}
    for body in objects.values():
        name, cmap = re.search(rb"/Name /(\S+)", body), re.search(rb"/ToUnicode (\d+) 0 R", body)
        if name and cmap:
            pairs = re.findall(rb"<([0-9A-F]{2})> <([0-9A-F]{4,})>", objects[cmap.group(1)])
            to_unicode[name.group(1)] = {int(code, 16): bytes.fromhex(char.decode()).decode("utf-16-be") for code, char in pairs}
    shown, font = [], b""
    for match in re.finditer(rb"/(\S+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", pdf):
        if match.group(1):
            font = match.group(1)
            continue
        raw = re.sub(rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m[1], 8)]) if m[1][:1].isdigit() else m[1], match.group(2))
        shown.append("".join(to_unicode[font][code] for code in raw))
    return shown


def decode_qr(png: bytes) -> list[str]:
    return [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def image_bytes(size: tuple[int, int], fmt: str, color: tuple[int, ...] = (200, 180, 120), mode: str = "RGB") -> bytes:
    img = Image.new(mode, size, color)
    ImageDraw.Draw(img).ellipse(
        (size[0] // 4, size[1] // 4, size[0] * 3 // 4, size[1] * 3 // 4), fill=(170, 20, 30, 255)[: len(mode)]
    )
    out = io.BytesIO()
    img.save(out, format=fmt)
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A small PNG that claims width × height pixels: what a decompression bomb looks like to a header check."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + chunk(b"IEND", b"")


# --------------------------------------------------------------------------- Vietnamese text


def test_every_vietnamese_letter_has_a_real_glyph_in_every_weight():
    assert all(unicodedata.is_normalized("NFC", label) for label in LABELS.values())
    letters = vietnamese_letters()
    assert len(letters) == 2 + 12 * 2 * 6 and all(len(letter) == 1 for letter in letters)  # NFC: one code point each
    for weight in WEIGHTS:
        glyphs = TTFont(f"check-{weight}", str(font_path(weight))).face.charToGlyph
        missing = [letter for letter in letters if glyphs.get(ord(letter), 0) == 0]
        assert not missing, f"weight {weight} prints boxes for {missing}"


def test_a_name_typed_decomposed_prints_exactly_like_the_precomposed_one():
    precomposed = " ".join(vietnamese_letters())
    decomposed = " ".join(vietnamese_letters(decomposed=True))
    assert precomposed != decomposed
    one, other = replace(FACE, holder=precomposed), replace(FACE, holder=decomposed)
    assert render_png(DESIGN, one) == render_png(DESIGN, other)
    assert render_pdf(DESIGN, one) == render_pdf(DESIGN, other)
    decomposed_name = unicodedata.normalize("NFD", "Nguyễn Thị Hồng Nhung")
    assert render_png(DESIGN, replace(FACE, holder=decomposed_name)) == render_png(DESIGN, FACE)


def test_the_pdf_carries_the_name_as_nfc_text_a_reader_can_copy():
    name = unicodedata.normalize("NFD", "Đặng Thị Ngọc Ánh Ưng Ỷ Quỳnh")
    shown = pdf_text(render_pdf(DESIGN, replace(FACE, holder=name), compress=False))
    assert "Đặng Thị Ngọc Ánh Ưng Ỷ Quỳnh" in shown
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in shown and "Độc lập - Tự do - Hạnh phúc" in shown
    every = " ".join(vietnamese_letters())
    assert " ".join(pdf_text(render_pdf(DESIGN, replace(FACE, holder=every), compress=False))).count(every[:20]) == 1


def test_the_pdf_and_the_png_measure_text_alike():
    pdfmetrics.registerFont(TTFont("measure-700", str(font_path(700))))
    for text in (LONG_NAME, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", " ".join(vietnamese_letters())):
        assert em_width(text, 700) * 1000 == pytest.approx(pdfmetrics.stringWidth(text, "measure-700", 1000), rel=1e-3)


# --------------------------------------------------------------------------- fitting


def assert_everything_fits(design: Design, face: Face) -> list[Text]:
    lines = texts(design, face)
    for element in layout(design, face):
        left, top, right, bottom = element.bounds()
        if (left, top, right, bottom) == (0, 0, PAGE_WIDTH, PAGE_HEIGHT):
            continue  # the paper itself: cream or the organiser's background
        assert PRINTABLE[0] <= left and right <= PRINTABLE[2] and PRINTABLE[1] <= top and bottom <= PRINTABLE[3], element
    for line in lines:
        left, top, right, bottom = line.bounds()
        box = line.box
        assert box[0] - 0.01 <= left and right <= box[2] + 0.01 and box[1] <= top and bottom <= box[3], line
    for i, a in enumerate(lines):
        for b in lines[i + 1 :]:
            (al, at, ar, ab), (bl, bt, br, bb) = a.bounds(), b.bounds()
            assert ar <= bl or br <= al or ab <= bt or bb <= at, f"{a.text!r} overlaps {b.text!r}"
    return lines


def test_a_usual_name_stays_big_on_one_line():
    name = [t for t in assert_everything_fits(DESIGN, FACE) if t.color == NAVY]
    assert [t.text for t in name] == ["Nguyễn Thị Hồng Nhung"] and name[0].size == 34


def test_a_very_long_name_shrinks_then_wraps_to_two_lines_inside_the_page():
    name = [t for t in assert_everything_fits(DESIGN, replace(FACE, holder=LONG_NAME)) if t.color == NAVY]
    assert len(name) == 2 and " ".join(t.text for t in name) == LONG_NAME
    assert {t.size for t in name} == {24}  # the smallest size before wrapping, not a squeezed line
    medium = [t for t in texts(DESIGN, replace(FACE, holder="Tôn Nữ Thị Phương Thảo Nguyễn Hoàng Bảo")) if t.color == NAVY]
    assert len(medium) == 1 and 24 <= medium[0].size < 34  # shrunk, still one line


def test_a_200_character_contest_title_wraps_to_three_lines_and_everything_still_fits():
    assert len(LONG_TITLE) == 200
    for kind, prize in (("participation", None), ("prize", "Giải Khuyến khích"), ("collective", None)):
        face = replace(FACE, kind=kind, prize=prize, contest_title=LONG_TITLE, holder=LONG_NAME)
        lines = assert_everything_fits(replace(DESIGN, wording="Đã hoàn thành xuất sắc vòng thi " * 4), face)
        title = [t for t in lines if t.text in LONG_TITLE and t.weight == 700 and len(t.text) > 30]
        assert len(title) == 3 and " ".join(t.text for t in title) == LONG_TITLE


def test_long_issuer_place_and_signer_title_fit_their_columns():
    design = replace(
        DESIGN,
        issuer="Sở Khoa học và Công nghệ thành phố Hải Phòng - Ban Chỉ đạo chuyển đổi số",
        place="Thành phố Hải Phòng",
        signer_title="KT. TRƯỞNG BAN TỔ CHỨC\nPHÓ TRƯỞNG BAN THƯỜNG TRỰC",
        signer_name="Công Tằng Tôn Nữ Thị Phương Thảo",
    )
    lines = assert_everything_fits(design, FACE)
    assert "KT. TRƯỞNG BAN TỔ CHỨC" in [t.text for t in lines]  # the organiser's line break is kept


# --------------------------------------------------------------------------- what each kind says


def test_each_kind_has_its_title_and_a_prize_its_line():
    def said(face: Face) -> list[str]:
        return [t.text for t in face_layout(DESIGN, face) if isinstance(t, Text)]

    assert "GIẤY CHỨNG NHẬN" in said(FACE) and "Đã tham gia và hoàn thành" in said(FACE)
    prize = said(replace(FACE, kind="prize", prize="Giải Nhất"))
    assert prize[:2] == ["GIẤY CHỨNG NHẬN", "GIẢI NHẤT"]
    collective = said(replace(FACE, kind="collective", holder="Phường Lê Chân", commune=""))
    assert collective[0] == "GIẤY KHEN" and "Phường Lê Chân" in collective
    assert "Hải Phòng, ngày 22 tháng 11 năm 2026" in said(FACE)
    assert "Hải Phòng, ngày 05 tháng 02 năm 2026" in said(replace(FACE, issued_on=datetime.date(2026, 2, 5)))
    assert "Mã số: 0123-4567-89AB-CDEF-0123" in said(FACE)
    assert "Ngày 22 tháng 11 năm 2026" in [t.text for t in face_layout(replace(DESIGN, place=""), FACE) if isinstance(t, Text)]


# --------------------------------------------------------------------------- files


def test_the_qr_code_in_the_png_opens_the_verify_page():
    assert decode_qr(render_png(DESIGN, FACE)) == [URL]
    other = "https://chuyendoiso.haiphong.gov.vn/verify/ffffeeeeddddccccbbbb"
    assert decode_qr(render_png(DESIGN, replace(FACE, verify_url=other), dpi=300)) == [other]


def test_the_pdf_is_one_a4_landscape_page():
    pdf = render_pdf(DESIGN, FACE)
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert re.search(rb"/Count 1\b", pdf)
    box = re.search(rb"/MediaBox \[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert (
        box and float(box.group(1)) == pytest.approx(841.89, abs=0.01) and float(box.group(2)) == pytest.approx(595.28, abs=0.01)
    )


@pytest.mark.parametrize(("dpi", "size"), [(150, (1754, 1240)), (300, (3508, 2480))])
def test_the_png_has_the_size_of_a4_at_its_dpi(dpi: int, size: tuple[int, int]):
    img = Image.open(io.BytesIO(render_png(DESIGN, FACE, dpi=dpi)))
    assert img.format == "PNG" and img.size == size


# --------------------------------------------------------------------------- organisers' images


def gif() -> bytes:
    return image_bytes((1200, 900), "GIF")


def too_many_bytes() -> bytes:
    return image_bytes((100, 100), "PNG") + b"\0" * (5 * 1024 * 1024)


def truncated() -> bytes:
    img = Image.effect_noise((1400, 1100), 60).convert("RGB")
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()[: len(out.getvalue()) // 2]


@pytest.mark.parametrize(
    ("make", "role", "code"),
    [
        (lambda: b"Xin chao, day khong phai anh", "background", "design_image_invalid"),
        (lambda: b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n", "seal", "design_image_invalid"),
        (gif, "background", "design_image_invalid"),
        (lambda: image_bytes((1200, 900), "BMP"), "signature", "design_image_invalid"),
        (too_many_bytes, "background", "image_too_large"),
        (lambda: png_header_only(50_000, 50_000), "background", "image_too_large"),
        (lambda: png_header_only(7000, 7000), "seal", "image_too_large"),
        (lambda: image_bytes((1200, 800), "JPEG"), "background", "design_background_too_small"),
        (truncated, "background", "design_image_invalid"),
        (lambda: _white(), "seal", "design_image_blank"),
    ],
    ids=["text", "pdf", "gif", "bmp", "over-5-mb", "bomb", "over-40-mp", "tiny-background", "truncated", "blank-seal"],
)
def test_a_bad_certificate_image_is_refused_with_a_clear_message(make, role: str, code: str):
    with pytest.raises(InputError) as refused:
        prepare_design_image(make(), role)
    assert refused.value.errors == {"image": code}
    for lang in ("vi", "en"):
        text = message(code, lang, **refused.value.params)
        assert text != code and "{" not in text


def _white() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (600, 600), (250, 250, 250)).save(out, format="PNG")
    return out.getvalue()


def test_a_background_becomes_an_a4_print_jpeg_without_metadata():
    source = Image.new("RGB", (2000, 2000), (30, 90, 160))
    exif = Image.Exif()
    exif[0x010F] = "Camera maker"
    out = io.BytesIO()
    source.save(out, format="JPEG", exif=exif.tobytes(), comment=b"secret")
    prepared = Image.open(io.BytesIO(prepare_design_image(out.getvalue(), "background")))
    assert prepared.format == "JPEG" and prepared.size == (3508, 2480) and prepared.mode == "RGB"
    assert "exif" not in prepared.info and "comment" not in prepared.info


def test_a_seal_keeps_its_transparency_and_loses_its_empty_border():
    seal = Image.new("RGBA", (900, 900), (0, 0, 0, 0))
    ImageDraw.Draw(seal).ellipse((200, 200, 700, 700), outline=(200, 20, 30, 255), width=30)
    out = io.BytesIO()
    seal.save(out, format="PNG")
    prepared = Image.open(io.BytesIO(prepare_design_image(out.getvalue(), "seal")))
    assert prepared.format == "PNG" and prepared.mode == "RGBA" and prepared.size == (501, 501)
    assert prepared.getpixel((0, 250))[3] > 200 and prepared.getpixel((250, 250))[3] == 0


def test_a_seal_scanned_on_white_paper_gets_a_transparent_background():
    prepared = Image.open(io.BytesIO(prepare_design_image(image_bytes((1600, 1600), "JPEG", (252, 252, 250)), "seal")))
    assert prepared.mode == "RGBA" and max(prepared.size) <= 1200
    assert prepared.getpixel((0, 0))[3] == 0  # the paper around the ink is gone
    assert prepared.getpixel((prepared.width // 2, prepared.height // 2))[3] == 255


def test_a_design_with_background_seal_and_signature_renders_and_scans(tmp_path: Path):
    background = Image.linear_gradient("L").resize((3000, 2100)).convert("RGB")
    out = io.BytesIO()
    background.point(lambda v: 200 + v // 5).save(out, format="JPEG")
    files = {}
    for role, data in (
        ("background", out.getvalue()),
        ("seal", image_bytes((800, 800), "PNG", (0, 0, 0, 0), "RGBA")),
        ("signature", image_bytes((900, 400), "PNG", (255, 255, 255), "RGB")),
    ):
        path = tmp_path / f"{role}.{'jpg' if role == 'background' else 'png'}"
        path.write_bytes(prepare_design_image(data, role))
        files[role] = path
    design = replace(DESIGN, version="with-images", **files)
    pdf = render_pdf(design, FACE)
    # Over a background, seal and signature are painted into the one print-resolution background image.
    assert pdf.count(b"/Subtype /Image") == 1
    # Without one they stay images of their own with their alpha masks.
    assert render_pdf(replace(design, background=None), FACE).count(b"/Subtype /Image") == 4
    assert render_pdf(design, FACE) == pdf  # the second one comes from the per-process image cache
    assert decode_qr(render_png(design, FACE)) == [URL]
    assert_everything_fits(design, FACE)
