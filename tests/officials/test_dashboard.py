"""Officials' dashboards: counts, per-day chart, rank and contestants of their own communes only; organisers see all."""

import io
import re
from datetime import UTC, datetime, timedelta

import openpyxl

from contest.attempts import finishing, starting
from contest.officials.chart import bar_chart
from contest.people.tables import Commune
from contest.scoring.queue import kick
from contest.staff.tables import AuditEntry
from tests.factories import HAI_PHONG_COMMUNES, answer
from tests.staff.test_signin import sign_in, staff

A, B = HAI_PHONG_COMMUNES


def _vietnam_morning(clock) -> None:  # type: ignore[no-untyped-def]
    """10:00 in Vietnam today, so a test's days do not straddle midnight there."""
    now = clock.current.astimezone(UTC)
    clock.current = datetime(now.year, now.month, now.day, 3, tzinfo=UTC)


async def _took_part(case, contestant: int, correct: int) -> int:  # type: ignore[no-untyped-def]
    attempt_id = await starting.start_attempt(contestant, case.round_id)
    await answer(attempt_id, contestant, correct)
    await finishing.submit(attempt_id, contestant)
    return attempt_id


async def _two_communes(new_round, clock, worker):  # type: ignore[no-untyped-def]
    """Day 1: An (A) takes part. Day 2: An again, Bình (A) and Cường (B). Day 3: nobody (today)."""
    _vietnam_morning(clock)
    case = await new_round(per_topic=1)
    an = await case.contestant(1, A, "Nguyễn Văn An")
    binh = await case.contestant(2, A, "Trần Thị Bình")
    cuong = await case.contestant(3, B, "Lê Văn Cường")
    await case.contestant(4, A, "Phạm Thị Dung")  # registered, never took part
    await _took_part(case, an, 2)
    clock.advance(days=1)
    await _took_part(case, an, 3)
    await _took_part(case, binh, 1)
    await _took_part(case, cuong, 4)
    # An organiser's preview never counts.
    preview = await _took_part(case, await case.contestant(5, A, "Đỗ Văn Em"), 4)
    from contest.attempts.tables import Attempt

    await Attempt.update({Attempt.preview: True}).where(Attempt.id == preview)
    clock.advance(days=1)
    await kick()
    worker()
    return case


async def test_an_official_sees_their_commune_and_gets_403_on_another(client, new_round, clock, worker) -> None:
    case = await _two_communes(new_round, clock, worker)
    await sign_in(client, await staff("official", [A]))

    home = await client.get("/staff/officials/")
    assert home.status_code == 302 and home.headers["location"].startswith(f"/staff/officials/communes/{A}")
    mine = await client.get(f"/staff/officials/communes/{A}", params={"contest": case.contest_id})
    assert mine.status_code == 200
    assert "Nguyễn Văn An" in mine.text and "Trần Thị Bình" in mine.text and "Phạm Thị Dung" in mine.text
    assert "Lê Văn Cường" not in mine.text
    assert f"0912{case.round_id % 1000:03d}001" in mine.text  # their own contestants' phones, in full

    for path in (f"/staff/officials/communes/{B}", f"/staff/officials/communes/{B}/contestants.xlsx"):
        assert (await client.get(path, params={"contest": case.contest_id})).status_code == 403, path
    refused = await client.get(f"/staff/officials/api/communes/{B}/summary", params={"contest": case.contest_id})
    assert refused.status_code == 403 and "errors" in refused.json()
    other = await client.get(f"/staff/officials/api/communes/{B}/contestants", params={"contest": case.contest_id})
    assert other.status_code == 403
    assert (await client.get("/staff/officials/api/summary")).status_code == 403
    assert [c["code"] for c in (await client.get("/staff/officials/api/communes")).json()["communes"]] == [A]


async def test_the_summary_counts_people_per_day_in_vietnam_time(client, new_round, clock, worker) -> None:
    case = await _two_communes(new_round, clock, worker)
    await sign_in(client, await staff("official", [A]))
    got = (await client.get(f"/staff/officials/api/communes/{A}/summary", params={"contest": case.contest_id})).json()
    assert (got["registered"], got["people"], got["attempts"], got["people_today"]) == (4, 2, 3, 0)
    assert got["average_best"] == 2.0  # An's best 3, Bình's 1
    assert [(d["people"], d["attempts"]) for d in got["days"]] == [(1, 1), (2, 2), (0, 0)]
    first = (clock.current - timedelta(days=2)).astimezone(UTC) + timedelta(hours=7)
    assert got["days"][0]["day"] == first.date().isoformat()

    listed = (await client.get(f"/staff/officials/api/communes/{A}/contestants", params={"contest": case.contest_id})).json()
    rows = [(r["full_name"], r["attempts"], r["best_correct"]) for r in listed["contestants"]]
    assert rows[:2] == [("Nguyễn Văn An", 2, 3), ("Trần Thị Bình", 1, 1)]  # best first
    assert sorted(rows[2:]) == [("Phạm Thị Dung", 0, None), ("Đỗ Văn Em", 0, None)]  # the preview does not count


