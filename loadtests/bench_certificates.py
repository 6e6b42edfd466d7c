"""Benchmark: certificates rendered per second, PDF (print) and JPEG (phones), on every core, with their sizes; and one
RQ award job over a whole province's contestants. Exits 1 when a goal is missed or a check fails.

    .venv/bin/python -m loadtests.bench_certificates [--render 2000] [--award 311243]

Render part: the demo's design (contest.certificates.sample: a background photo, a red seal and a signature scanned
on white paper, each passed through prepare_design_image as an organiser's upload is) and N certificates with
distinct names, communes and scores. A pool of os.cpu_count() processes renders all N as PDFs, then all N as
JPEGs; each worker renders one certificate before the clock starts, as a long-lived RQ worker would have.
Workers return the sizes, and every 20th file for the checks after the clock: the holder's name in the PDF's text
layer, the QR code of the JPEG decoding to the verification address. Needs no servers. Besides the rates it prints
the CPU time of each file, which still tells what idle cores would do when the run shared the machine.

Goals (each can be changed, e.g. set out of reach to see the exit code): >= 150 PDFs/s (--goal-pdfs), PDF <= 120 KB
(--goal-pdf-kb) and phone JPEG <= 250 KB (--goal-jpg-kb) each, award of 311,243 within 120 s (--goal-award-seconds).
"""

from __future__ import annotations

import argparse
import datetime
import io
import os
import random
import re
import sys
import tempfile
import time
import zlib
from multiprocessing import Barrier, Pool
from multiprocessing.synchronize import Barrier as BarrierType
from pathlib import Path

from contest.certificates import sample
from contest.certificates.render import Design, Face, prepare_design_image, render_jpeg, render_pdf
from loadtests.bench_scoring import machine_line

GOAL_PDF_PER_S = 150
GOAL_PDF_KB = 120
GOAL_JPG_KB = 250
CHECK_EVERY = 20
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = [
    "Văn",
    "Thị",
    "Hữu",
    "Đức",
    "Ngọc",
    "Thu",
    "Minh",
    "Quốc",
    "Thanh",
    "Xuân",
    "Hoàng",
    "Bảo",
    "Thị Phương",
    "Công Tằng Tôn Nữ",
]
GIVEN = ["An", "Bình", "Chi", "Dũng", "Giang", "Hà", "Hải", "Hằng", "Hiếu", "Hồng Nhung", "Khánh", "Lâm", "Linh", "Mỹ",
         "Nguyệt", "Phúc", "Quỳnh", "Sơn", "Thảo", "Trâm Anh", "Tùng", "Uyên", "Việt", "Yến", "Ỷ Lan"]  # fmt: skip
COMMUNES = ["Phường Hồng Bàng", "Phường Lê Chân", "Xã An Lão", "Phường Ngô Quyền", "Xã Thủy Nguyên", "Đặc khu Cát Hải"]
CONTEST = "Cuộc thi trực tuyến “Công dân số Hải Phòng – sử dụng thông minh, sống an toàn”"


def make_design(folder: Path) -> Design:
    """The demo's design (contest.certificates.sample), its images prepared as an organiser's uploads are."""
    paths: dict[str, Path] = {}
    for role, data in sample.uploads().items():
        path = folder / f"{role}.{'jpg' if role == 'background' else 'png'}"
        path.write_bytes(prepare_design_image(data, role))
        paths[role] = path
    text = sample.TEXT
    return Design(
        issuer=text["issuer"],
        place=text["place"],
        signer_name=text["signer_name"],
        signer_title=text["signer_title"],
        wording="",
        background=paths["background"],
        seal=paths["seal"],
        signature=paths["signature"],
        version="bench",
    )


