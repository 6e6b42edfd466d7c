import pytest

from contest.attempts import starting
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


async def test_ticked_communes_narrow_their_province_in_the_form_the_api_and_at_the_start(client, new_round) -> None:
    """A province and some of its communes ticked: only those communes may register and start; the others are
    not offered anywhere (form, htmx picker, API), and a registration made before the narrowing cannot start."""
    from contest.contests.tables import Contest
    from tests.test_journey import csrf_of, register_by_form

    case = await new_round()
    others = await Contestant.raw("SELECT code FROM commune WHERE province = 31 AND code <> ALL({}) LIMIT 1", [11560, 11557])
    outside = others[0]["code"]
    early = await case.contestant(1, commune=outside)  # registered while the contest admitted everyone
    await Contest.update({Contest.provinces: [31], Contest.communes: [11560, 11557], Contest.groups: ["citizens"]}).where(
        Contest.id == case.contest_id
    )

    with pytest.raises(InputError) as exc:
        await register(case.contest_id, Registration("Đinh Văn Khoa", "0966000112", 1990, 31, outside, "citizens", True))
    assert exc.value.errors == {"commune": "not_eligible_place"}
    form = await client.get(f"/c/{case.slug}/register")
    assert 'value="11560"' in form.text and 'value="11557"' in form.text and f'value="{outside}"' not in form.text
    assert 'value="citizens"' in form.text and 'value="students"' not in form.text
    picker = await client.get(f"/communes?province=31&contest={case.slug}")
    assert 'value="11560"' in picker.text and f'value="{outside}"' not in picker.text
    assert f'value="{outside}"' in (await client.get("/communes?province=31")).text  # the plain list stays whole
    api = (await client.get(f"/api/v1/contests/{case.slug}/provinces/31/communes")).json()
    assert sorted(c["code"] for c in api) == [11557, 11560]
    assert [p["code"] for p in (await client.get(f"/api/v1/contests/{case.slug}/provinces")).json()] == [31]
    assert (await client.get(f"/api/v1/contests/{case.slug}")).json()["groups"] == ["citizens"]

    refused = await register_by_form(client, case.slug, commune=str(outside), phone="0966 000 113")
    assert refused.status_code == 422 and "không thuộc phạm vi cuộc thi" in refused.text
    sent = await client.post(
        f"/api/v1/contests/{case.slug}/register",
        json={"full_name": "Đinh Văn Khoa", "phone": "0966000114", "birth_year": 1990, "province": 31,
              "commune": outside, "group": "citizens", "consent": True},
    )  # fmt: skip
    assert sent.status_code == 422 and "không thuộc phạm vi cuộc thi" in sent.json()["errors"]["commune"]
    with pytest.raises(InputError) as late:
        await starting.start_attempt(early, case.round_id)
    assert late.value.errors == {"round": "not_eligible_place"}
    assert "phạm vi cuộc thi" in late.value.messages("vi")["round"]

    done = await register_by_form(client, case.slug, commune="11557")
    assert done.status_code == 200 and "Bắt đầu thi" in done.text
    started = await client.post(f"/rounds/{case.round_id}/start", data={"_csrf_token": csrf_of(done.text)})
    assert started.status_code in (302, 303)


async def test_a_province_with_none_of_its_communes_ticked_admits_them_all(new_round) -> None:
    from contest.contests.tables import Contest

    case = await new_round()
    await Contest.update({Contest.provinces: [31]}).where(Contest.id == case.contest_id)
    assert await register(case.contest_id, Registration("Đinh Văn Khoa", "0966000121", 1990, 31, 11560, "citizens", True))
    assert await register(case.contest_id, Registration("Đinh Văn Khoa", "0966000122", 1990, 31, 11557, "youth", True))