async def test_taking_part_today_shows_in_todays_count(client, new_round, clock, worker) -> None:
    _vietnam_morning(clock)
    case = await new_round()
    await _took_part(case, await case.contestant(1, A), 2)
    await kick()
    worker()
    await sign_in(client, await staff("official", [A]))
    got = (await client.get(f"/staff/officials/api/communes/{A}/summary", params={"contest": case.contest_id})).json()
    assert (got["people_today"], got["people"], [d["people"] for d in got["days"]]) == (1, 1, [1])


async def test_the_rank_among_communes_counts_people_and_ties_share_a_rank(client, new_round, clock, worker) -> None:
    case = await _two_communes(new_round, clock, worker)
    province = (await Commune.select(Commune.province).where(Commune.code == A).first())["province"]
    of = await Commune.count().where(Commune.province == province)
    await sign_in(client, await staff("organiser"))
    a = (await client.get(f"/staff/officials/api/communes/{A}/summary", params={"contest": case.contest_id})).json()
    b = (await client.get(f"/staff/officials/api/communes/{B}/summary", params={"contest": case.contest_id})).json()
    assert (a["rank"], a["rank_of"], b["rank"], b["rank_of"]) == (1, of, 2, of)
    overview = (await client.get("/staff/officials/api/summary", params={"contest": case.contest_id})).json()
    ranking = overview["provinces"][0]["communes"]
    assert [(r["code"], r["rank"], r["people"]) for r in ranking[:2]] == [(A, 1, 2), (B, 2, 1)]
    assert {r["rank"] for r in ranking[2:]} == {3}  # everyone else ties, with nobody
    assert overview["summary"]["people"] == 3
    page = await client.get(f"/staff/officials/communes/{A}", params={"contest": case.contest_id})
    assert f"hạng 1/{of}" in page.text


async def test_an_organiser_sees_every_commune_and_the_contest_wide_view(client, new_round, clock, worker) -> None:
    case = await _two_communes(new_round, clock, worker)
    await sign_in(client, await staff("organiser"))
    for code, name in ((A, "Trần Thị Bình"), (B, "Lê Văn Cường")):
        page = await client.get(f"/staff/officials/communes/{code}", params={"contest": case.contest_id})
        assert page.status_code == 200 and name in page.text
    overview = await client.get("/staff/officials/", params={"contest": case.contest_id})
    assert overview.status_code == 200 and "Xếp hạng xã/phường" in overview.text
    found = await client.get("/staff/officials/communes", params={"q": "thuy nguyen"})
    assert f"/staff/officials/communes/{A}" in found.text
    # Switching contest with htmx returns only the dashboard.
    part = await client.get(
        f"/staff/officials/communes/{A}",
        params={"contest": case.contest_id},
        headers={"hx-request": "true", "hx-target": "dashboard"},
    )
    assert part.text.lstrip().startswith('<div id="dashboard"') and "<html" not in part.text


async def test_the_xlsx_holds_only_the_officials_contestants(client, new_round, clock, worker) -> None:
    case = await _two_communes(new_round, clock, worker)
    await sign_in(client, await staff("official", [A]))
    got = await client.get(f"/staff/officials/communes/{A}/contestants.xlsx", params={"contest": case.contest_id})
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(got.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("STT", "Họ và tên", "Số điện thoại")
    names = [r[1] for r in rows[1:]]
    assert sorted(names) == sorted(["Nguyễn Văn An", "Trần Thị Bình", "Phạm Thị Dung", "Đỗ Văn Em"])
    assert "Lê Văn Cường" not in names
    assert rows[1][2] == f"0912{case.round_id % 1000:03d}001" and rows[1][4] == "Người dân"
    assert await AuditEntry.exists().where((AuditEntry.action == "officials.export") & (AuditEntry.target == str(A)))


async def test_the_chart_has_one_bar_per_day_and_reads_out_loud(client, new_round, clock, worker) -> None:
    case = await _two_communes(new_round, clock, worker)
    await sign_in(client, await staff("official", [A]))
    page = await client.get(f"/staff/officials/communes/{A}", params={"contest": case.contest_id})
    svg = re.search(r"<svg.*?</svg>", page.text, re.S).group(0)
    assert len(re.findall(r'<rect class="bar"', svg)) == 3
    assert 'role="img"' in svg and "<title" in svg and "aria-label=" in svg
    assert "Xem số liệu từng ngày" in page.text  # the same numbers as a table

    chart = bar_chart([("01/12", 3), ("02/12", 0), ("03/12", 7), ("04/12", 1), ("05/12", 2)], "Người <tham gia>")
    assert chart.count('<rect class="bar"') == 5 and "Người &lt;tham gia&gt;" in chart and "03/12: 7" in chart