def make_faces(n: int, seed: int = 7) -> list[Face]:
    """n certificates with distinct codes and varied names, all three kinds."""
    rng = random.Random(seed)
    faces = []
    for i in range(n):
        code = f"{rng.getrandbits(80):020x}"
        kind = ("participation", "participation", "participation", "prize", "collective")[i % 5]
        holder = f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        commune = rng.choice(COMMUNES)
        prize = rng.choice(["Giải Nhất", "Giải Nhì", "Giải Ba", "Giải Khuyến khích"]) if kind == "prize" else None
        faces.append(Face(
            kind=kind, code=code, holder=commune if kind == "collective" else holder,
            commune="" if kind == "collective" else commune, contest_title=CONTEST, round_title=f"Tuần thi thứ {1 + i % 4}",
            prize=prize, detail=f"Đạt {rng.randint(6, 12)}/12 câu đúng", issued_on=datetime.date(2026, 11, 22),
            verify_url=f"https://chuyendoiso.haiphong.gov.vn/verify/{code}",
        ))  # fmt: skip
    return faces


_design: Design | None = None


def _start_worker(design: Design, first: Face, ready: BarrierType) -> None:
    global _design
    _design = design
    render_pdf(design, first)  # fonts, images and the page come into the caches before the clock starts
    render_jpeg(design, first)
    ready.wait()


def _pdf(job: tuple[int, Face]) -> tuple[int, int, float, bytes | None]:
    """Size of the PDF and the CPU seconds it took (CPU time holds even when a neighbour shares the cores); the file
    itself for every CHECK_EVERY-th certificate."""
    assert _design is not None
    i, face = job
    start = time.process_time()
    data = render_pdf(_design, face)
    return i, len(data), time.process_time() - start, data if i % CHECK_EVERY == 0 else None


def _jpg(job: tuple[int, Face]) -> tuple[int, int, float, bytes | None]:
    assert _design is not None
    i, face = job
    start = time.process_time()
    data = render_jpeg(_design, face)
    return i, len(data), time.process_time() - start, data if i % CHECK_EVERY == 0 else None


def pdf_text(pdf: bytes) -> str:
    """Every string a reportlab PDF shows (compressed or not), decoded through its fonts' ToUnicode maps."""
    bodies: dict[bytes, bytes] = {}
    for number, body in re.findall(rb"\n(\d+) 0 obj\n(.*?)\nendobj", pdf, re.S):
        stream = re.search(rb"stream\r?\n", body)
        if stream and b"/FlateDecode" in body[: stream.start()] and b"/Subtype /Image" not in body[: stream.start()]:
            body = body[: stream.end()] + zlib.decompressobj().decompress(body[stream.end() :])
        bodies[number] = body
    to_unicode: dict[bytes, dict[int, str]] = {}
    for body in bodies.values():
        name, cmap = re.search(rb"/Name /(\S+)", body), re.search(rb"/ToUnicode (\d+) 0 R", body)
        if name and cmap:
            pairs = re.findall(rb"<([0-9A-F]{2})> <([0-9A-F]{4,})>", bodies[cmap.group(1)])
            to_unicode[name.group(1)] = {int(code, 16): bytes.fromhex(char.decode()).decode("utf-16-be") for code, char in pairs}
    shown, font = [], b""
    for body in bodies.values():
        for match in re.finditer(rb"/(\S+) [\d.]+ Tf|\(((?:\\.|[^\\)])*)\) Tj", body):
            if match.group(1):
                font = match.group(1)
                continue
            raw = re.sub(rb"\\([0-7]{1,3}|.)", lambda m: bytes([int(m[1], 8)]) if m[1][:1].isdigit() else m[1], match.group(2))
            shown.append("".join(to_unicode.get(font, {}).get(code, "?") for code in raw))
    return "\n".join(shown)


def decoded_qr(picture: bytes) -> list[str]:
    import zxingcpp  # a test dependency (.[dev])
    from PIL import Image

    return [code.text for code in zxingcpp.read_barcodes(Image.open(io.BytesIO(picture)))]


