"""Certificate files at a province's scale: light files with the demo's design, a print shop's bundles, the signer's
block as Decree 30 writes it, no certificate without an issuing body and a signer, storage that is purged."""

from __future__ import annotations

import asyncio
import io
import math
import os
import re
import subprocess
import sys
import time
import unicodedata
import zipfile
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops, ImageStat

from contest.certificates import bundles, design, files, jobs, purge, render, service
from contest.certificates.layout import Picture, Text, page_layout
from contest.certificates.tables import Certificate
from contest.i18n import InputError
from loadtests.bench_certificates import make_design, make_faces, pdf_text
from tests.certificates.test_awards import NAMES, _certs, _organiser, _scored_round
from tests.certificates.test_render import assert_everything_fits, decode_qr
from tests.conftest import ROOT
from tests.factories import certificate_design
from tests.staff.test_signin import csrf_of, sign_in, staff

KB = 1024


def psnr(a: Image.Image, b: Image.Image) -> float:
    """Peak signal-to-noise ratio in dB of b against a (higher is closer; 40 dB is about invisible)."""
    diff = ImageStat.Stat(ImageChops.difference(a.convert("RGB"), b.convert("RGB")))
    mse = sum(s / n for s, n in zip(diff.sum2, diff.count, strict=True)) / 3
    return 10 * math.log10(255**2 / mse) if mse else 99.0


def worst_tile(a: Image.Image, b: Image.Image, side: int = 100) -> float:
    """The lowest PSNR over tiles of side pixels: a local blemish shows here though the average hides it."""
    boxes = [(x, y, x + side, y + side) for x in range(0, a.width - side + 1, side) for y in range(0, a.height - side + 1, side)]
    return min(psnr(a.crop(box), b.crop(box)) for box in boxes)


@pytest.fixture(scope="module")
def demo_design(tmp_path_factory: pytest.TempPathFactory) -> render.Design:
    return make_design(tmp_path_factory.mktemp("design"))


def test_a_certificate_with_the_demo_design_is_a_light_pdf_and_phone_image_that_still_reads_and_scans(demo_design) -> None:
    for face in make_faces(6):  # all three kinds, long and short names
        pdf = render.render_pdf(demo_design, face)
        assert len(pdf) <= 120 * KB, f"{len(pdf) / KB:.0f} KB"
        assert " ".join(face.holder.split()) in pdf_text(pdf).replace("\n", " ")
        phone = render.render_jpeg(demo_design, face)
        assert phone.startswith(b"\xff\xd8") and len(phone) <= 250 * KB, f"{len(phone) / KB:.0f} KB"
        assert decode_qr(phone) == [face.verify_url]
    # No visible loss: the phone JPEG against the same page drawn losslessly, the whole page and its worst corner.
    lossless = Image.open(io.BytesIO(render.render_png(demo_design, face)))
    jpeg = Image.open(io.BytesIO(phone))
    assert jpeg.size == lossless.size == (1754, 1240)
    assert psnr(lossless, jpeg) >= 36 and worst_tile(lossless, jpeg) >= 27
    # The PDF's one image (background, seal and signature) against the same picture uncompressed, at 150 dpi.
    assert pdf.count(b"/Subtype /Image") == 1
    stream = re.search(rb"/Subtype /Image.*?stream\r?\n", pdf, re.S)
    assert stream is not None
    embedded = Image.open(io.BytesIO(pdf[stream.end() : pdf.index(b"endstream", stream.end())]))
    reference = render.sheet_picture(tuple(e for e in page_layout(demo_design) if isinstance(e, Picture)))
    assert embedded.size == reference.size == (1754, 1240)
    assert psnr(reference, embedded) >= 36 and worst_tile(reference, embedded) >= 25


def test_a_communes_certificates_as_one_pdf_store_the_background_once(demo_design) -> None:
    faces = make_faces(40)
    one = render.render_pdf(demo_design, faces[0])
    book = render.render_book([(demo_design, face) for face in faces], "Phường Hồng Bàng")
    assert len(re.findall(rb"/Type /Page\b", book)) == 40 and book.count(b"/Subtype /Image") == 1
    assert len(book) < len(one) + 39 * 8 * KB  # each page after the first adds its text, not another background
    shown = pdf_text(book).replace("\n", " ")
    assert all(" ".join(face.holder.split()) in shown for face in faces)


