"""Awarding certificates (pass mark, prizes, collective), verification by code, revocation, downloads and zips."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest

from contest.attempts import finishing, starting
from contest.certificates import design, files, jobs, service
from contest.certificates.tables import Certificate
from contest.clock import VN_TZ
from contest.contests.tables import Round
from contest.i18n import InputError
from contest.results import service as results
from contest.scoring.queue import scoring_queue
from contest.settings import get_settings
from contest.staff.accounts import create_staff
from contest.staff.signin import staff_user
from contest.staff.tables import AuditEntry
from tests.certificates.test_render import decode_qr
from tests.conftest import ROOT
from tests.factories import HAI_PHONG_COMMUNES, answer, certificate_design
from tests.staff.test_signin import csrf_of, sign_in, staff

NAMES = ("Trần Thị Bích Ngọc", "Lê Văn Bình", "Phạm Minh Châu", "Đỗ Hữu Dũng")


async def _organiser():  # type: ignore[no-untyped-def]
    staff_id = await create_staff(f"o-{uuid.uuid4().hex[:8]}@haiphong.gov.vn", "Ban tổ chức", "organiser")
    return await staff_user(staff_id, 0)


async def _take(case, clock, who: int, correct: int) -> int:  # type: ignore[no-untyped-def]
    attempt_id = await starting.start_attempt(who, case.round_id)
    await answer(attempt_id, who, correct)
    clock.advance(seconds=30)
    assert (await finishing.submit(attempt_id, who)).first
    return attempt_id


async def _scored_round(new_round, clock, worker, pass_mark: int | None = 2, prizes: list | None = None):  # type: ignore[no-untyped-def]
    """Four contestants from two communes with 4, 3, 1 and 0 correct answers, scored by a real worker."""
    case = await new_round(closes_in=timedelta(hours=1))
    await certificate_design(case.contest_id)
    await Round.update({Round.pass_mark: pass_mark, Round.prizes: json.dumps(prizes or [])}).where(Round.id == case.round_id)
    people = []
    for i, correct in enumerate((4, 3, 1, 0)):
        commune = HAI_PHONG_COMMUNES[0] if i < 3 else HAI_PHONG_COMMUNES[1]
        who = await case.contestant(i + 1, commune=commune, name=NAMES[i])
        await _take(case, clock, who, correct)
        people.append(who)
    scoring_queue().enqueue("contest.scoring.jobs.score_submitted")
    worker()
    return case, people


async def _certs(round_id: int) -> list[dict]:
    return await Certificate.select().where(Certificate.round == round_id).order_by(Certificate.id)


async def test_contestants_at_the_pass_mark_get_one_participation_certificate_however_often_it_is_awarded(
    new_round, clock, worker
) -> None:
    case, people = await _scored_round(new_round, clock, worker, pass_mark=3)
    first = await service.award_round(case.round_id)
    assert first.participation == 2
    assert "cert_results_unpublished" in (first.skipped or [])
    again = await service.award_round(case.round_id)
    assert again.participation == 0
    certs = await _certs(case.round_id)
    assert sorted(c["contestant"] for c in certs) == sorted(people[:2])
    assert all(len(c["code"]) == 20 and int(c["code"], 16) >= 0 for c in certs)
    assert len({c["code"] for c in certs}) == 2
    assert {c["holder"] for c in certs} == set(NAMES[:2])
    # The result page hands out the same certificate, and none to who fell short.
    mine = await service.for_result_page(people[0], case.round_id)
    assert [c["code"] for c in mine] == [c["code"] for c in certs if c["contestant"] == people[0]]
    assert await service.for_result_page(people[2], case.round_id) == []


async def test_concurrent_awards_still_make_one_certificate_per_person(new_round, clock, worker) -> None:
    case, people = await _scored_round(new_round, clock, worker, pass_mark=1)
    await asyncio.gather(
        *(service.award_participation(who, case.round_id) for who in people * 3), service.award_round(case.round_id)
    )
    certs = await _certs(case.round_id)
    assert sorted(c["contestant"] for c in certs) == sorted(people[:3])


async def test_a_round_without_a_pass_mark_awards_no_participation_certificates(new_round, clock, worker) -> None:
    case, people = await _scored_round(new_round, clock, worker, pass_mark=None)
    report = await service.award_round(case.round_id)
    assert report.total == 0 and "cert_no_pass_mark" in (report.skipped or [])
    assert await service.for_result_page(people[0], case.round_id) == []


async def test_prize_and_collective_certificates_follow_the_published_results(new_round, clock, worker) -> None:
    prizes = [{"name": "Giải Nhất", "count": 1}, {"name": "Giải Nhì", "count": 1}]
    # Pass mark 1: the third place (1 right) may move up to a prize; the fourth (0 right) may not.
    case, people = await _scored_round(new_round, clock, worker, pass_mark=1, prizes=prizes)
    organiser = await _organiser()
    clock.advance(hours=2)
    await results.compute_results(organiser, case.round_id)
    await results.disqualify(organiser, case.round_id, people[1], "Dùng hai tài khoản")
    assert (await service.award_round(case.round_id)).prize == 0  # computed, not yet published
    await results.publish(organiser, case.round_id)
    report = await service.award_round(case.round_id)
    certs = await _certs(case.round_id)
    prize = {c["contestant"]: c["prize"] for c in certs if c["kind"] == "prize"}
    # The disqualified second place gets nothing; the prizes moved up to the next eligible people.
    assert prize == {people[0]: "Giải Nhất", people[2]: "Giải Nhì"}
    assert people[1] not in {c["contestant"] for c in certs}
    collective = [c for c in certs if c["kind"] == "collective"]
    # Three people took part from the first commune and one from the second: both are in the top three.
    assert {c["commune"] for c in collective} == set(HAI_PHONG_COMMUNES)
    assert all(c["contestant"] is None for c in collective)
    assert report.prize == 2 and report.collective == 2
    assert (await service.award_round(case.round_id)).total == 0


async def test_the_verification_page_confirms_a_certificate_with_a_shortened_name(client, new_round, clock, worker) -> None:
    case, people = await _scored_round(new_round, clock, worker, pass_mark=3)
    await service.award_round(case.round_id)
    cert = next(c for c in await _certs(case.round_id) if c["contestant"] == people[0])
    page = await client.get(f"/verify/{cert['code']}")
    assert page.status_code == 200
    assert "Giấy chứng nhận hợp lệ" in page.text and "Trần T. B. N." in page.text
    assert NAMES[0] not in page.text  # the full name stays on the paper
    # As typed from the paper: upper case, in groups.
    typed = "-".join(cert["code"][i : i + 4] for i in range(0, 20, 4)).upper()
    assert (await client.get(f"/verify/{typed}")).status_code == 200
    unknown = await client.get("/verify/0000000000000000dead")
    assert unknown.status_code == 404 and "Không tìm thấy giấy chứng nhận" in unknown.text


async def test_a_revoked_certificate_says_so_with_its_date_but_not_the_reason_and_cannot_be_downloaded(
    client, new_round, clock, worker
) -> None:
    case, people = await _scored_round(new_round, clock, worker, pass_mark=3)
    await service.award_round(case.round_id)
    cert = next(c for c in await _certs(case.round_id) if c["contestant"] == people[1])
    organiser = await _organiser()
    with pytest.raises(InputError) as refused:
        await service.revoke(organiser, cert["code"], " ")
    assert refused.value.errors == {"reason": "reason_invalid"}
    await service.revoke(organiser, cert["code"], "Gian lận khi làm bài")
    with pytest.raises(InputError):
        await service.revoke(organiser, cert["code"], "Lần nữa")
    page = await client.get(f"/verify/{cert['code']}")
    # The public page says revoked and when; the organiser's reason (it may name a person or an offence) stays for staff.
    assert "THU HỒI" in page.text and clock.current.astimezone(VN_TZ).strftime("%d/%m/%Y") in page.text
    assert "Gian lận khi làm bài" not in page.text
    await sign_in(client, await staff("organiser"))
    assert "Gian lận khi làm bài" in (await client.get(f"/staff/certificates/round/{case.round_id}")).text
    assert (await client.get(f"/certificates/{cert['code']}/pdf")).status_code == 404
    logged = await AuditEntry.select().where((AuditEntry.action == "certificate.revoke") & (AuditEntry.target == cert["code"]))
    assert len(logged) == 1
    # A revoked certificate is not handed out again by a later award.
    assert (await service.award_round(case.round_id)).participation == 0


async def test_verification_is_rate_limited(client) -> None:
    codes = [f"{i:020x}" for i in range(25)]
    statuses = [(await client.get(f"/verify/{code}")).status_code for code in codes]
    assert statuses[0] == 404 and 429 in statuses


async def test_a_worker_renders_the_certificate_the_holder_downloads_as_pdf_and_jpeg(client, new_round, clock, worker) -> None:
    case, people = await _scored_round(new_round, clock, worker, pass_mark=3)
    await service.award_round(case.round_id)
    code = next(c["code"] for c in await _certs(case.round_id) if c["contestant"] == people[0])
    waiting = await client.get(f"/certificates/{code}/files")
    assert "Đang chuẩn bị" in waiting.text and 'hx-trigger="load delay:1s"' in waiting.text
    worker()
    ready = await client.get(f"/certificates/{code}/files")
    assert f"/certificates/{code}/pdf" in ready.text and f"/certificates/{code}/jpg" in ready.text
    pdf = await client.get(f"/certificates/{code}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF") and pdf.headers["content-type"] == "application/pdf"
    jpeg = await client.get(f"/certificates/{code}/jpg")
    assert jpeg.content.startswith(b"\xff\xd8") and jpeg.headers["content-type"] == "image/jpeg"
    assert (await client.get(f"/certificates/{code}/png")).content == jpeg.content  # links shared before still work
    # A new wording is a new design version: the next request renders again.
    cert = await service.by_code(code)
    assert cert is not None
    values = await design.design_of(case.contest_id)
    assert files.cached(cert, values, "pdf") is not None
    changed = {**values, "participation_text": "Đã hoàn thành xuất sắc"}
    changed["version"] = design._version(changed)
    assert files.cached(cert, changed, "pdf") is None


@contextmanager
def public_url(url: str) -> Iterator[None]:
    saved = os.environ.get("CONTEST_PUBLIC_URL")
    os.environ["CONTEST_PUBLIC_URL"] = url
    get_settings.cache_clear()
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("CONTEST_PUBLIC_URL", None)
        else:
            os.environ["CONTEST_PUBLIC_URL"] = saved
        get_settings.cache_clear()


async def test_a_new_public_address_changes_the_qr_code_of_a_certificate_downloaded_again(
    client, new_round, clock, worker
) -> None:
    case, people = await _scored_round(new_round, clock, worker, pass_mark=3)
    await service.award_round(case.round_id)
    code = next(c["code"] for c in await _certs(case.round_id) if c["contestant"] == people[0])
    with public_url("http://127.0.0.1:8000"):
        await client.get(f"/certificates/{code}/files")
        worker()
        first = await client.get(f"/certificates/{code}/jpg")
        assert decode_qr(first.content) == [f"http://127.0.0.1:8000/verify/{code}"]
    with public_url("https://thi.haiphong.gov.vn"):
        # The file cached for the old address is not served: it is rendered again for the new one.
        assert (await client.get(f"/certificates/{code}/jpg")).status_code == 404
        worker()
        again = await client.get(f"/certificates/{code}/jpg")
        assert decode_qr(again.content) == [f"https://thi.haiphong.gov.vn/verify/{code}"]


async def test_awarding_a_round_is_one_job_with_progress_and_its_zip_holds_every_valid_pdf(new_round, clock, worker) -> None:
    case, people = await _scored_round(new_round, clock, worker, pass_mark=1)
    organiser = await _organiser()
    job_id = await jobs.queue_award(case.round_id, organiser.id)
    assert jobs.job_state(job_id)["status"] == "queued"
    worker()
    state = jobs.job_state(job_id)
    assert state["status"] == "finished" and state["result"]["participation"] == 3
    assert state["phase"] == "participation" and state["percent"] == 100
    revoked = next(c for c in await _certs(case.round_id) if c["contestant"] == people[2])
    await service.revoke(organiser, revoked["code"], "Nhầm người")
    zip_id = await jobs.queue_zip(case.round_id, None, None, organiser.id)
    worker()
    state = jobs.job_state(zip_id)
    assert state["status"] == "finished" and state["result"]["count"] == 2
    path = files.zips_dir() / state["result"]["file"]
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert len(names) == 2 and all(name.endswith(".pdf") for name in names)
        assert all(name.startswith("Phường Thuỷ Nguyên/") and " - Giấy chứng nhận tham gia - " in name for name in names)
        assert not any(revoked["code"] in name for name in names)
        assert all(archive.read(name).startswith(b"%PDF") for name in names)


async def test_the_organiser_edits_the_design_and_a_bad_image_saves_nothing(client, new_round) -> None:
    case = await new_round()
    await sign_in(client, await staff("organiser"))
    url = f"/staff/certificates/contest/{case.contest_id}"
    form = await client.get(url)
    assert form.status_code == 200 and "Xem trước" in form.text
    token = csrf_of(form.text)
    fields = {
        "_csrf_token": token,
        "issuer": "ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG",
        "signer_name": "Nguyễn Văn Tùng",
        "collective_top": "10",
    }
    bad = await client.post(f"{url}/design", data=fields, files={"seal": ("seal.png", b"not an image", "image/png")})
    assert bad.status_code == 422 and "ảnh" in bad.text.lower()
    assert (await design.design_of(case.contest_id))["issuer"] == ""
    good = await client.post(f"{url}/design", data=fields)
    assert good.status_code in (302, 303)
    saved = await design.design_of(case.contest_id)
    assert saved["issuer"] == fields["issuer"] and saved["collective_top"] == 10
    preview = await client.get(f"{url}/preview.png", params={"name": design.SAMPLE_NAMES[1], "kind": "prize"})
    assert preview.status_code == 200 and preview.content.startswith(b"\x89PNG")
    fragment = await client.get(f"{url}/preview", params={"signer_name": "Trần Thị Hoa"})
    assert "signer_name=Tr" in fragment.text and fragment.text.count("<img") == 2


async def test_officials_cannot_open_the_certificate_pages(client, new_round) -> None:
    case = await new_round()
    await sign_in(client, await staff("official", [HAI_PHONG_COMMUNES[0]]))
    assert (await client.get(f"/staff/certificates/contest/{case.contest_id}")).status_code == 403
    page = await client.get("/staff/certificates/")
    assert page.status_code == 403


async def test_the_cli_awards_a_round_with_a_progress_bar(new_round, clock, worker) -> None:
    case, _ = await _scored_round(new_round, clock, worker, pass_mark=3)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "contest.cli", "certificates", "award", "--round", str(case.round_id)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert "participation: 2" in done.stdout
    assert "participation" in done.stderr and "100%" in done.stderr
    assert len(await _certs(case.round_id)) == 2
