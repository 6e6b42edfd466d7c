"""Personal data under Law 91/2025/QH15: consent at registration, the public notice, an organiser's export and
erasure on request, and the purge after each contest's retention period."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from datetime import timedelta

import openpyxl
import pytest
from rq import Queue

from contest import keys
from contest.attempts import finishing, starting
from contest.certificates.tables import Certificate
from contest.contests.tables import Contest, Round
from contest.demo import TOPICS
from contest.i18n import InputError
from contest.people.duplicates import REVIEWED
from contest.people.jobs import purge_personal_data
from contest.people.phone import ERASED_NAME, mask_phone, short_name
from contest.people.privacy import consent_version, erase_contestants, placeholder_phone, purge
from contest.people.service import Registration, register
from contest.people.tables import Contestant
from contest.redis import sync_redis
from contest.results import service as results
from contest.scoring.queue import kick
from contest.settings import get_settings
from contest.staff.accounts import create_staff
from contest.staff.audit import audit
from contest.staff.signin import staff_user
from contest.staff.tables import AuditEntry
from tests.conftest import ROOT
from tests.factories import HAI_PHONG_COMMUNES, RoundCase, answer
from tests.staff.test_signin import csrf_of, sign_in, staff

A, B = HAI_PHONG_COMMUNES
CONSENT_REFUSED = "Bạn cần đồng ý cho phép xử lý dữ liệu cá nhân"


def phone_of(case: RoundCase, n: int) -> str:
    return f"0914{case.round_id % 1000:03d}{n:03d}"


async def person(case: RoundCase, n: int, name: str, commune: int = A, phone: str | None = None) -> int:
    return await register(case.contest_id, Registration(name, phone or phone_of(case, n), 1985, 31, commune, "citizens", True))


async def take(case: RoundCase, who: int, correct: int) -> None:
    attempt_id = await starting.start_attempt(who, case.round_id)
    await answer(attempt_id, who, correct)
    await finishing.submit(attempt_id, who)


def form(case: RoundCase, csrf: str, n: int, **extra: str) -> dict:
    return {
        "_csrf_token": csrf,
        "full_name": "Ngô Thị Hồng Nhung",
        "phone": phone_of(case, n),
        "birth_year": "1979",
        "province": "31",
        "commune": str(A),
        "group": "citizens",
        **extra,
    }


def api_body(case: RoundCase, n: int, **extra: object) -> dict:
    return {
        "full_name": "Ngô Văn Tùng",
        "phone": phone_of(case, n),
        "birth_year": 1980,
        "commune": A,
        "group": "citizens",
        **extra,
    }


async def _organiser():  # type: ignore[no-untyped-def]
    staff_id = await create_staff(f"o-{uuid.uuid4().hex[:8]}@haiphong.gov.vn", "Ban tổ chức", "organiser")
    return await staff_user(staff_id, 0)


# ---- consent ------------------------------------------------------------------------------------------


async def test_registration_without_consent_is_refused_in_vietnamese_on_the_form_and_the_api(client, new_round) -> None:
    case = await new_round()
    shown = await client.get(f"/c/{case.slug}/register")
    assert shown.status_code == 200
    for words in ("Luật Bảo vệ dữ liệu cá nhân số 91/2025/QH15", "rút lại sự đồng ý", "Đến 365 ngày", consent_version()):
        assert words in shown.text, words
    before = await Contestant.count().where(Contestant.contest == case.contest_id)

    refused = await client.post(f"/c/{case.slug}/register", data=form(case, csrf_of(shown.text), 1))
    assert refused.status_code == 422 and CONSENT_REFUSED in refused.text
    no_field = await client.post(f"/api/v1/contests/{case.slug}/register", json=api_body(case, 2))
    assert no_field.status_code == 422 and no_field.json()["errors"]["consent"].startswith(CONSENT_REFUSED)
    said_no = await client.post(f"/api/v1/contests/{case.slug}/register", json=api_body(case, 2, consent=False))
    assert said_no.status_code == 422 and CONSENT_REFUSED in said_no.json()["errors"]["consent"]
    assert await Contestant.count().where(Contestant.contest == case.contest_id) == before


async def test_the_consent_version_agreed_to_is_stored_and_an_outdated_one_is_refused(client, new_round, clock) -> None:
    case = await new_round()
    shown = await client.get(f"/c/{case.slug}/register")
    csrf = csrf_of(shown.text)
    stale = await client.post(f"/c/{case.slug}/register", data=form(case, csrf, 1, consent="yes", consent_version="2025.0-old"))
    assert stale.status_code == 422 and "vừa được cập nhật" in stale.text
    done = await client.post(
        f"/c/{case.slug}/register", data=form(case, csrf, 1, consent="yes", consent_version=consent_version())
    )
    assert done.status_code == 302, done.text
    row = await Contestant.select().where(Contestant.phone == phone_of(case, 1)).first()
    assert row["consent_version"] == consent_version() and row["consented_at"] == clock.current

    notice = (await client.get("/api/v1/privacy")).json()
    assert notice == {"consent_version": consent_version(), "url": "/privacy"}
    via_app = await client.post(
        f"/api/v1/contests/{case.slug}/register", json=api_body(case, 2, consent=True, consent_version=notice["consent_version"])
    )
    assert via_app.status_code == 201, via_app.text
    stored = await Contestant.select(Contestant.consent_version).where(Contestant.id == via_app.json()["contestant_id"]).first()
    assert stored["consent_version"] == consent_version()
    old_app = await client.post(
        f"/api/v1/contests/{case.slug}/register", json=api_body(case, 3, consent=True, consent_version="2025.0-old")
    )
    assert old_app.status_code == 422 and "vừa được cập nhật" in old_app.json()["errors"]["consent"]


async def test_the_privacy_page_is_in_vietnamese_with_an_english_version(client) -> None:
    vi = await client.get("/privacy")
    assert vi.status_code == 200
    for words in ("Quyền của bạn", "91/2025/QH15", "rút lại sự đồng ý", "yêu cầu xóa", "cán bộ xã/phường", consent_version()):
        assert words in vi.text, words
    en = await client.get("/privacy", params={"lang": "en"})
    assert en.status_code == 200 and "Your rights" in en.text and "withdraw your consent" in en.text
    await client.get("/lang/en")
    assert "Your rights" in (await client.get("/privacy")).text
    assert "Quyền của bạn" in (await client.get("/privacy", params={"lang": "vi"})).text
    assert 'href="/privacy"' in (await client.get("/")).text  # every page links to it


# ---- an organiser answers a request -----------------------------------------------------------------


async def test_an_organiser_export_holds_everything_about_the_person_and_nothing_of_others(client, new_round) -> None:
    case, other = await new_round(), await new_round()
    mine = await person(case, 1, "Lý Thị Thu Hằng")
    also_mine = await person(other, 9, "Lý Thị Thu Hằng", B, phone=phone_of(case, 1))
    stranger = await person(case, 2, "Mai Văn Sơn")
    await take(case, mine, 3)
    await take(case, stranger, 1)
    await sign_in(client, await staff("organiser"))
    csrf = csrf_of((await client.get("/staff/privacy-requests")).text)

    found = await client.post("/staff/privacy-requests", data={"_csrf_token": csrf, "phone": "+84 914 " + phone_of(case, 1)[4:]})
    assert found.status_code == 200 and "Lý Thị Thu Hằng" in found.text and "Mai Văn Sơn" not in found.text
    assert "Đăng ký (2)" in found.text and "Lượt thi (1)" in found.text and "Tải dữ liệu" in found.text

    got = await client.post("/staff/privacy-requests/export", data={"_csrf_token": csrf, "phone": phone_of(case, 1)})
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    data = json.loads(got.content)
    assert sorted(r["id"] for r in data["registrations"]) == sorted([mine, also_mine])
    assert {r["full_name"] for r in data["registrations"]} == {"Lý Thị Thu Hằng"}
    assert data["registrations"][0]["consent_version"] == consent_version()
    assert [a["contestant"] for a in data["attempts"]] == [mine] and len(data["attempts"][0]["answers"]) == 4
    assert "Mai Văn Sơn" not in got.text and phone_of(case, 2) not in got.text
    assert stranger not in [r["id"] for r in data["registrations"]] + [a["contestant"] for a in data["attempts"]]
    entry = (
        await AuditEntry.select().where(AuditEntry.action == "privacy.export").order_by(AuditEntry.id, ascending=False).first()
    )
    assert phone_of(case, 1) not in entry["target"] + json.dumps(entry["detail"]) and str(mine) in entry["target"]

    unknown = await client.post("/staff/privacy-requests", data={"_csrf_token": csrf, "phone": "0888000111"})
    assert unknown.status_code == 200 and "Không có dữ liệu cá nhân nào" in unknown.text
    bad = await client.post("/staff/privacy-requests", data={"_csrf_token": csrf, "phone": "12345"})
    assert bad.status_code == 422 and "Số điện thoại không hợp lệ" in bad.text


async def _public_state(client, case: RoundCase) -> dict:  # type: ignore[no-untyped-def]
    """What the public and officials see as numbers: board ranks and scores, counts per commune and group."""
    board = (await client.get(f"/api/v1/rounds/{case.round_id}/board")).json()
    contest = (await client.get(f"/api/v1/contests/{case.slug}/board")).json()
    return {
        "ranks": [(r["rank"], r["correct"], r["commune"]) for r in board["top"]],
        "communes": board["communes"],
        "groups": board["groups"],
        "people": board["people"],
        "contest_ranks": [(r["rank"], r["correct"]) for r in contest["top"]],
        "contest_communes": contest["communes"],
    }


async def test_erasing_a_person_removes_name_and_phone_everywhere_and_keeps_counts_and_ranks(
    client, new_round, clock, worker
) -> None:
    case = await new_round(closes_in=timedelta(hours=1))
    khoi = await person(case, 1, "Hoàng Minh Khôi")
    lan = await person(case, 2, "Vũ Thị Lan Anh")
    await person(case, 3, "Đặng Quốc Bảo")
    ha = await person(case, 4, "Bùi Thanh Hà", B)
    for who, correct in ((khoi, 4), (lan, 3), (ha, 1)):
        await take(case, who, correct)
    await kick()
    worker()
    clock.advance(hours=2)
    actor = await _organiser()
    await results.compute_results(actor, case.round_id)
    await results.publish(actor, case.round_id)
    phone = phone_of(case, 2)
    code = uuid.uuid4().hex[:20]
    await Certificate.insert(
        Certificate(
            code=code,
            kind="participation",
            contest=case.contest_id,
            round=case.round_id,
            contestant=lan,
            commune=A,
            subject=f"p:{lan}",
            holder="Vũ Thị Lan Anh",
            issued_at=clock.current,
        )  # fmt: skip
    )
    render = get_settings().storage_dir / "certificates" / str(case.contest_id) / f"{code}-v1.pdf"
    render.parent.mkdir(parents=True, exist_ok=True)
    render.write_bytes(b"%PDF old name")
    await audit(None, REVIEWED, f"contest:{case.contest_id}", signal="same_phone", key=phone, people=[lan])
    before = await _public_state(client, case)
    public_before = (await client.get(f"/results/{case.round_id}")).text
    assert short_name("Vũ Thị Lan Anh") in public_before
    for url in (f"/rounds/{case.round_id}/board", f"/c/{case.slug}/board"):  # shared fragments, cached a few seconds
        assert short_name("Vũ Thị Lan Anh") in (await client.get(url)).text, url

    await sign_in(client, await staff("organiser"))
    csrf = csrf_of((await client.get("/staff/privacy-requests")).text)
    erase = {"_csrf_token": csrf, "phone": phone, "confirmation": phone_of(case, 1), "reason": "Người dự thi yêu cầu xóa"}
    mismatch = await client.post("/staff/privacy-requests/erase", data=erase)
    assert mismatch.status_code == 422 and "không khớp" in mismatch.text
    no_reason = await client.post("/staff/privacy-requests/erase", data={**erase, "confirmation": phone, "reason": " "})
    assert no_reason.status_code == 422 and "Vui lòng ghi lý do" in no_reason.text
    assert await Contestant.exists().where(Contestant.phone == phone)
    assert not await AuditEntry.exists().where(AuditEntry.action == "privacy.erase")

    done = await client.post("/staff/privacy-requests/erase", data={**erase, "confirmation": "+84" + phone[1:]})
    assert done.status_code == 200 and "Đã xóa" in done.text
    row = await Contestant.select().where(Contestant.id == lan).first()
    assert (row["full_name"], row["phone"], row["birth_year"], row["registered_ip"]) == (
        ERASED_NAME,
        placeholder_phone(lan),
        None,
        None,
    )
    assert row["commune"] == A and row["erased_at"] == clock.current
    leftovers = await Contestant.raw(
        "SELECT (SELECT count(*) FROM contestant WHERE full_name = {} OR phone = {}) AS people, "
        "(SELECT count(*) FROM certificate WHERE holder = {}) AS certificates, "
        "(SELECT count(*) FROM audit_entry WHERE detail::text LIKE {} OR target LIKE {}) AS audit",
        "Vũ Thị Lan Anh", phone, "Vũ Thị Lan Anh", f"%{phone}%", f"%{phone}%",
    )  # fmt: skip
    assert leftovers[0] == {"people": 0, "certificates": 0, "audit": 0}
    assert not render.exists()
    entry = await AuditEntry.select().where(AuditEntry.action == "privacy.erase").order_by(AuditEntry.id, ascending=False).first()
    assert str(lan) in entry["target"] and "Người dự thi yêu cầu xóa" in json.dumps(entry["detail"], ensure_ascii=False)

    # Boards, counts and results are the same, without the person.
    assert await _public_state(client, case) == before
    board = (await client.get(f"/api/v1/rounds/{case.round_id}/board")).json()["top"]
    assert (board[1]["name"], board[1]["phone"]) == (ERASED_NAME, mask_phone(placeholder_phone(lan)))
    for url in (f"/rounds/{case.round_id}/board", f"/c/{case.slug}/board", f"/results/{case.round_id}"):
        text = (await client.get(url)).text
        assert short_name("Vũ Thị Lan Anh") not in text and phone not in text and mask_phone(phone) not in text, url
    assert public_before.count("<tr") == (await client.get(f"/results/{case.round_id}")).text.count("<tr")
    client.cookies.clear()
    await sign_in(client, await staff("official", [A]))
    summary = await client.get(f"/staff/officials/api/communes/{A}/summary", params={"contest": case.contest_id})
    assert (summary.json()["registered"], summary.json()["people"], summary.json()["attempts"]) == (3, 2, 2)
    sheet = await client.get(f"/staff/officials/communes/{A}/contestants.xlsx", params={"contest": case.contest_id})
    rows = list(openpyxl.load_workbook(io.BytesIO(sheet.content)).active.iter_rows(values_only=True))[1:]
    assert len(rows) == 3 and ERASED_NAME in [r[1] for r in rows]
    assert not any("Vũ Thị Lan Anh" in str(v) or phone in str(v) for r in rows for v in r)
    dashboard = await client.get(f"/staff/officials/communes/{A}", params={"contest": case.contest_id})
    assert ERASED_NAME in dashboard.text and ">None<" not in dashboard.text and phone not in dashboard.text
    # The person can no longer sign in, and a second request finds nothing.
    assert (
        await client.post(f"/api/v1/contests/{case.slug}/identify", json={"phone": phone, "birth_year": 1985})
    ).status_code == 422
    client.cookies.clear()
    await sign_in(client, await staff("organiser"))
    csrf = csrf_of((await client.get("/staff/privacy-requests")).text)
    again = await client.post("/staff/privacy-requests/erase", data={**erase, "_csrf_token": csrf, "confirmation": phone})
    assert again.status_code == 422 and "Không có dữ liệu cá nhân" in again.text


async def test_officials_get_403_and_strangers_the_login_on_privacy_requests(client) -> None:
    anonymous = await client.get("/staff/privacy-requests")
    assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/staff/login")
    await sign_in(client, await staff("official", [A]))
    csrf = csrf_of((await client.get("/staff/")).text)
    assert "/staff/privacy-requests" not in (await client.get("/staff/")).text
    assert (await client.get("/staff/privacy-requests")).status_code == 403
    for path in ("/staff/privacy-requests", "/staff/privacy-requests/export", "/staff/privacy-requests/erase"):
        refused = await client.post(path, data={"_csrf_token": csrf, "phone": "0912345678", "confirmation": "0912345678"})
        assert refused.status_code == 403, path
    client.cookies.clear()
    await sign_in(client, await staff("admin"))
    assert (await client.get("/staff/privacy-requests")).status_code == 200
    client.cookies.clear()
    await sign_in(client, await staff("organiser"))
    assert "/staff/privacy-requests" in (await client.get("/staff/")).text


# ---- retention ----------------------------------------------------------------------------------------


async def test_the_contest_form_sets_the_retention_period(client) -> None:
    await sign_in(client, await staff("organiser"))
    new = await client.get("/staff/contests/new")
    assert 'name="retention_days"' in new.text and 'value="365"' in new.text
    title = f"Công dân số {uuid.uuid4().hex[:6]}"
    fields = {"_csrf_token": csrf_of(new.text), "title": title, "time_limit_minutes": "10", **{f"quota.{t}": "1" for t in TOPICS}}
    short = await client.post("/staff/contests/new", data={**fields, "retention_days": "7"})
    assert short.status_code == 422 and "từ 30 đến 3650" in short.text and 'value="7"' in short.text
    made = await client.post("/staff/contests/new", data={**fields, "retention_days": "90"})
    assert made.status_code == 302
    contest_id = int(made.headers["location"].rsplit("/", 1)[1])
    assert (await Contest.select(Contest.retention_days).where(Contest.id == contest_id).first())["retention_days"] == 90
    kept = await client.post(f"/staff/contests/{contest_id}", data={**fields, "description": "Sửa giới thiệu"})
    assert kept.status_code == 302
    assert (await Contest.select(Contest.retention_days).where(Contest.id == contest_id).first())["retention_days"] == 90


async def _publish(round_id: int) -> None:
    actor = await _organiser()
    await results.compute_results(actor, round_id)
    await results.publish(actor, round_id)


async def _names(*ids: int) -> list[str]:
    rows = await Contestant.select(Contestant.id, Contestant.full_name).where(Contestant.id.is_in(list(ids)))
    by_id = {r["id"]: r["full_name"] for r in rows}
    return [by_id[i] for i in ids]


async def test_the_purge_waits_for_retention_after_the_last_round_spares_contests_in_retention_and_runs_once(
    new_round, clock
) -> None:
    x, y = await new_round(closes_in=timedelta(hours=1)), await new_round(closes_in=timedelta(hours=1))
    await Contest.update({Contest.retention_days: 30}).where(Contest.id == x.contest_id)
    last = await Round.insert(
        Round(
            contest=x.contest_id, number=2, title="Tuần 2", opens_at=clock.current, closes_at=clock.current + timedelta(days=10)
        )
    ).returning(Round.id)
    only_x = await person(x, 1, "Tạ Văn Lực")
    both_x = await person(x, 2, "Kiều Thị Mơ")
    both_y = await person(y, 2, "Kiều Thị Mơ", phone=phone_of(x, 2))
    only_y = await person(y, 3, "Lưu Văn Phúc")
    await take(x, only_x, 2)
    clock.advance(hours=2)
    await _publish(x.round_id)
    await _publish(y.round_id)
    clock.advance(days=40)
    assert x.contest_id not in (await purge()).contests  # its last round has no results yet
    assert await _names(only_x, both_x) == ["Tạ Văn Lực", "Kiều Thị Mơ"]

    await _publish(last[0]["id"])
    clock.advance(days=29)
    assert x.contest_id not in (await purge()).contests
    clock.advance(days=2)
    dry = await purge(dry_run=True)
    assert x.contest_id in dry.contests and dry.anonymised >= 1 and await _names(only_x) == ["Tạ Văn Lực"]
    done = await purge()
    assert x.contest_id in done.contests and y.contest_id not in done.contests
    assert done.anonymised >= 1 and done.waiting >= 1
    # Only in the expired contest: gone. Also in a contest within retention: waits. The other contest: untouched.
    assert await _names(only_x, both_x, both_y, only_y) == [ERASED_NAME, "Kiều Thị Mơ", "Kiều Thị Mơ", "Lưu Văn Phúc"]
    assert await Contestant.count().where(Contestant.contest == x.contest_id) == 2  # the row stays for the statistics
    assert (await purge()).anonymised == 0

    clock.advance(days=366)
    late = await purge()
    assert {x.contest_id, y.contest_id} <= set(late.contests)
    assert await _names(only_x, both_x, both_y, only_y) == [ERASED_NAME] * 4
    assert (await Contestant.select(Contestant.phone).where(Contestant.id == only_y).first())["phone"] != phone_of(y, 3)
    assert (await purge()).anonymised == 0
    assert await AuditEntry.exists().where(AuditEntry.action == "privacy.purge")


def test_the_purge_command_reports_what_it_would_do() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "contest.cli", "privacy", "purge", "--dry-run"],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "chạy thử" in done.stdout and "cuộc thi hết thời hạn lưu" in done.stdout


def test_the_daily_purge_job_runs_in_a_real_worker(worker) -> None:
    job = Queue(keys.QUEUE_PRIVACY, connection=sync_redis()).enqueue(purge_personal_data)
    worker()
    job.refresh()
    assert job.get_status() == "finished", job.latest_result()
    assert {"contests", "anonymised", "waiting"} <= set(job.return_value())


async def test_an_erased_registration_takes_no_more_attempts_while_the_round_is_open(new_round) -> None:
    case = await new_round()
    who = await person(case, 1, "Thái Văn Nam")
    await take(case, who, 2)
    assert await erase_contestants([who]) == 1
    assert await erase_contestants([who]) == 0  # already anonymised: nothing to do
    with pytest.raises(InputError) as refused:
        await starting.start_attempt(who, case.round_id)
    assert refused.value.errors == {"round": "round_not_open"}
