"""A contest's look: the organiser's logo and colours (checked), its stylesheet, the printable rules page, and the share
card a contestant gets when they finish."""

from __future__ import annotations

import io
import json
import re
import unicodedata

import pytest
from PIL import Image

from contest.attempts.tables import Attempt
from contest.contests import look, share
from contest.contests.tables import Contest
from contest.i18n import InputError
from contest.settings import get_settings
from contest.uploads import store_image
from tests.contests.test_builder import new_contest, organiser
from tests.factories import answer
from tests.security.test_headers import inline_code
from tests.staff.test_signin import csrf_of
from tests.test_journey import register_by_form


def png(size: tuple[int, int], colour: tuple[int, ...] = (11, 79, 138, 255), margin: int = 0) -> bytes:
    """A logo: a coloured block on a transparent field (margin pixels each side)."""
    img = Image.new("RGBA", (size[0] + 2 * margin, size[1] + 2 * margin), (0, 0, 0, 0))
    img.paste(Image.new("RGBA", size, colour), (margin, margin))
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


async def post_look(client, contest_id: int, logo: bytes | None = None, name: str = "logo.png", **colours: str):  # type: ignore[no-untyped-def]
    page = await client.get(f"/staff/contests/{contest_id}")
    files = {"logo": (name, logo, "image/png")} if logo is not None else {"logo": ("", b"", "application/octet-stream")}
    data = {"_csrf_token": csrf_of(page.text), "brand_primary": "", "brand_accent": "", **colours}
    return await client.post(f"/staff/contests/{contest_id}/look", data=data, files=files)


async def published_contest(client) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    await organiser(client)
    contest_id = await new_contest(client)
    page = await client.get(f"/staff/contests/{contest_id}")
    await client.post(f"/staff/contests/{contest_id}/publish", data={"_csrf_token": csrf_of(page.text), "published": "yes"})
    row = await Contest.select(Contest.slug).where(Contest.id == contest_id).first()
    return contest_id, row["slug"]


def test_contrast_is_measured_the_wcag_way() -> None:
    assert look.contrast_with_white("#ffffff") == pytest.approx(1.0)
    assert look.contrast_with_white("#000000") == pytest.approx(21.0)
    assert look.contrast_with_white("#767676") >= 4.5 > look.contrast_with_white("#777777")
    assert look.read_colour(" #0B4F8A ", "brand_primary") == "#0b4f8a"
    assert look.read_colour("036", "brand_primary") == "#003366"
    assert look.read_colour("", "brand_primary") is None
    with pytest.raises(InputError) as refused:
        look.read_colour("#777777", "brand_accent")
    assert refused.value.messages()["brand_accent"] == (
        "Màu #777777 quá sáng: chữ trắng trên nền màu này chỉ đạt độ tương phản 4,47:1, cần tối thiểu 4,5:1 "
        "để người xem dễ đọc. Hãy chọn màu đậm hơn."
    )


async def test_colours_too_light_for_white_text_are_refused_and_nothing_is_saved(client) -> None:
    contest_id, slug = await published_contest(client)
    light = await post_look(client, contest_id, png((200, 100)), brand_primary="#FFCC00", brand_accent="#0b4f8a")
    assert light.status_code == 422
    assert "Màu #ffcc00 quá sáng" in light.text and "cần tối thiểu 4,5:1" in light.text
    assert 'id="brand_primary" name="brand_primary" maxlength="7" placeholder="#0B4F8A" value="#FFCC00"' in light.text
    garbled = await post_look(client, contest_id, brand_accent="xanh")
    assert garbled.status_code == 422 and "Mã màu “xanh” không hợp lệ" in garbled.text
    row = await Contest.select(Contest.logo, Contest.brand_primary, Contest.brand_accent).where(Contest.id == contest_id).first()
    assert row == {"logo": None, "brand_primary": None, "brand_accent": None}, "a refused form writes nothing, the logo neither"

    saved = await post_look(client, contest_id, brand_primary="#0B4F8A", brand_accent="#8a5a00")
    assert saved.status_code == 302
    row = await Contest.select(Contest.brand_primary, Contest.brand_accent).where(Contest.id == contest_id).first()
    assert row == {"brand_primary": "#0b4f8a", "brand_accent": "#8a5a00"}