def test_the_signer_block_puts_the_authority_line_and_the_title_on_lines_of_their_own() -> None:
    typed = {"issuer": "ỦY BAN NHÂN DÂN\r\nTHÀNH PHỐ  HẢI PHÒNG", "signer_title": "KT. CHỦ TỊCH\r\n  PHÓ CHỦ TỊCH "}
    values, errors = design.parse_form(typed)
    assert not errors and values["signer_title"] == "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
    assert values["issuer"] == "ỦY BAN NHÂN DÂN\nTHÀNH PHỐ HẢI PHÒNG"
    assert design.parse_form({"signer_title": "A\nB\nC\nD"})[1] == {"signer_title": "text_too_many_lines"}
    assert design.parse_form({"place": "Hải\nPhòng"})[0]["place"] == "Hải Phòng"  # one-line fields stay one line
    look = render.Design(
        issuer=values["issuer"], place="Hải Phòng", signer_name="Nguyễn Văn Tùng", signer_title=values["signer_title"],
        wording="", background=None, seal=None, signature=None, version="t",
    )  # fmt: skip
    lines = [t for t in page_layout(look) if isinstance(t, Text)]
    authority, title, name = (next(t for t in lines if t.text == s) for s in ("KT. CHỦ TỊCH", "PHÓ CHỦ TỊCH", "Nguyễn Văn Tùng"))
    assert authority.y < title.y < name.y and authority.x == title.x
    # Three lines (TM. / KT. / title) still fit above the signature.
    face = make_faces(1)[0]
    assert_everything_fits(replace(look, signer_title="TM. ỦY BAN NHÂN DÂN\nKT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"), face)


async def test_the_organisers_form_keeps_the_signer_block_on_two_lines(client, new_round) -> None:
    case = await new_round()
    await sign_in(client, await staff("organiser"))
    url = f"/staff/certificates/contest/{case.contest_id}"
    form = await client.get(url)
    assert '<textarea class="wording" id="signer_title"' in form.text
    fields = {"_csrf_token": csrf_of(form.text), "issuer": "ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG",
              "signer_title": "KT. CHỦ TỊCH\r\nPHÓ CHỦ TỊCH", "signer_name": "Nguyễn Văn Tùng"}  # fmt: skip
    assert (await client.post(f"{url}/design", data=fields)).status_code in (302, 303)
    assert (await design.design_of(case.contest_id))["signer_title"] == "KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH"
    shown = await client.get(url)
    assert ">KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH</textarea>" in shown.text


async def test_no_certificate_is_awarded_until_the_design_names_an_issuing_body_and_a_signer(
    client, new_round, clock, worker
) -> None:
    case, people = await _scored_round(new_round, clock, worker, pass_mark=1)
    await Certificate.raw("DELETE FROM certificate_design WHERE contest = {}", case.contest_id)
    with pytest.raises(InputError) as refused:
        await service.award_round(case.round_id)
    assert refused.value.errors == {"round": "cert_design_missing"}
    # The result page offers nothing, and makes nothing.
    assert await service.for_result_page(people[0], case.round_id) == []
    await certificate_design(case.contest_id, issuer="ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG", signer_name="")
    assert await service.award_participation(people[0], case.round_id) is None
    # The organiser is told on the design page and when awarding.
    await sign_in(client, await staff("organiser"))
    page = await client.get(f"/staff/certificates/contest/{case.contest_id}")
    assert "mẫu giấy của cuộc thi cần ghi Cơ quan cấp và Họ tên người ký" in page.text
    csrf = csrf_of(page.text)
    award = await client.post(f"/staff/certificates/round/{case.round_id}/award", data={"_csrf_token": csrf})
    assert award.status_code == 422 and "Chưa thể cấp giấy chứng nhận" in award.text
    assert await _certs(case.round_id) == []
    # With a signer it goes, and the verification page names who issued it.
    await certificate_design(case.contest_id, signer_name="Nguyễn Văn Tùng", issuer="SỞ KHOA HỌC VÀ CÔNG NGHỆ\nHẢI PHÒNG")
    assert (await service.award_round(case.round_id)).participation == 3
    code = (await _certs(case.round_id))[0]["code"]
    verify = await client.get(f"/verify/{code}")
    assert "Cơ quan cấp" in verify.text and "SỞ KHOA HỌC VÀ CÔNG NGHỆ HẢI PHÒNG" in verify.text


async def test_the_purge_removes_renders_of_a_superseded_design_and_old_bundles(new_round, clock, worker) -> None:
    case, people = await _scored_round(new_round, clock, worker, pass_mark=3)
    await service.award_round(case.round_id)
    cert = await service.by_code((await _certs(case.round_id))[0]["code"])
    assert cert is not None
    old = files.render_cert(cert, await design.design_of(case.contest_id))
    await certificate_design(case.contest_id, signer_name="Trần Thị Hoa")  # a new version of the design
    new = files.render_cert(cert, await design.design_of(case.contest_id))
    assert old["pdf"] != new["pdf"] and all(path.exists() for path in (*old.values(), *new.values()))
    files.zips_dir().mkdir(parents=True, exist_ok=True)
    stale, fresh = files.zips_dir() / f"round-{case.round_id}-old.zip", files.zips_dir() / f"round-{case.round_id}-new.zip"
    for path in (stale, fresh):
        path.write_bytes(b"PK")
    two_days_ago = time.time() - 2 * 24 * 3600
    os.utime(stale, (two_days_ago, two_days_ago))
    # The daily job, in a worker.
    job = await asyncio.to_thread(jobs._queue().enqueue, purge.purge_files)
    worker()
    assert job.id and jobs.Job.fetch(job.id, connection=jobs.sync_redis()).return_value()["renders"] >= 2
    assert not any(path.exists() for path in old.values()) and all(path.exists() for path in new.values())
    assert not stale.exists() and fresh.exists()
    # A purged certificate is rendered again on request.
    assert files.cached(cert, await design.design_of(case.contest_id), "pdf") is not None


