"""A contest's whole life over HTTP, with real RQ workers and a clock the test moves: an organiser imports a bank from
xlsx and builds a contest on it, previews its round; an outsider is refused; four people take the round, one of them
still mid-attempt when the organiser closes it now; the results are computed with a prediction tie and a
disqualification, published, and certificates awarded. Then every place that shows the outcome agrees with the
results: the round's board (page and API), the contest's board, "my places", /results, the export, the officials'
dashboard, the collective rankings and the certificates."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import openpyxl

from contest.api import auth
from contest.certificates.tables import Certificate
from contest.people.tables import Contestant
from contest.results.tables import RoundResult
from tests.conftest import client_for
from tests.contests.test_builder import organiser, token
from tests.contests.test_preview import preview_a_round
from tests.life import Person, after, answer, as_person, build_contest, import_bank, order_in, start, submit
from tests.test_journey import register_by_form

AN = Person("Lê Thị An", "0905000001", "11557")  # 4 right, the exact prediction, slow
BINH = Person("Vũ Văn Bình", "0905000002", "11560")  # 4 right, a far prediction, faster
CUONG = Person("Hà Văn Cường", "0905000003", "11560")  # 4 right, exact, fastest: disqualified
DUNG = Person("Đỗ Thị Dung", "0905000004", "11557")  # mid-attempt at the close: 2 right of 3 answered
SHORT = {AN.name: "Lê T. A.", BINH.name: "Vũ V. B.", CUONG.name: "Hà V. C.", DUNG.name: "Đỗ T. D."}
FINAL = [AN.name, BINH.name, DUNG.name]
PARTICIPANTS = 4  # frozen when the results are computed: the exact prediction


async def test_a_contests_whole_life_agrees_everywhere_and_keeps_previews_and_outsiders_out(app, client, clock, worker) -> None:
    await organiser(client)
    topic = await import_bank(client)
    opens = clock.current.replace(second=0, microsecond=0) - timedelta(minutes=30)
    built = await build_contest(client, topic, opens)
    rid, slug = built.round_id, built.slug
    await preview_a_round(client, rid)  # the organiser's "Thi thử", every answer right

    outside = (await Contestant.raw("SELECT code FROM commune WHERE province = 31 AND code NOT IN (11560, 11557) LIMIT 1"))[0]
    async with client_for(app) as stranger:
        offered = await stranger.get(f"/c/{slug}/register")
        assert 'value="11560"' in offered.text and f'value="{outside["code"]}"' not in offered.text
        refused = await register_by_form(stranger, slug, commune=str(outside["code"]), phone="0905 000 009")
        assert refused.status_code == 422 and "không thuộc phạm vi cuộc thi" in refused.text

    for person, prediction, seconds in ((AN, PARTICIPANTS, 200), (BINH, 10, 100), (CUONG, PARTICIPANTS, 30)):
        await start(app, built, person)
        await answer(app, person, 4)
        clock.advance(seconds=seconds)
        await submit(app, person, prediction)
    await start(app, built, DUNG)
    await answer(app, DUNG, 2, answered=3)
    worker()

    # Before the results: the boards and "my places" are provisional (correct answers, then time).
    board = (await client.get(f"/rounds/{rid}/board")).text
    assert "Bảng xếp hạng tạm thời" in board and order_in(board, list(SHORT.values())) == ["Hà V. C.", "Vũ V. B.", "Lê T. A."]
    assert "Thứ hạng tạm thời" in (await as_person(app, AN, f"/rounds/{rid}/board/mine")).text
    assert (await client.get(f"/api/v1/rounds/{rid}/board")).json()["final"] is False

    # The organiser closes the round now: Dung's attempt is submitted with the answers she gave.
    confirm = await client.get(f"/staff/contests/rounds/{rid}/close")
    assert '<strong class="in-progress">1</strong>' in confirm.text
    csrf = await token(client, f"/staff/contests/rounds/{rid}/close")
    form = {"_csrf_token": csrf, "reason": "Lộ đáp án trên mạng xã hội", "attempts": "submit"}
    assert (await client.post(f"/staff/contests/rounds/{rid}/close", data=form)).status_code == 302
    worker()
    assert "Thi lại" not in (await as_person(app, AN, f"/attempts/{AN.attempt}/result")).text

    # Results: computed, Cường disqualified (his exact prediction and speed would have won), published.
    csrf = await token(client, f"/staff/results/{rid}")
    assert (await client.post(f"/staff/results/{rid}/compute", data={"_csrf_token": csrf})).status_code == 302
    staff_page = await client.get(f"/staff/results/{rid}")
    assert f'action="/staff/results/{rid}/disqualify"' in staff_page.text
    cheat = {"_csrf_token": csrf, "contestant": str(CUONG.id), "reason": "Thi hộ người khác"}
    assert (await client.post(f"/staff/results/{rid}/disqualify", data=cheat)).status_code == 302
    assert (await client.post(f"/staff/results/{rid}/publish", data={"_csrf_token": csrf})).status_code == 302

    # Certificates: refused until the design names who issues them; the organiser fills it in; a worker awards them.
    refused = await client.post(f"/staff/certificates/round/{rid}/award", data={"_csrf_token": csrf})
    assert refused.status_code == 422 and "Cơ quan cấp và Họ tên người ký" in refused.text
    signer = {"_csrf_token": csrf, "issuer": "ỦY BAN NHÂN DÂN\nTHÀNH PHỐ HẢI PHÒNG", "signer_title": "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
              "signer_name": "Nguyễn Văn Tùng", "award_participation": "1", "collective_top": "3"}  # fmt: skip
    contest_id = (await Certificate.raw("SELECT contest FROM round WHERE id = {}", rid))[0]["contest"]
    saved = await client.post(f"/staff/certificates/contest/{contest_id}/design", data=signer)
    assert saved.status_code in (302, 303)
    awarded = await client.post(f"/staff/certificates/round/{rid}/award", data={"_csrf_token": csrf})
    assert awarded.status_code == 302
    worker()

    # The one truth: the results in PostgreSQL.
    ranked = await RoundResult.select().where(RoundResult.round == rid).order_by(RoundResult.rank)
    by_id = {p.id: p.name for p in (AN, BINH, CUONG, DUNG)}
    kept = [r for r in ranked if not r["disqualified"]]
    assert [by_id[r["contestant"]] for r in kept] == FINAL and [r["rank"] for r in kept] == [1, 2, 3]
    assert [r["correct"] for r in kept] == [4, 4, 2] and [r["prize"] for r in kept] == ["Giải Nhất", "Giải Nhì", None]
    assert [r["prediction_gap"] for r in kept[:2]] == [0, 6]  # the tie broken by the prediction, not by time
    prizes = {by_id[r["contestant"]]: r["prize"] for r in kept if r["prize"]}
    short_final = [SHORT[n] for n in FINAL]
    everyone = list(SHORT.values())

    # /results/{round}: the same order and prizes, Cường nowhere.
    public = (await client.get(f"/results/{rid}")).text
    assert order_in(public, everyone) == short_final and order_in(after(public, "người đứng đầu"), everyone) == short_final
    assert SHORT[CUONG.name] not in public and "Giải Nhất" in public and "Giải Nhì" in public

    # The round's board, page and API, in the same order, final.
    board = (await client.get(f"/rounds/{rid}/board")).text
    assert order_in(board, everyone) == short_final and "Bảng xếp hạng tạm thời" not in board
    api = (await client.get(f"/api/v1/rounds/{rid}/board")).json()
    assert [r["name"] for r in api["top"]] == short_final and [r["rank"] for r in api["top"]] == [1, 2, 3]
    assert api["final"] is True and api["total"] == 3

    # The contest's board (one round): the same order as /results, An's exact prediction before Bình's speed,
    # Cường absent; page, live fragment and API.
    contest_board = (await client.get(f"/c/{slug}/board")).text
    assert order_in(contest_board, everyone) == short_final
    assert order_in((await client.get(f"/c/{slug}/board/live")).text, everyone) == short_final
    api_contest = (await client.get(f"/api/v1/contests/{slug}/board")).json()
    assert [r["name"] for r in api_contest["top"]] == short_final and api_contest["total"] == 3

    # "My places", page and API: each person's place is their final rank; Cường has none.
    for place, person in enumerate((AN, BINH, DUNG), 1):
        mine = (await as_person(app, person, f"/rounds/{rid}/board/mine")).text
        assert f"Hạng chung: <strong>{place}</strong>/3" in mine and "Thứ hạng chính thức" in mine
        contest_mine = (await as_person(app, person, f"/c/{slug}/board/mine")).text
        assert f"Hạng chung: <strong>{place}</strong>/3" in contest_mine
        bearer = {"authorization": f"Bearer {auth.issue(person.id)}"}
        best = (await client.get(f"/api/v1/attempts/{person.attempt}/result", headers=bearer)).json()["best"]
        assert (best["rank"], best["of"], best["final"]) == (place, 3, True)
        page = (await as_person(app, person, f"/attempts/{person.attempt}/result")).text
        assert f"Xếp hạng chung: <strong>{place}</strong>/3" in page and "Thứ hạng chính thức" in page
    assert "Chưa có kết quả trên bảng này" in (await as_person(app, CUONG, f"/rounds/{rid}/board/mine")).text

    # The organiser's export: the same order and prizes, Cường last and marked.
    export = await client.get(f"/staff/results/{rid}/export")
    sheet = openpyxl.load_workbook(io.BytesIO(export.content)).worksheets[0]
    rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=2)]
    assert [(r[0], r[1], r[11] or None) for r in rows] == [
        (1, AN.name, "Giải Nhất"),
        (2, BINH.name, "Giải Nhì"),
        (3, DUNG.name, None),
        (None, CUONG.name, None),
    ]
    assert rows[-1][12] == "có" and rows[-1][13] == "Thi hộ người khác"

    # The officials' dashboard: four registered (no preview, no outsider); three took part, as the collective
    # rankings below count them (a person disqualified in published results counts no more).
    summary = (await client.get(f"/staff/officials/api/summary?contest={built.contest_id}")).json()["summary"]
    assert (summary["registered"], summary["people"], summary["attempts"]) == (4, 3, 3)
    home = (await client.get(f"/staff/officials/communes/11557?contest={built.contest_id}")).text
    assert AN.name in home and DUNG.name in home and BINH.name not in home

    # The collective rankings: Cường counts no more in his commune.
    for path in (f"/rounds/{rid}/communes", f"/c/{slug}/communes"):
        shown = (await client.get(path)).text
        people = dict(re.findall(r"<td>(Phường [^<]+)</td><td>(\d+)</td>", shown))
        assert people == {"Phường Thiên Hương": "2", "Phường Thuỷ Nguyên": "1"}, path

    # The certificates: the prize winners with their prize names, participation for everyone ranked, none for Cường.
    certs = await Certificate.select().where((Certificate.round == rid) & Certificate.revoked_at.is_null())
    assert {c["holder"]: c["prize"] for c in certs if c["kind"] == "prize"} == prizes
    assert {c["holder"] for c in certs if c["kind"] == "participation"} == set(FINAL)
    assert CUONG.id not in {c["contestant"] for c in certs}
    assert {c["commune"] for c in certs if c["kind"] == "collective"} == {11557, 11560}
    counts = (await client.get(f"/staff/certificates/round/{rid}")).text
    assert "tham gia <strong>3</strong> · đạt giải <strong>2</strong> · tập thể <strong>2</strong>" in counts
    first = next(c["code"] for c in certs if c["prize"] == "Giải Nhất")
    verify = (await client.get(f"/verify/{first}")).text
    assert SHORT[AN.name] in verify and "Giải Nhất" in verify and "ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG" in verify
