"""A name on the boards is what it looks like: look-alike letters are folded to the plain ones (NFKC), letters that
show blank are refused with a message, and Vietnamese names with every tone mark are taken as typed."""

from __future__ import annotations

import unicodedata

import pytest

from contest.i18n import InputError
from contest.people.service import Registration, register
from contest.people.tables import Contestant

VIETNAMESE = [
    "Nguyễn Thị Ánh Tuyết",
    "Đặng Hữu Phước",
    "Lê Thị Ngọc Hằng",
    "Trần Văn Hiếu",
    "Phạm Thị Thủy Ơn",
    "Võ Thị Mỹ Dạ",
    "Hoàng Ưng Ẩn",
    "Bùi Thị Ẽ Ỹ",
]
BLANK = ["\u3164\u3164", "Lan \u3164", "\u115f\u1160", "\uffa0\uffa0\uffa0", "\u2800\u2800", "An\u200bBình", "\u00a0\u3000"]
LOOK_ALIKE = {
    "𝐍𝐠𝐮𝐲𝐞̂̃𝐧 𝐀𝐧": "Nguyễn An",  # mathematical bold (with combining marks)
    "Ｔｒầｎ Ｂìｎｈ": "Trần Bình",  # fullwidth
    "Lê\u00a0Văn\u3000Tám": "Lê Văn Tám",  # NBSP and an ideographic space
}


def reg(name: str, case, n: int) -> Registration:  # type: ignore[no-untyped-def]
    return Registration(name, f"09{case.round_id % 1000:03d}{n:05d}", 1990, 31, 11560, "citizens", True)


async def _stored(name: str, case, n: int) -> str:  # type: ignore[no-untyped-def]
    cid = await register(case.contest_id, reg(name, case, n))
    return (await Contestant.select(Contestant.full_name).where(Contestant.id == cid).first())["full_name"]


async def test_vietnamese_names_with_every_tone_mark_are_taken_as_typed(new_round) -> None:
    case = await new_round()
    for n, name in enumerate(VIETNAMESE):
        assert await _stored(name, case, n) == name
    # Decomposed (as some phones send): stored composed, the same name.
    assert await _stored(unicodedata.normalize("NFD", VIETNAMESE[0]), case, 50) == VIETNAMESE[0]


@pytest.mark.parametrize("name", BLANK, ids=[n.encode("unicode_escape").decode() for n in BLANK])
async def test_a_name_that_shows_blank_is_refused_with_a_message(new_round, name: str) -> None:
    case = await new_round()
    before = await Contestant.count()
    with pytest.raises(InputError) as refused:
        await register(case.contest_id, reg(name, case, 1))
    assert set(refused.value.errors) == {"full_name"}
    assert "họ và tên" in refused.value.messages("vi")["full_name"].lower()
    assert refused.value.messages("en")["full_name"].startswith(("A full name", "Please enter your full name"))
    assert await Contestant.count() == before


async def test_look_alike_letters_and_odd_spaces_are_stored_as_the_plain_name(new_round) -> None:
    case = await new_round()
    for n, (typed, plain) in enumerate(LOOK_ALIKE.items()):
        assert await _stored(typed, case, n) == plain


async def test_the_api_refuses_a_blank_name_in_the_callers_language(client, new_round) -> None:  # type: ignore[no-untyped-def]
    case = await new_round()
    body = {"full_name": "\u3164\u3164\u3164", "phone": "0934 111 222", "birth_year": 1990, "commune": 11560}
    body |= {"group": "citizens", "consent": True}
    vi = await client.post(f"/api/v1/contests/{case.slug}/register", json=body)
    en = await client.post(f"/api/v1/contests/{case.slug}/register", json=body, headers={"accept-language": "en"})
    assert vi.status_code == en.status_code == 422
    assert "ký tự ẩn" in vi.json()["errors"]["full_name"] and "invisible" in en.json()["errors"]["full_name"]