async def test_a_bad_logo_is_refused_and_a_good_one_is_cleaned_and_shown(client) -> None:
    contest_id, slug = await published_contest(client)
    text = await post_look(client, contest_id, b"<svg onload=alert(1)></svg>", name="logo.svg")
    assert text.status_code == 422 and "Tệp logo không phải là ảnh hợp lệ" in text.text
    tiny = await post_look(client, contest_id, png((20, 20)))
    assert tiny.status_code == 422 and "Logo quá nhỏ: cần ít nhất 48 điểm ảnh" in tiny.text
    blank = await post_look(client, contest_id, png((100, 100), (0, 0, 0, 0)))
    assert blank.status_code == 422 and "Logo không có nội dung" in blank.text
    assert (await Contest.select(Contest.logo).where(Contest.id == contest_id).first())["logo"] is None

    assert (await post_look(client, contest_id, png((900, 300), margin=100))).status_code == 302
    name = (await Contest.select(Contest.logo).where(Contest.id == contest_id).first())["logo"]
    assert name and name.endswith(".webp")
    stored = Image.open(get_settings().media_dir / name)
    assert stored.format == "WEBP" and stored.size == (256, 85), "transparent margins trimmed, downscaled"
    page = await client.get(f"/c/{slug}")
    assert f'<img src="/media/{name}" alt="Biểu trưng của Ban tổ chức">' in page.text
    assert (await client.get(f"/media/{name}")).status_code == 200

    page = await client.get(f"/staff/contests/{contest_id}")
    removed = await client.post(
        f"/staff/contests/{contest_id}/look",
        data={"_csrf_token": csrf_of(page.text), "remove_logo": "1"},
        files={"logo": ("", b"", "application/octet-stream")},
    )
    assert removed.status_code == 302
    assert (await Contest.select(Contest.logo).where(Contest.id == contest_id).first())["logo"] is None