async def test_a_rounds_bundles_keep_vietnamese_names_in_a_real_unzip_and_their_size_is_shown_first(
    client, new_round, clock, worker, tmp_path: Path
) -> None:
    case, people = await _scored_round(new_round, clock, worker, pass_mark=0)  # 3 in Thuỷ Nguyên, 1 in Thiên Hương
    await service.award_round(case.round_id)
    await sign_in(client, await staff("organiser"))
    page = await client.get(f"/staff/certificates/round/{case.round_id}")
    assert "Dung lượng ước tính" in page.text and re.search(r"≈ \d+,\d MB", page.text)
    assert 'name="layout"' in page.text and 'value="communes"' in page.text
    organiser = await _organiser()
    # One PDF per certificate: folders per commune, the holder's name as written.
    zip_id = await jobs.queue_zip(case.round_id, None, None, organiser.id)
    worker()
    path = files.zips_dir() / jobs.job_state(zip_id)["result"]["file"]
    with zipfile.ZipFile(path) as archive:
        assert all(info.flag_bits & 0x800 for info in archive.infolist())  # UTF-8 names, flagged
    if not Path("/usr/bin/unzip").exists():
        pytest.skip("Info-ZIP unzip is not installed (apt-get install unzip)")
    out = tmp_path / "files"
    env = {**os.environ, "LC_ALL": "C.UTF-8"}
    subprocess.run(["unzip", "-q", str(path), "-d", str(out)], check=True, env=env)
    written = sorted(unicodedata.normalize("NFC", str(p.relative_to(out))) for p in out.rglob("*.pdf"))
    assert len(written) == 4 and sum(p.startswith("Phường Thuỷ Nguyên/") for p in written) == 3
    assert {p.split("/")[1].split(" - ")[0] for p in written} == set(NAMES)
    # One many-page PDF for one commune.
    book_id = await jobs.queue_zip(case.round_id, None, 11560, organiser.id, "communes")
    worker()
    result = jobs.job_state(book_id)["result"]
    book = (files.zips_dir() / result["file"]).read_bytes()
    assert result["file"].endswith(".pdf") and len(re.findall(rb"/Type /Page\b", book)) == 3
    assert (await client.get(f"/staff/certificates/zips/{result['file']}")).headers["content-type"] == "application/pdf"
    # Every commune: a zip of one PDF each.
    all_id = await jobs.queue_zip(case.round_id, None, None, organiser.id, "communes")
    worker()
    with zipfile.ZipFile(files.zips_dir() / jobs.job_state(all_id)["result"]["file"]) as archive:
        assert sorted(archive.namelist()) == ["Phường Thiên Hương.pdf", "Phường Thuỷ Nguyên.pdf"]


def test_zip_names_follow_windows_rules() -> None:
    assert bundles.safe_name('Lê "Tí" <Nhỏ>: a/b\\c|d?*.') == "Lê Tí Nhỏ a b c d"
    assert bundles.safe_name(unicodedata.normalize("NFD", "Nguyễn")) == "Nguyễn" and bundles.safe_name("...") == "_"
    assert len(bundles.safe_name("Công Tằng Tôn Nữ " * 10)) <= 80


async def test_make_run_warns_when_certificates_carry_a_loopback_address(new_round, clock, worker) -> None:
    def warning(url: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", "from contest.commands.processes import warn_loopback_qr; warn_loopback_qr()"],
            cwd=ROOT, env={**os.environ, "CONTEST_PUBLIC_URL": url}, capture_output=True, text=True, check=True,
        )  # fmt: skip
        return done.stdout

    case, _ = await _scored_round(new_round, clock, worker, pass_mark=1)
    await service.award_round(case.round_id)
    said = await asyncio.to_thread(warning, "http://127.0.0.1:8000")
    assert "CẢNH BÁO" in said and "CONTEST_PUBLIC_URL" in said and "http://127.0.0.1:8000" in said
    assert "CẢNH BÁO" in await asyncio.to_thread(warning, "http://localhost:8000")
    assert await asyncio.to_thread(warning, "https://thi.haiphong.gov.vn") == ""
