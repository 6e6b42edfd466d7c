"""Duplicate-account signals: flagged for organisers to review, never deleted."""

from __future__ import annotations

from datetime import timedelta

from contest.people import duplicates
from contest.people.service import Registration, register
from contest.people.tables import Contestant
from contest.staff.tables import AuditEntry
from tests.factories import HAI_PHONG_COMMUNES
from tests.staff.test_signin import csrf_of, sign_in, staff


def groups_of(found: list[duplicates.DuplicateGroup], signal: str) -> dict[str, list[int]]:
    return {g.key: g.ids for g in found if g.signal == signal}


async def people_in(contest_id: int) -> int:
    return await Contestant.count().where(Contestant.contest == contest_id)


async def from_address(ids: list[int], ip: str, start, every: timedelta) -> None:  # type: ignore[no-untyped-def]
    for i, contestant_id in enumerate(ids):
        await Contestant.update({Contestant.registered_ip: ip, Contestant.created_at: start + every * i}).where(
            Contestant.id == contestant_id
        )


async def test_the_same_name_birth_year_and_commune_is_flagged_whatever_the_accents(new_round) -> None:
    case = await new_round()
    first = await case.contestant(1, name="Nguyễn Văn An")
    second = await case.contestant(2, name="NGUYEN  van an")
    await case.contestant(3, commune=HAI_PHONG_COMMUNES[1], name="Nguyễn Văn An")  # another commune
    await case.contestant(4, name="Nguyễn Văn Anh")  # another name
    same = groups_of(await duplicates.duplicate_groups(case.contest_id), "same_person")
    assert list(same.values()) == [sorted([first, second])]
    assert await people_in(case.contest_id) == 4


async def test_many_registrations_from_one_address_within_an_hour_are_flagged(new_round, clock) -> None:
    case = await new_round()
    burst = [await case.contestant(n, name=f"Người Thứ {name}") for n, name in enumerate("ABCDE", 1)]
    later = await case.contestant(6, name="Người Sau")
    calm = [await case.contestant(n, name=f"Người Khác {name}") for n, name in enumerate("ABCD", 7)]
    start = clock.current - timedelta(days=1)
    await from_address([*burst, later], "203.0.113.7", start, timedelta(minutes=12))
    await Contestant.update({Contestant.created_at: start + timedelta(hours=3)}).where(Contestant.id == later)
    await from_address(calm, "198.51.100.2", start, timedelta(minutes=10))
    found = groups_of(await duplicates.duplicate_groups(case.contest_id), "same_ip")
    assert found == {"203.0.113.7": sorted(burst)}  # five within the hour; four are not enough, nor one 3 hours on
    lower = groups_of(await duplicates.duplicate_groups(case.contest_id, ip_threshold=4), "same_ip")
    assert lower == {"203.0.113.7": sorted(burst), "198.51.100.2": sorted(calm)}
    assert await people_in(case.contest_id) == 10


async def test_one_phone_under_different_names_in_other_contests_is_flagged(new_round) -> None:
    here, there, elsewhere = await new_round(), await new_round(), await new_round()
    phone = f"0913{here.round_id % 1000:03d}777"
    kept = "0913" + f"{here.round_id % 1000:03d}" + "778"

    async def reg(contest_id: int, name: str, number: str) -> int:
        return await register(contest_id, Registration(name, number, 1990, 31, HAI_PHONG_COMMUNES[0], "citizens", True))

    mine = await reg(here.contest_id, "Trần Thị Bình", phone)
    theirs = await reg(there.contest_id, "Lê Văn Cường", phone)
    same_person = await reg(elsewhere.contest_id, "Tran Thi Binh", phone)
    await reg(here.contest_id, "Phạm Văn Dũng", kept)
    await reg(there.contest_id, "PHẠM VĂN DŨNG", kept)  # the same name: the same person, twice allowed
    found = await duplicates.duplicate_groups(here.contest_id)
    assert groups_of(found, "same_phone") == {phone: sorted([mine, theirs, same_person])}
    group = next(g for g in found if g.signal == "same_phone")
    assert {p["contest"] for p in group.people} == {here.contest_id, there.contest_id, elsewhere.contest_id}
    assert groups_of(await duplicates.duplicate_groups(there.contest_id), "same_phone") == {
        phone: sorted([mine, theirs, same_person])
    }


async def test_an_organiser_sees_the_groups_and_marks_one_reviewed_without_deleting_anyone(client, new_round) -> None:
    case = await new_round()
    first = await case.contestant(1, name="Vũ Thị Hoa")
    second = await case.contestant(2, name="Vu Thi Hoa")
    await sign_in(client, await staff("organiser"))
    index = await client.get("/staff/duplicates/")
    assert index.status_code == 200 and f"/staff/duplicates/{case.contest_id}" in index.text
    listing = await client.get(f"/staff/duplicates/{case.contest_id}")
    assert listing.status_code == 200 and "Vũ Thị Hoa" in listing.text and "Vu Thi Hoa" in listing.text
    assert "Trùng họ tên, năm sinh và xã/phường" in listing.text and "Đánh dấu đã xem xét" in listing.text
    group = next(g for g in await duplicates.duplicate_groups(case.contest_id) if g.signal == "same_person")
    done = await client.post(
        f"/staff/duplicates/{case.contest_id}/review",
        data={"_csrf_token": csrf_of(listing.text), "signal": "same_person", "key": group.key},
    )
    assert done.status_code in (302, 303)
    after = await client.get(f"/staff/duplicates/{case.contest_id}")
    assert "Đã xem xét bởi" in after.text and "Đánh dấu đã xem xét" not in after.text
    entry = (
        await AuditEntry.select().where(AuditEntry.action == duplicates.REVIEWED).order_by(AuditEntry.id, ascending=False).first()
    )
    assert entry["target"] == f"contest:{case.contest_id}"
    assert await people_in(case.contest_id) == 2
    assert {first, second} <= {row["id"] for row in await Contestant.select(Contestant.id)}
    # Someone new in the group: flagged again.
    third = await case.contestant(3, name="VŨ THỊ HOA")
    again = next(g for g in await duplicates.duplicate_groups(case.contest_id) if g.signal == "same_person")
    assert again.ids == sorted([first, second, third]) and not again.reviewed
    stale = await client.post(
        f"/staff/duplicates/{case.contest_id}/review",
        data={"_csrf_token": csrf_of(listing.text), "signal": "same_ip", "key": "nowhere"},
    )
    assert stale.status_code == 422 and "không còn dấu hiệu trùng" in stale.text


async def test_only_organisers_see_duplicate_signals(client, new_round) -> None:
    case = await new_round()
    anonymous = await client.get(f"/staff/duplicates/{case.contest_id}")
    assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/staff/login?next=")
    await sign_in(client, await staff("official", [HAI_PHONG_COMMUNES[0]]))
    assert (await client.get(f"/staff/duplicates/{case.contest_id}")).status_code == 403
    assert (await client.get("/staff/duplicates/")).status_code == 403