async def test_the_contest_pages_take_their_colours_from_a_cached_stylesheet_not_inline_styles(client) -> None:
    contest_id, slug = await published_contest(client)
    plain = await client.get(f"/c/{slug}/theme.css")
    assert plain.status_code == 200 and "--brand" not in plain.text and ".contest-head" in plain.text
    assert (await post_look(client, contest_id, brand_primary="#0b4f8a")).status_code == 302

    css = await client.get(f"/c/{slug}/theme.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert ":root{--brand:#0b4f8a;--brand-accent:#0b4f8a}" in css.text and ".top,.button" in css.text
    assert css.headers["cache-control"] == "public, max-age=300" and css.headers["etag"] != plain.headers["etag"]
    fresh = await client.get(f"/c/{slug}/theme.css", headers={"if-none-match": css.headers["etag"]})
    assert fresh.status_code == 304 and fresh.content == b""

    page = await client.get(f"/c/{slug}")
    linked = re.search(rf'<link rel="stylesheet" href="(/c/{slug}/theme\.css\?v=\w+)">', page.text)
    assert linked and inline_code(page.text) == []
    # Every page that wears the contest's colours links the same fingerprinted address (the registration form too).
    from contest.practice.tables import PracticeSet

    practice = await PracticeSet.insert(
        PracticeSet(title="Luyện tập", quotas=json.dumps({"online_safety": 1}), contest=contest_id, published=True)
    ).returning(PracticeSet.id)
    for other in (f"/c/{slug}/the-le", f"/c/{slug}/register", f"/practice/{practice[0]['id']}"):
        assert linked.group(1) in (await client.get(other)).text, other
    # The address the page gives is fingerprinted: cached for a year like /static, with one charset.
    versioned = await client.get(linked.group(1))
    assert versioned.text == css.text and versioned.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert versioned.headers["content-type"] == "text/css; charset=utf-8"
    stale = await client.get(f"/c/{slug}/theme.css?v=0ld")
    assert stale.headers["cache-control"] == "public, max-age=300"
    assert (await client.get("/c/no-such-contest/theme.css")).status_code == 404
    await Contest.update({Contest.published: False}).where(Contest.id == contest_id)
    assert (await client.get(f"/c/{slug}/theme.css")).status_code == 404


async def test_the_rules_page_shows_the_rules_and_prints_as_a_clean_document(client) -> None:
    contest_id, slug = await published_contest(client)
    rules = "Điều 1. Đối tượng dự thi\nMọi công dân từ 15 tuổi.\n\nĐiều 2. Cách thức thi\nMỗi tuần thi tối đa 2 lượt."
    await Contest.update({Contest.rules: unicodedata.normalize("NFC", rules)}).where(Contest.id == contest_id)
    page = await client.get(f"/c/{slug}/the-le")
    assert page.status_code == 200 and inline_code(page.text) == []
    assert "<p>Điều 1. Đối tượng dự thi\nMọi công dân từ 15 tuổi.</p>" in page.text
    assert "<p>Điều 2. Cách thức thi\nMỗi tuần thi tối đa 2 lượt.</p>" in page.text
    assert "Thể lệ cuộc thi" in page.text and f"/c/{slug}/the-le" in page.text and "In thể lệ" in page.text
    stylesheet = re.search(r'href="(/static/rules\.[0-9a-f]{12}\.css)"', page.text)
    assert stylesheet
    css = (await client.get(stylesheet.group(1))).text
    assert "@media print" in css and ".top,.foot,.no-print{display:none!important}" in css and "@page{size:A4" in css
    assert f'href="/c/{slug}/the-le"' in (await client.get(f"/c/{slug}")).text
    assert (await client.get("/c/no-such-contest/the-le")).status_code == 404


async def _finished_attempt(client, new_round, **fields: str) -> tuple[int, int, str]:  # type: ignore[no-untyped-def]
    case = await new_round()
    home = await register_by_form(client, case.slug, **fields)
    started = await client.post(f"/rounds/{case.round_id}/start", data={"_csrf_token": csrf_of(home.text)}, follow_redirects=True)
    attempt_id = int(re.search(r"/attempts/(\d+)/submit", started.text).group(1))
    me = (await Attempt.select(Attempt.contestant).where(Attempt.id == attempt_id).first())["contestant"]
    await answer(attempt_id, me, 3)
    await client.post(f"/attempts/{attempt_id}/submit", data={"_csrf_token": csrf_of(started.text)})
    return attempt_id, case.contest_id, case.slug


async def test_a_finished_contestant_gets_a_share_card_in_the_contests_look_and_nobody_else_does(
    client, new_round, worker, app
) -> None:
    from tests.conftest import client_for

    # A decomposed name (as some phones send it) still prints as proper Vietnamese.
    name = unicodedata.normalize("NFD", "Ngô Thị Mai")
    attempt_id, contest_id, slug = await _finished_attempt(client, new_round, full_name=name, phone="0905 311 402")
    assert (await client.get(f"/attempts/{attempt_id}/share.png")).status_code == 404  # not scored yet
    logo = store_image(look.prepare_logo(png((300, 300), (180, 18, 27, 255))))
    await Contest.update({Contest.brand_primary: "#0b4f8a", Contest.brand_accent: "#8a5a00", Contest.logo: logo}).where(
        Contest.id == contest_id
    )
    worker()

    result = await client.get(f"/attempts/{attempt_id}/result")
    assert f'<meta property="og:image" content="{get_settings().public_url}/attempts/{attempt_id}/share.png">' in result.text
    assert '<meta property="og:image:width" content="1200">' in result.text and "Chia sẻ ảnh kết quả" in result.text
    assert re.search(rf'<link rel="stylesheet" href="/c/{slug}/theme\.css\?v=\w+">', result.text)  # fingerprinted
    assert inline_code(result.text) == []

    card = await client.get(f"/attempts/{attempt_id}/share.png")
    assert card.status_code == 200 and card.headers["content-type"] == "image/png"
    assert card.headers["cache-control"] == "private, max-age=3600"
    image = Image.open(io.BytesIO(card.content))
    assert image.format == "PNG" and image.size == (1200, 630)
    description = image.text["Description"]
    assert unicodedata.is_normalized("NFC", description) and unicodedata.is_normalized("NFC", image.text["Title"])
    assert description.startswith("Ngô T. M. (Phường Thuỷ Nguyên): 3/4 câu đúng")
    rgb = image.convert("RGB")
    assert rgb.getpixel((5, 5)) == (11, 79, 138), "the band is the contest's primary colour"
    assert rgb.getpixel((5, 225)) == (138, 90, 0), "the stripe is its accent"
    logo_pixel = rgb.getpixel((135, 110))
    assert all(abs(a - b) <= 8 for a, b in zip(logo_pixel, (180, 18, 27), strict=True)), "the logo sits in the band"

    # Cached on disk, in the private storage (never under /media), and served from there the second time.
    cached = list((get_settings().storage_dir / "share").glob(f"{attempt_id}-*.png"))
    assert len(cached) == 1 and cached[0].read_bytes() == card.content
    stamp = cached[0].stat().st_mtime_ns
    assert (await client.get(f"/attempts/{attempt_id}/share.png")).content == card.content
    assert cached[0].stat().st_mtime_ns == stamp
    # A new look makes a new card, and the old file goes.
    await Contest.update({Contest.brand_primary: "#5a1a8a"}).where(Contest.id == contest_id)
    redrawn = await client.get(f"/attempts/{attempt_id}/share.png")
    assert redrawn.content != card.content and not cached[0].exists()

    async with client_for(app) as stranger:
        assert (await stranger.get(f"/attempts/{attempt_id}/share.png")).status_code == 401
        await _finished_attempt(stranger, new_round, phone="0905 311 403")
        assert (await stranger.get(f"/attempts/{attempt_id}/share.png")).status_code == 404


def test_the_card_reads_the_same_from_decomposed_or_composed_text() -> None:
    composed = share.Card(
        "Cuộc thi “Công dân số” Hải Phòng", "Tuần 1", "Nguyễn V. Ả.", "Đặc khu Bạch Long Vĩ", 9, 10, "#0b4f8a", "#8a5a00"
    )
    decomposed = share.Card(
        *(
            unicodedata.normalize("NFD", v)
            for v in (composed.contest_title, composed.round_title, composed.name, composed.commune)
        ),
        9,
        10,
        "#0b4f8a",
        "#8a5a00",
    )
    assert decomposed != composed and decomposed.normalised() == composed
    assert share.render(decomposed) == share.render(composed)