def render_benchmark(n: int) -> dict:
    """Render n certificates as PDFs, then as JPEGs, on a pool of every core: rates, CPU each, sizes and checks."""
    workers = os.cpu_count() or 1
    faces = make_faces(n)
    result: dict = {"certificates": n, "workers": workers, "problems": []}
    with tempfile.TemporaryDirectory(prefix="bench-certificates-") as folder:
        design = make_design(Path(folder))
        ready = Barrier(workers + 1)
        with Pool(workers, initializer=_start_worker, initargs=(design, faces[0], ready)) as pool:
            ready.wait()  # every worker is warm
            chunk = max(1, n // (workers * 8))
            for kind, render in (("pdf", _pdf), ("jpg", _jpg)):
                start = time.perf_counter()
                done = list(pool.imap_unordered(render, enumerate(faces), chunksize=chunk))
                result[f"{kind}_per_s"] = n / (time.perf_counter() - start)
                result[f"{kind}_cpu_ms"] = sum(cpu for _, _, cpu, _ in done) / n * 1000
                result[f"{kind}_bytes"] = sum(size for _, size, _, _ in done) / n
                result[f"{kind}_max_bytes"] = max(size for _, size, _, _ in done)
                result[f"{kind}_checked"] = 0
                for i, _, _, data in done:
                    if data is None:
                        continue
                    result[f"{kind}_checked"] += 1
                    face = faces[i]
                    if kind == "pdf" and " ".join(face.holder.split()) not in pdf_text(data).replace("\n", " "):
                        result["problems"].append(f"PDF {i}: {face.holder!r} not in its text layer")
                    if kind == "jpg" and decoded_qr(data) != [face.verify_url]:
                        result["problems"].append(f"JPEG {i}: the QR code does not decode to {face.verify_url}")
    return result


# --------------------------------------------------------------------------- award

GOAL_AWARD_SECONDS = 120

# N contestants over every commune, each with one scored attempt of 4..12 right of 12: about 7 in 9 reach the pass
# mark (6), the others must get nothing. The names differ, so a holder copied from the wrong row shows.
_SEED_SCORED = """
WITH p AS (
    INSERT INTO contestant (contest, full_name, phone, birth_year, commune, "group", consented_at, created_at)
    SELECT $1, 'Nguyễn Thị Hồng Nhung ' || g, '09' || lpad(g::text, 8, '0'), 1950 + g % 60,
           c.codes[1 + floor(random() * cardinality(c.codes))::int], 'citizens', $3, $3
    FROM generate_series(1, $2) AS g, (SELECT array_agg(code ORDER BY code) AS codes FROM commune) AS c
    RETURNING id
), s AS (SELECT id, 4 + floor(random() * 9)::int AS correct FROM p)
INSERT INTO attempt (round, contestant, status, started_at, deadline, submitted_at, auto_submitted, total, correct,
                     points, duration_ms, scored_at)
SELECT $4, s.id, 'scored', $3, $3 + interval '10 minutes', $3 + interval '5 minutes', false, 12, s.correct,
       s.correct * 60, 300000, $3
FROM s
"""

# The award checked in full in SQL: (what, value, ok) rows.
_CHECKS = """
SELECT
  (SELECT count(*) FROM attempt WHERE round = $1 AND status = 'scored' AND points >= $2) AS eligible,
  (SELECT count(*) FROM certificate WHERE round = $1 AND kind = 'participation') AS made,
  (SELECT count(*) FROM attempt a WHERE a.round = $1 AND a.status = 'scored' AND a.points >= $2 AND NOT EXISTS
     (SELECT 1 FROM certificate x WHERE x.round = $1 AND x.contestant = a.contestant)) AS missing,
  (SELECT count(*) FROM certificate x JOIN attempt a ON a.round = x.round AND a.contestant = x.contestant
     WHERE x.round = $1 AND a.points < $2) AS below_mark,
  (SELECT count(*) FROM certificate x JOIN contestant p ON p.id = x.contestant
     WHERE x.round = $1 AND (x.holder <> p.full_name OR x.commune <> p.commune OR x.correct <> (SELECT a.correct
       FROM attempt a WHERE a.round = $1 AND a.contestant = x.contestant))) AS wrong_details,
  (SELECT count(*) FROM certificate WHERE round = $1 AND code !~ '^[0-9a-f]{20}$') AS bad_codes
"""


def award_benchmark(n: int) -> dict:
    """Seed n contestants, most at the pass mark, and time one RQ award job over the round (then again); check it."""
    import asyncio
    import subprocess

    from loadtests.bench_scoring import ROOT, bench_services, server_versions

    with bench_services("certificates") as services:
        import asyncpg
        import redis.asyncio as aioredis

        from contest.certificates import jobs
        from contest.settings import get_settings

        async def seed() -> tuple[int, str, str]:
            conn = await asyncpg.connect(get_settings().db.url)
            r = aioredis.Redis.from_url(get_settings().redis.url, decode_responses=True)
            try:
                now = datetime.datetime.now(datetime.UTC)
                contest_id = await conn.fetchval(
                    "INSERT INTO contest (slug, title, description, quotas, time_limit_seconds) "
                    "VALUES ('bench-awards', 'Công dân số', '', '{}'::jsonb, 600) RETURNING id"
                )
                # Certificates need an issuing body and a signer.
                await conn.execute(
                    "INSERT INTO certificate_design (contest, issuer, signer_name, signer_title, updated_at) "
                    "VALUES ($1, $2, $3, $4, now())",
                    contest_id,
                    sample.TEXT["issuer"],
                    sample.TEXT["signer_name"],
                    sample.TEXT["signer_title"],
                )
                round_id = await conn.fetchval(
                    "INSERT INTO round (contest, number, title, opens_at, closes_at, max_attempts, pass_mark) "
                    "VALUES ($1, 1, 'Tuần 1', $2, $3, 1, 6) RETURNING id",
                    contest_id,
                    now - datetime.timedelta(days=7),
                    now - datetime.timedelta(hours=1),
                )
                await conn.execute(_SEED_SCORED, contest_id, n, now - datetime.timedelta(days=1), round_id)
                await conn.execute("VACUUM ANALYZE contestant, attempt")
                return int(round_id), *await server_versions(conn, r)
            finally:
                await conn.close()
                await r.aclose()

        async def checked(round_id: int) -> dict:
            conn = await asyncpg.connect(get_settings().db.url)
            try:
                return dict(await conn.fetchrow(_CHECKS, round_id, 6 * 60))
            finally:
                await conn.close()

        print(f"seeding {n:,} contestants with a scored attempt, most at the pass mark ...", flush=True)
        round_id, pg_version, redis_version = asyncio.run(seed())
        runs = []
        for _ in range(2):  # the second run must find everything awarded already
            job_id = asyncio.run(jobs.queue_award(round_id, None))
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "contest.cli", "worker", "--burst"], cwd=ROOT, check=True)
            seconds = time.perf_counter() - start
            state = jobs.job_state(job_id)
            finished = state is not None and state["status"] == "finished"
            runs.append((seconds, state["result"]["participation"] if finished and state else -1))
        counts = asyncio.run(checked(round_id))
    return {
        "contestants": n,
        "seconds": runs[0][0],
        "made": runs[0][1],
        "again_seconds": runs[1][0],
        "again_made": runs[1][1],
        "servers": f"PostgreSQL {pg_version}: {services.postgres}; Redis {redis_version}: {services.redis}",
        **counts,
    }


