"""A contest among its own units (departments of a ministry, optionally nested, with or without headcounts): the
registration asks for a unit, and boards, collective rankings, coverage, rates and `contest leaderboards check` work
per unit as they do per commune."""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any

import openpyxl
import pytest

from contest.contests.tables import Contest, Round
from contest.i18n import InputError
from contest.leaderboard.collective import collective, count_collective, ranked
from contest.leaderboard.rebuild import check_contest, check_round, rebuild_round
from contest.leaderboard.scope import contest_scope, round_scope
from contest.people import units, units_import
from contest.people.service import Registration, register
from contest.people.tables import Contestant, Unit, unit_code
from contest.redis import async_redis
from tests.factories import RoundCase, certificate_design
from tests.leaderboard.test_collective import kick_and_score
from tests.leaderboard.test_public_boards import take
from tests.leaderboard.test_rebuild import snapshot
from tests.staff.test_signin import csrf_of


def units_xlsx(rows: list[list[Any]], header: bool = True) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    if header:
        sheet.append(["Mã đơn vị", "Tên đơn vị", "Mã đơn vị cấp trên", "Số người"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# A ministry: an office with two divisions inside it, two departments with headcounts, one without.
MINISTRY = [
    ["VP", "Văn phòng Bộ", "", ""],
    ["VP-HC", "Phòng Hành chính", "VP", 20],
    ["VP-TH", "Phòng Tổng hợp", "VP", 10],
    ["TCBC", "Vụ Tổ chức – Biên chế", "", 40],
    ["PC", "Vụ Pháp chế", "", None],
]


async def unit_contest(new_round, **kw: Any) -> tuple[RoundCase, dict[str, int]]:  # type: ignore[no-untyped-def]
    """A fresh contest with one open round that ranks the ministry's units; their ids by code."""
    case = await new_round(**kw)
    await units.set_collectives(case.contest_id, "units")
    report = await units_import.import_units(case.contest_id, units_xlsx(MINISTRY))
    assert report.ok and report.added == len(MINISTRY), report.problems
    rows = await Unit.select(Unit.id, Unit.code).where(Unit.contest == case.contest_id)
    return case, {r["code"]: r["id"] for r in rows}


async def member(case: RoundCase, n: int, unit: int, group: str = "officials") -> int:
    phone = f"0913{case.round_id % 1000:03d}{n:03d}"
    return await register(case.contest_id, Registration("Lê Thị Hoa", phone, 1985, "", "", group, True, unit=unit))


async def test_units_are_ranked_with_rates_from_headcounts_and_coverage(client, new_round, clock, worker) -> None:
    case, ids = await unit_contest(new_round, per_topic=1)
    hc, th, tcbc, pc = ids["VP-HC"], ids["VP-TH"], ids["TCBC"], ids["PC"]
    a, b, c, d = [await member(case, n, u) for n, u in ((1, hc), (2, hc), (3, tcbc), (4, pc))]
    await take(case.round_id, a, 3)
    await take(case.round_id, a, 4)  # two attempts: the best counts
    await take(case.round_id, b, 2)
    await take(case.round_id, c, 4)
    await take(case.round_id, d, 1)
    await kick_and_score(worker)

    scope = await round_scope(case.round_id)
    assert scope is not None and scope.units
    counted, live = await count_collective(scope), await collective(scope)
    assert [(r.code, r.people, r.attempts, r.best_sum) for r in counted.communes] == [
        (r.code, r.people, r.attempts, r.best_sum) for r in live.communes
    ]
    rows = {r.code: r for r in live.communes}
    # The office is part of the ranking through its divisions only: people join a division.
    assert set(rows) == {unit_code(hc), unit_code(th), unit_code(tcbc), unit_code(pc)}
    assert (rows[unit_code(hc)].people, rows[unit_code(hc)].attempts, rows[unit_code(hc)].average) == (2, 3, 3.0)
    assert rows[unit_code(hc)].rate == 100.0  # 2 of 20: 100 per 1,000, 10 %
    assert rows[unit_code(hc)].parent == "Văn phòng Bộ"
    assert rows[unit_code(tcbc)].rate == 25.0 and rows[unit_code(pc)].rate is None  # no headcount: no rate
    assert (rows[unit_code(th)].people, live.coverage) == (0, "3/4")
    assert [r.code for r in ranked(live.communes, "rate")][:2] == [unit_code(hc), unit_code(tcbc)]
    assert ranked(live.communes, "rate")[-1].code in (unit_code(pc), unit_code(th))

    page = await client.get(f"/rounds/{case.round_id}/communes?by=rate")
    assert page.status_code == 200
    assert "Theo đơn vị" in page.text and "3/4" in page.text and "Phòng Hành chính" in page.text
    assert "10,0 %" in page.text and "Theo xã/phường" not in page.text

    # The board filtered by one unit shows its people only; the live fragment too.
    board = await client.get(f"/rounds/{case.round_id}/board", params={"commune": unit_code(hc)})
    assert board.status_code == 200 and "Phòng Hành chính" in board.text and "theo đơn vị" in board.text
    live_top = await client.get(f"/rounds/{case.round_id}/board/live", params={"commune": unit_code(tcbc)})
    assert live_top.text.count("Lê T. H.") == 1
    whole = await contest_scope(case.slug)
    assert whole is not None
    assert {r.code: r.people for r in (await collective(whole)).communes}[unit_code(hc)] == 2

    # `contest leaderboards check` covers the units' boards and counters; a rebuild gives them back identical.
    assert (await check_round(case.round_id)).ok and (await check_contest(case.contest_id)).ok
    before = await snapshot(case.round_id)
    assert any(f":c:{unit_code(hc)}" in key for key in before)
    await async_redis().flushdb()
    await rebuild_round(case.round_id, quiet=True)
    assert await snapshot(case.round_id) == before


async def test_without_headcounts_units_rank_by_people_and_rates_stay_empty(client, new_round, clock, worker) -> None:
    case = await new_round(per_topic=1)
    await units.set_collectives(case.contest_id, "units")
    assert (
        await units_import.import_units(case.contest_id, units_xlsx([["A", "Trường A", "", ""], ["B", "Trường B", "", ""]]))
    ).ok
    ids = {r["code"]: r["id"] for r in await Unit.select(Unit.id, Unit.code).where(Unit.contest == case.contest_id)}
    await take(case.round_id, await member(case, 1, ids["B"]), 2)
    await kick_and_score(worker)
    scope = await round_scope(case.round_id)
    assert scope is not None
    result = await collective(scope)
    assert [(r.name, r.people, r.rate) for r in ranked(result.communes, "people")] == [
        ("Trường B", 1, None),
        ("Trường A", 0, None),
    ]
    assert result.coverage == "1/2"
    page = await client.get(f"/c/{case.slug}/communes")
    assert page.status_code == 200 and "1/2" in page.text and "đơn vị có người tham gia" in page.text


async def test_registration_asks_a_unit_contest_for_a_unit_it_has(client, new_round) -> None:
    case, ids = await unit_contest(new_round)
    form = await client.get(f"/c/{case.slug}/register")
    assert form.status_code == 200
    assert 'name="unit"' in form.text and 'name="province"' not in form.text
    assert '<optgroup label="Văn phòng Bộ">' in form.text and f'value="{ids["VP-HC"]}"' in form.text
    assert f'value="{ids["VP"]}"' not in form.text  # joined through its divisions

    other, other_ids = await unit_contest(new_round)

    async def send(unit: object):  # type: ignore[no-untyped-def]
        person = {"full_name": "Lê Thị Hoa", "phone": "0913555001", "birth_year": "1985", "group": "officials"}
        data = {"_csrf_token": csrf_of(form.text), **person, "unit": unit, "consent": "yes"}
        return await client.post(f"/c/{case.slug}/register", data=data)

    for wrong in (ids["VP"], other_ids["PC"], "", "abc"):
        answer = await send(wrong)
        assert answer.status_code == 422 and "Vui lòng chọn đơn vị của bạn trong danh sách." in answer.text, wrong
    done = await send(ids["PC"])
    assert done.status_code in (302, 303), done.text
    row = (
        await Contestant.select(Contestant.unit, Contestant.commune)
        .where(Contestant.phone == "0913555001")
        .where(Contestant.contest == case.contest_id)
        .first()
    )
    assert row == {"unit": ids["PC"], "commune": None}
    me = await client.get(f"/c/{case.slug}/me")
    assert "(Vụ Pháp chế)" in me.text
    # What is ranked cannot change under people who registered.
    with pytest.raises(InputError) as refused:
        await units.set_collectives(case.contest_id, "communes")
    assert refused.value.errors == {"collectives": "collectives_registered"}


async def test_a_commune_contest_is_untouched_by_units(client, new_round) -> None:
    case = await new_round()
    assert (await Contest.select(Contest.collectives).where(Contest.id == case.contest_id).first())["collectives"] == "communes"
    form = await client.get(f"/c/{case.slug}/register")
    assert 'name="province"' in form.text and 'name="unit"' not in form.text


async def test_the_api_describes_a_unit_contest_and_registers_in_a_unit(client, new_round, clock, worker) -> None:
    case, ids = await unit_contest(new_round, per_topic=1)
    contest = (await client.get(f"/api/v1/contests/{case.slug}")).json()
    assert contest["collectives"] == "units"
    offered = (await client.get(f"/api/v1/contests/{case.slug}/units")).json()
    assert {u["id"] for u in offered} == {ids["VP-HC"], ids["VP-TH"], ids["TCBC"], ids["PC"]}
    assert next(u for u in offered if u["id"] == ids["VP-TH"]) == {
        "id": ids["VP-TH"],
        "name": "Phòng Tổng hợp",
        "part_of": "Văn phòng Bộ",
        "headcount": 10,
    }
    person = {"full_name": "Lê Thị Hoa", "phone": "0913777001", "birth_year": 1985, "group": "officials", "consent": True}
    refused = await client.post(f"/api/v1/contests/{case.slug}/register", json={**person, "unit": ids["VP"]})
    assert refused.status_code == 422 and "unit" in refused.json()["errors"]
    done = await client.post(f"/api/v1/contests/{case.slug}/register", json={**person, "unit": ids["TCBC"]})
    assert done.status_code == 201, done.text
    await take(case.round_id, done.json()["contestant_id"], 2)
    await kick_and_score(worker)
    board = (await client.get(f"/api/v1/rounds/{case.round_id}/board", params={"commune": unit_code(ids["TCBC"])})).json()
    assert board["commune"] == unit_code(ids["TCBC"]) and [r["commune"] for r in board["top"]] == ["Vụ Tổ chức – Biên chế"]
    assert (await client.get(f"/api/v1/contests/{(await new_round()).slug}/units")).json() == []


async def test_units_get_collective_certificates_and_name_their_people_in_exports(client, new_round, clock, worker) -> None:
    from contest.certificates import service as certificates
    from contest.certificates.tables import Certificate
    from contest.results import service as results
    from contest.staff.accounts import create_staff
    from contest.staff.signin import staff_user

    case, ids = await unit_contest(new_round, per_topic=1, closes_in=timedelta(hours=1))
    await Round.update({Round.pass_mark: 1}).where(Round.id == case.round_id)
    for n, unit, correct in ((1, ids["VP-HC"], 3), (2, ids["VP-HC"], 2), (3, ids["PC"], 4)):
        await take(case.round_id, await member(case, n, unit), correct)
    await kick_and_score(worker)
    organiser = await staff_user(await create_staff(f"o-{case.round_id}@bonoivu.gov.vn", "Ban tổ chức", "organiser"), 0)
    assert organiser is not None
    clock.advance(hours=2)
    await results.compute_results(organiser, case.round_id)
    await results.publish(organiser, case.round_id)
    exported = await results.export_rows(case.round_id)
    assert any("Vụ Pháp chế" in row for row in exported) and any("Phòng Hành chính" in row for row in exported)

    await certificate_design(case.contest_id)  # certificates wait for an issuing body and a signer
    assert (await certificates.award_round(case.round_id)).collective == 2
    made = await Certificate.select().where((Certificate.round == case.round_id) & (Certificate.kind == "collective"))
    assert {(c["commune"], c["holder"]) for c in made} == {
        (unit_code(ids["VP-HC"]), "Phòng Hành chính"),
        (unit_code(ids["PC"]), "Vụ Pháp chế"),
    }
    shown = await client.get(f"/verify/{made[0]['code']}")
    assert shown.status_code == 200 and made[0]["holder"] in shown.text
    person = (
        await Certificate.select().where((Certificate.round == case.round_id) & (Certificate.kind == "participation")).first()
    )
    assert (await certificates.by_code(person["code"]))["commune_name"] in ("Phòng Hành chính", "Vụ Pháp chế")
