import pytest

from contest.i18n import InputError
from contest.people.phone import mask_phone, normalise_phone
from contest.people.service import Registration, identify, register
from contest.people.tables import Contestant


@pytest.mark.parametrize(
    "raw",
    ["0912345678", "0912 345 678", "+84 912 345 678", "+84912345678", "84912345678", "091.234.5678", "0084912345678"],
)
def test_vietnamese_phone_formats_normalise_to_the_national_form(raw: str) -> None:
    assert normalise_phone(raw) == "0912345678"


@pytest.mark.parametrize("raw", ["", "12345", "0012345678", "+1 415 555 0100", "abc", "09123456789999"])
def test_numbers_that_are_not_vietnamese_phones_are_refused(raw: str) -> None:
    assert normalise_phone(raw) is None


def test_public_pages_show_masked_phones() -> None:
    assert mask_phone("0912345678") == "09x****678"


async def test_registration_stores_clean_values_and_identifies_by_phone_and_birth_year(new_round) -> None:
    case = await new_round()
    cid = await register(
        case.contest_id,
        Registration("  nguyễn   văn  bình ", "+84 912 000 111", "1975", "31", "11560", "officials", True),
    )
    row = await Contestant.select().where(Contestant.id == cid).first()
    assert (row["full_name"], row["phone"], row["birth_year"], row["commune"]) == (
        "nguyễn văn bình",
        "0912000111",
        1975,
        11560,
    )
    assert await identify(case.contest_id, "0912 000 111", 1975) == cid
    with pytest.raises(InputError) as wrong_year:
        await identify(case.contest_id, "0912000111", 1976)
    assert wrong_year.value.errors == {"phone": "not_registered"}


async def test_bad_registration_reports_every_problem_in_vietnamese_and_stores_nothing(new_round) -> None:
    case = await new_round()
    before = await Contestant.count()
    with pytest.raises(InputError) as exc:
        await register(case.contest_id, Registration("A", "12345", "1890", "31", "99999999", "aliens", False))
    assert set(exc.value.errors) == {"full_name", "phone", "birth_year", "commune", "group", "consent"}
    texts = exc.value.messages("vi")
    assert texts["phone"].startswith("Số điện thoại không hợp lệ")
    assert "đồng ý" in texts["consent"]
    assert await Contestant.count() == before


async def test_one_registration_per_phone_per_contest(new_round) -> None:
    case = await new_round()
    other = await new_round()
    reg = Registration("Trần Thị Cúc", "0987654321", 1988, 31, 11560, "teachers", True)
    await register(case.contest_id, reg)
    with pytest.raises(InputError) as exc:
        await register(case.contest_id, reg)
    assert exc.value.errors == {"phone": "phone_taken"}
    assert await register(other.contest_id, reg)  # another contest is another registration


async def test_a_commune_of_another_province_is_refused(new_round) -> None:
    case = await new_round()
    with pytest.raises(InputError) as exc:
        await register(case.contest_id, Registration("Lê Văn Dũng", "0977000001", 1990, 1, 11560, "citizens", True))
    assert exc.value.errors == {"commune": "commune_invalid"}


async def test_a_contest_for_some_communes_and_groups_refuses_others(new_round) -> None:
    from contest.contests.tables import Contest

    case = await new_round()
    await Contest.update({Contest.communes: [11557], Contest.groups: ["students", "teachers"]}).where(
        Contest.id == case.contest_id
    )
    before = await Contestant.count()
    with pytest.raises(InputError) as exc:
        await register(case.contest_id, Registration("Đinh Văn Khoa", "0966000111", 2005, 31, 11560, "citizens", True))
    assert exc.value.errors == {"commune": "not_eligible_place", "group": "not_eligible_group"}
    assert await Contestant.count() == before
    assert await register(case.contest_id, Registration("Đinh Văn Khoa", "0966000111", 2005, 31, 11557, "students", True))