def _print_award(result: dict, goal_seconds: float) -> bool:
    n = result["contestants"]
    print(f"award: {n:,} contestants, one RQ job (worker start included)")
    print(f"  servers     {result['servers']}")
    print(f"  first run   {result['seconds']:7.1f} s   {result['made']:,} certificates   ({n / result['seconds']:,.0f} /s)")
    print(f"  second run  {result['again_seconds']:7.1f} s   {result['again_made']:,} new (idempotent)")
    checks = [
        ("contestants at the pass mark = certificates (SQL, every row)", f"{result['eligible']:,} = {result['made']:,}",
         result["eligible"] == result["made"] > 0),
        ("the job reported what it made", f"{result['made']:,}", result["made"] == result["eligible"]),
        ("none at the mark left without one", f"{result['missing']:,}", result["missing"] == 0),
        ("none below the mark awarded", f"{result['below_mark']:,}", result["below_mark"] == 0),
        ("holder, commune and score as on the contestant's row", f"{result['wrong_details']:,} differ",
         result["wrong_details"] == 0),
        ("codes of 20 hex digits", f"{result['bad_codes']:,} malformed", result["bad_codes"] == 0),
        ("second run made none", f"{result['again_made']:,}", result["again_made"] == 0),
    ]  # fmt: skip
    for name, value, good in checks:
        print(f"  {'ok  ' if good else 'FAIL'}  {name:<62}{value}")
    ok = all(good for _, _, good in checks)
    met = result["seconds"] <= goal_seconds
    print(f"award: {'meets' if met else 'MISSES'} the goal of {goal_seconds:g} s; checks {'ok' if ok else 'FAILED'}")
    return ok and met


