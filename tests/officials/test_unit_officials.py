"""An official bound to units of a contest with its own units sees those units' dashboards only."""

from __future__ import annotations

from contest.people.tables import unit_code
from contest.staff.tables import Staff, StaffUnit
from tests.leaderboard.test_collective import kick_and_score
from tests.leaderboard.test_public_boards import take
from tests.leaderboard.test_units import member, unit_contest
from tests.staff.test_signin import csrf_of, sign_in, staff


async def test_a_unit_official_sees_only_their_unit(client, new_round, clock, worker) -> None:
    case, ids = await unit_contest(new_round, per_topic=1)
    mine, theirs = unit_code(ids["VP-HC"]), unit_code(ids["TCBC"])
    hoa = await member(case, 1, ids["VP-HC"])
    other = await member(case, 2, ids["TCBC"])
    await take(case.round_id, hoa, 3)
    await take(case.round_id, other, 2)
    await kick_and_score(worker)
    await sign_in(client, await staff("official", [mine]))

    home = await client.get("/staff/officials/")
    assert home.status_code == 302 and home.headers["location"].startswith(f"/staff/officials/communes/{mine}")
    page = await client.get(f"/staff/officials/communes/{mine}")  # the unit's own contest, without asking
    assert page.status_code == 200 and "Phòng Hành chính" in page.text
    assert f"0913{case.round_id % 1000:03d}001" in page.text  # their own contestant, in full
    assert f"0913{case.round_id % 1000:03d}002" not in page.text
    assert "hạng 1/4" in page.text and "đơn vị" in page.text
    summary = (await client.get(f"/staff/officials/api/communes/{mine}/summary")).json()
    assert (summary["registered"], summary["people"], summary["rank"], summary["unit"]) == (1, 1, 1, True)

    for path in (f"/staff/officials/communes/{theirs}", f"/staff/officials/communes/{theirs}/contestants.xlsx"):
        assert (await client.get(path)).status_code == 403, path
    assert (await client.get(f"/staff/officials/api/communes/{theirs}/contestants")).status_code == 403
    assert (await client.get("/staff/officials/communes/11560")).status_code == 403
    assert [c["code"] for c in (await client.get("/staff/officials/api/communes")).json()["communes"]] == [mine]


async def test_admins_bind_an_official_to_units(client, new_round) -> None:
    case, ids = await unit_contest(new_round)
    email = await staff("official", [11560])
    await sign_in(client, await staff("admin"))
    member_id = (await Staff.select(Staff.id).where(Staff.email == email).first())["id"]
    form = await client.get(f"/staff/people/{member_id}")
    assert form.status_code == 200 and f'value="{unit_code(ids["PC"])}"' in form.text
    done = await client.post(
        f"/staff/people/{member_id}/access",
        data={"_csrf_token": csrf_of(form.text), "role": "official", "communes": ["11560", str(unit_code(ids["PC"]))]},
    )
    assert done.status_code in (200, 302, 303), done.text
    bound = await StaffUnit.select(StaffUnit.unit).where(StaffUnit.staff == member_id)
    assert [b["unit"] for b in bound] == [ids["PC"]]
    bad = await client.post(
        f"/staff/people/{member_id}/access",
        data={"_csrf_token": csrf_of(form.text), "role": "official", "communes": ["-999999"]},
    )
    assert bad.status_code == 422
