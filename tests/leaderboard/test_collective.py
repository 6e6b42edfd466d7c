"""Collective rankings (communes and groups: people, attempts, average best score, rate per 1,000, coverage)
and the population import organisers feed them with."""

from __future__ import annotations

import io
from typing import Any

import openpyxl

from contest.contests.tables import Contest
from contest.leaderboard.collective import count_collective, ranked
from contest.leaderboard.scope import contest_scope, round_scope
from contest.people.tables import Commune
from contest.staff.tables import AuditEntry
from tests.leaderboard.test_public_boards import person, second_round, take
from tests.staff.test_signin import csrf_of, sign_in, staff


async def hai_phong(n: int, skip: int = 0) -> list[dict[str, Any]]:
    return (
        await Commune.select(Commune.code, Commune.name)
        .where(Commune.province == 31)
        .order_by(Commune.code)
        .offset(skip)
        .limit(n)
    )


def xlsx(rows: list[list[Any]]) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Mã xã/phường", "Tên xã/phường", "Dân số"])
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def test_communes_and_groups_are_ranked_with_rates_and_coverage(client, new_round, clock, worker) -> None:
    case = await new_round(per_topic=2)
    a, b, c = (row["code"] for row in await hai_phong(3, skip=40))
    await Contest.update({Contest.communes: [a, b, c]}).where(Contest.id == case.contest_id)
    await Commune.update({Commune.population: 2000}).where(Commune.code == a)
    await Commune.update({Commune.population: None}).where(Commune.code.is_in([b, c]))
    round2 = await second_round(case, clock.current)
    p1, p2, p3 = await person(case, 1, "teachers", a), await person(case, 2, "citizens", a), await person(case, 3, "citizens", b)
    await take(case.round_id, p1, 3)
    await take(case.round_id, p1, 5)  # two attempts, the best counts
    await take(case.round_id, p2, 4)
    await take(case.round_id, p3, 8)
    await take(round2, p2, 7)
    await kick_and_score(worker)

    scope = await round_scope(case.round_id)
    assert scope is not None
    result = await count_collective(scope)
    by_code = {row.code: row for row in result.communes}
    assert (by_code[a].people, by_code[a].attempts, by_code[a].average, by_code[a].rate) == (2, 3, 4.5, 1.0)
    assert (by_code[b].people, by_code[b].attempts, by_code[b].average, by_code[b].rate) == (1, 1, 8.0, None)
    assert (by_code[c].people, by_code[c].average) == (0, None)
    assert result.coverage == "2/3"
    assert [row.code for row in ranked(result.communes, "average")] == [b, a, c]
    assert [row.code for row in ranked(result.communes, "rate")] == [a, b, c]  # no population: last
    groups = {row.code: row for row in result.groups}
    assert (groups["citizens"].people, groups["citizens"].average, groups["citizens"].communes_covered) == (2, 6.0, 2)
    assert (groups["teachers"].people, groups["teachers"].communes_covered) == (1, 1)
    assert groups["students"].people == 0  # every group the contest admits is listed

    whole = await contest_scope(case.slug)
    assert whole is not None
    over = {row.code: row for row in (await count_collective(whole)).communes}
    assert (over[a].people, over[a].attempts, over[a].average) == (2, 4, 6.0)  # p2's best is 7 in round 2

    page = await client.get(f"/rounds/{case.round_id}/communes?by=rate")
    assert page.status_code == 200 and "2/3" in page.text
    rows = page.text.split("Theo xã/phường")[1].split("Theo đối tượng")[0]
    assert "<td>1,0</td>" in rows and "<td>4,50</td>" in rows and rows.count("<td>–</td>") >= 3
    assert "Giáo viên" in page.text.split("Theo đối tượng")[1]
    assert (await client.get(f"/c/{case.slug}/communes")).status_code == 200


async def kick_and_score(worker) -> None:  # type: ignore[no-untyped-def]
    from contest.scoring.queue import kick

    await kick()
    worker()


async def test_an_organiser_imports_populations_by_code_or_name(client) -> None:
    (x, y) = await hai_phong(2, skip=60)
    await sign_in(client, await staff("organiser"))
    form = await client.get("/staff/communes/")
    assert form.status_code == 200
    done = await client.post(
        "/staff/communes/import",
        data={"_csrf_token": csrf_of(form.text)},
        files={"file": ("dan-so.xlsx", xlsx([[x["code"], "", 12345], ["", y["name"].upper(), "23.456"]]))},
    )
    assert done.status_code == 200 and "Đã cập nhật dân số của 2 xã/phường" in done.text
    got = {r["code"]: r["population"] for r in await Commune.select().where(Commune.code.is_in([x["code"], y["code"]]))}
    assert got == {x["code"]: 12345, y["code"]: 23456}
    assert await AuditEntry.count().where(AuditEntry.action == "communes.population") >= 1
    template = await client.get("/staff/communes/template")
    sheet = openpyxl.load_workbook(io.BytesIO(template.content)).active
    assert [cell.value for cell in sheet[1]] == ["Mã xã/phường", "Tên xã/phường", "Dân số"]
    assert any(row[0] == x["code"] and row[2] == 12345 for row in sheet.iter_rows(min_row=2, values_only=True))
    await Commune.update({Commune.population: None}).where(Commune.code.is_in([x["code"], y["code"]]))


async def test_a_bad_population_file_writes_nothing_and_says_which_rows(client) -> None:
    (x,) = await hai_phong(1, skip=70)
    await sign_in(client, await staff("organiser"))
    form = await client.get("/staff/communes/")
    rows = [[x["code"], "", 5000], [99999999, "", 10], ["", "Xã Không Có", 10], [x["code"], "", "nhiều"], ["", "", 7]]
    bad = await client.post(
        "/staff/communes/import", data={"_csrf_token": csrf_of(form.text)}, files={"file": ("x.xlsx", xlsx(rows))}
    )
    assert bad.status_code == 422
    for line in (
        "Dòng 3: không tìm thấy xã/phường “99999999”",
        "Dòng 4: không tìm thấy xã/phường “Xã Không Có”",
        "Dòng 5: dân số “nhiều” không hợp lệ",
        "Dòng 6: thiếu mã hoặc tên xã/phường",
        "chưa có số liệu nào được lưu",
    ):
        assert line in bad.text
    assert (await Commune.select(Commune.population).where(Commune.code == x["code"]).first())["population"] is None
    junk = await client.post(
        "/staff/communes/import", data={"_csrf_token": csrf_of(form.text)}, files={"file": ("x.xlsx", b"not a workbook")}
    )
    assert junk.status_code == 422 and "Không đọc được tệp" in junk.text


async def test_only_organisers_and_admins_reach_the_population_pages(client) -> None:
    anonymous = await client.get("/staff/communes/")
    assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/staff/login")
    await sign_in(client, await staff("official", [11560]))
    assert (await client.get("/staff/communes/")).status_code == 403
    assert (await client.get("/staff/communes/template")).status_code == 403
    client.cookies.clear()
    await sign_in(client, await staff("admin"))
    assert (await client.get("/staff/communes/")).status_code == 200