def _print_render(result: dict, args: argparse.Namespace) -> bool:
    n, workers = result["certificates"], result["workers"]
    print(f"render: {n:,} certificates on {workers} processes; the demo's design (background, seal and signature)")
    for kind, label in (("pdf", "PDF (print, A4)"), ("jpg", "JPEG (phones, 150 dpi)")):
        rate, cpu, size = result[f"{kind}_per_s"], result[f"{kind}_cpu_ms"], result[f"{kind}_bytes"] / 1024
        # CPU per certificate tells what the cores can do when the rate was measured next to other work.
        print(f"{label:22s} {rate:7.1f} /s   CPU {cpu:6.1f} ms each (= {workers * 1000 / cpu:5.0f} /s on idle cores)"
              f"   average {size:6.1f} KB, largest {result[f'{kind}_max_bytes'] / 1024:6.1f} KB")  # fmt: skip
    print(f"ratio PDF/JPEG: {result['pdf_per_s'] / result['jpg_per_s']:.1f}")
    per_cert = result["pdf_bytes"] + result["jpg_bytes"]
    print(
        f"storage: {per_cert / 1024:.0f} KB per certificate (PDF + JPEG); 311,243 participation certificates "
        f"= {per_cert * 311_243 / 1e9:.1f} GB (PDFs {result['pdf_bytes'] * 311_243 / 1e9:.1f} GB)"
    )
    goals = [
        (f"{args.goal_pdfs:g} PDFs/s", result["pdf_per_s"] >= args.goal_pdfs),
        (f"PDF <= {args.goal_pdf_kb:g} KB each", result["pdf_max_bytes"] <= args.goal_pdf_kb * 1024),
        (f"JPEG <= {args.goal_jpg_kb:g} KB each", result["jpg_max_bytes"] <= args.goal_jpg_kb * 1024),
    ]
    for name, met in goals:
        print(f"{'meets' if met else 'MISSES'} the goal of {name}")
    checked = f"{result['pdf_checked']} PDFs (name in the text layer), {result['jpg_checked']} JPEGs (QR decodes)"
    for problem in result["problems"]:
        print(f"  FAIL  {problem}")
    print(f"checks: {checked}: {'ok' if not result['problems'] else 'FAILED'}")
    return all(met for _, met in goals) and not result["problems"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--render", type=int, default=2000, metavar="N", help="certificates to render (default 2000; 0 skips)")
    parser.add_argument("--award", type=int, default=311_243, metavar="N", help="contestants to award (default 311,243; 0 skips)")
    parser.add_argument("--goal-pdfs", type=float, default=GOAL_PDF_PER_S, help="PDFs per second (default 150)")
    parser.add_argument("--goal-pdf-kb", type=float, default=GOAL_PDF_KB, help="largest PDF in KB (default 120)")
    parser.add_argument("--goal-jpg-kb", type=float, default=GOAL_JPG_KB, help="largest phone JPEG in KB (default 250)")
    parser.add_argument("--goal-award-seconds", type=float, default=GOAL_AWARD_SECONDS, help="award time (default 120)")
    args = parser.parse_args(argv)
    print(machine_line())
    ok = True
    if args.award:
        ok = _print_award(award_benchmark(args.award), args.goal_award_seconds) and ok
    if args.render:
        ok = _print_render(render_benchmark(args.render), args) and ok
    print(f"bench_certificates: {'PASS' if ok else 'FAIL'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
