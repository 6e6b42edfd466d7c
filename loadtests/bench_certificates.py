"""Benchmark: certificates rendered per second, PDF (print) and PNG (phones), on every core (goal >= 150 PDFs/s on 2).

    .venv/bin/python -m loadtests.bench_certificates [--render 2000] [--award 311243]

Render part: a realistic design (a generated background photo, a red seal and a signature scanned on white
paper, each passed through prepare_design_image as an organiser's upload is) and N certificates with
distinct names, communes and scores. A pool of os.cpu_count() processes renders all N as PDFs, then all N
as PNGs; each worker renders one certificate before the clock starts, as a long-lived RQ worker would have.
Workers return only the sizes: writing files is the bulk job's cost, not the renderer's. Needs no servers.
Besides the rates it prints the CPU time of each file, which still tells what idle cores would do when the
run shared the machine with other work (the rates then drop, the CPU time hardly moves).
"""

from __future__ import annotations

import argparse
import datetime
import io
import math
import os
import random
import tempfile
import time
from multiprocessing import Barrier, Pool
from multiprocessing.synchronize import Barrier as BarrierType
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from contest.certificates.render import Design, Face, prepare_design_image, render_pdf, render_png
from loadtests.bench_scoring import machine_line

GOAL_PDF_PER_S = 150
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
    """A design as an organiser would upload it: photo-like background, red seal, signature on white paper."""
    uploads = {"background": _background(), "seal": _seal(), "signature": _signature()}
    paths: dict[str, Path] = {}
    for role, data in uploads.items():
        path = folder / f"{role}.{'jpg' if role == 'background' else 'png'}"
        path.write_bytes(prepare_design_image(data, role))
        paths[role] = path
    return Design(
        issuer="ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG",
        place="Hải Phòng",
        signer_name="Nguyễn Văn Tùng",
        signer_title="KT. CHỦ TỊCH\nPHÓ CHỦ TỊCH",
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


def _start_worker(design: Design, sample: Face, ready: BarrierType) -> None:
    global _design
    _design = design
    render_pdf(design, sample)  # fonts, images and the page come into the caches before the clock starts
    render_png(design, sample)
    ready.wait()


def _pdf(face: Face) -> tuple[int, float]:
    """Size of the PDF and the CPU seconds it took: CPU time holds even when a neighbour shares the cores."""
    assert _design is not None
    start = time.process_time()
    return len(render_pdf(_design, face)), time.process_time() - start


def _png(face: Face) -> tuple[int, float]:
    assert _design is not None
    start = time.process_time()
    return len(render_png(_design, face)), time.process_time() - start


def render_benchmark(n: int) -> dict:
    """Render n certificates as PDFs, then as PNGs, on a pool of every core: rates, CPU each and average sizes."""
    workers = os.cpu_count() or 1
    faces = make_faces(n)
    result: dict = {"certificates": n, "workers": workers}
    with tempfile.TemporaryDirectory(prefix="bench-certificates-") as folder:
        design = make_design(Path(folder))
        ready = Barrier(workers + 1)
        with Pool(workers, initializer=_start_worker, initargs=(design, faces[0], ready)) as pool:
            ready.wait()  # every worker is warm
            chunk = max(1, n // (workers * 8))
            for kind, render in (("pdf", _pdf), ("png", _png)):
                start = time.perf_counter()
                done = list(pool.imap_unordered(render, faces, chunksize=chunk))
                result[f"{kind}_per_s"] = n / (time.perf_counter() - start)
                result[f"{kind}_cpu_ms"] = sum(cpu for _, cpu in done) / n * 1000
                result[f"{kind}_bytes"] = sum(size for size, _ in done) / n
    return result


# --------------------------------------------------------------------------- award

GOAL_AWARD_SECONDS = 120

# N contestants over every commune, each with one scored attempt at or above the pass mark (6 of 12).
_SEED_SCORED = """
WITH p AS (
    INSERT INTO contestant (contest, full_name, phone, birth_year, commune, "group", consented_at, created_at)
    SELECT $1, 'Nguyễn Thị Hồng Nhung', '09' || lpad(g::text, 8, '0'), 1950 + g % 60,
           c.codes[1 + floor(random() * cardinality(c.codes))::int], 'citizens', $3, $3
    FROM generate_series(1, $2) AS g, (SELECT array_agg(code ORDER BY code) AS codes FROM commune) AS c
    RETURNING id
)
INSERT INTO attempt (round, contestant, status, started_at, deadline, submitted_at, auto_submitted, total, correct,
                     duration_ms, scored_at)
SELECT $4, p.id, 'scored', $3, $3 + interval '10 minutes', $3 + interval '5 minutes', false, 12,
       6 + floor(random() * 7)::int, 300000, $3
FROM p
"""


def award_benchmark(n: int) -> dict:
    """Seed n contestants who reached the pass mark and time one RQ award job over the round (then again)."""
    import asyncio
    import subprocess
    import sys

    from loadtests.bench_scoring import ROOT, bench_services

    with bench_services("certificates"):
        import asyncpg

        from contest.certificates import jobs
        from contest.settings import get_settings

        async def seed() -> int:
            conn = await asyncpg.connect(get_settings().db.url)
            try:
                now = datetime.datetime.now(datetime.UTC)
                contest_id = await conn.fetchval(
                    "INSERT INTO contest (slug, title, description, quotas, time_limit_seconds) "
                    "VALUES ('bench-awards', 'Công dân số', '', '{}'::jsonb, 600) RETURNING id"
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
                return int(round_id)
            finally:
                await conn.close()

        async def counted(round_id: int) -> tuple[int, int]:
            conn = await asyncpg.connect(get_settings().db.url)
            try:
                row = await conn.fetchrow(
                    "SELECT count(*) AS n, count(DISTINCT code) AS codes FROM certificate WHERE round = $1", round_id
                )
                return int(row["n"]), int(row["codes"])
            finally:
                await conn.close()

        print(f"seeding {n:,} contestants with a scored attempt at the pass mark ...", flush=True)
        round_id = asyncio.run(seed())
        timings = []
        for _ in range(2):  # the second run must find everything awarded already
            job_id = asyncio.run(jobs.queue_award(round_id, None))
            start = time.perf_counter()
            subprocess.run([sys.executable, "-m", "contest.cli", "worker", "--burst"], cwd=ROOT, check=True)
            timings.append(time.perf_counter() - start)
            state = jobs.job_state(job_id)
            assert state is not None and state["status"] == "finished", state
            timings.append(state["result"]["participation"])
        made, codes = asyncio.run(counted(round_id))
    return {
        "contestants": n,
        "seconds": timings[0],
        "made": timings[1],
        "again_seconds": timings[2],
        "again_made": timings[3],
        "rows": made,
        "distinct_codes": codes,
    }


def _print_award(result: dict) -> None:
    n = result["contestants"]
    print(f"award: {n:,} contestants, one RQ job (worker start included)")
    print(f"  first run   {result['seconds']:7.1f} s   {result['made']:,} certificates   ({n / result['seconds']:,.0f} /s)")
    print(f"  second run  {result['again_seconds']:7.1f} s   {result['again_made']:,} new (idempotent)")
    ok = result["rows"] == n == result["distinct_codes"] and result["again_made"] == 0
    print(f"  check: {result['rows']:,} rows, {result['distinct_codes']:,} distinct codes -> {'ok' if ok else 'FAILED'}")
    verdict = "meets" if result["seconds"] <= GOAL_AWARD_SECONDS and ok else "MISSES"
    print(f"{verdict} the goal of {GOAL_AWARD_SECONDS} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--render", type=int, default=2000, metavar="N", help="certificates to render (default 2000; 0 skips)")
    parser.add_argument("--award", type=int, default=311_243, metavar="N", help="contestants to award (default 311,243; 0 skips)")
    args = parser.parse_args()
    print(machine_line())
    if args.award:
        _print_award(award_benchmark(args.award))
    if not args.render:
        return
    result = render_benchmark(args.render)
    n, workers = result["certificates"], result["workers"]
    print(f"render: {n:,} certificates on {workers} processes; background, seal and signature")
    for kind, label in (("pdf", "PDF (print, A4)"), ("png", "PNG (phones, 150 dpi)")):
        rate, cpu, size = result[f"{kind}_per_s"], result[f"{kind}_cpu_ms"], result[f"{kind}_bytes"] / 1024
        # CPU per certificate tells what the cores can do when the rate was measured next to other work.
        print(f"{label:22s} {rate:7.1f} /s   CPU {cpu:6.1f} ms each (= {workers * 1000 / cpu:5.0f} /s on idle cores)"
              f"   average {size:6.0f} KB")  # fmt: skip
    print(f"ratio PDF/PNG: {result['pdf_per_s'] / result['png_per_s']:.1f}")
    verdict = "meets" if result["pdf_per_s"] >= GOAL_PDF_PER_S else "MISSES"
    print(f"{verdict} the goal of {GOAL_PDF_PER_S} PDFs/s")


# --------------------------------------------------------------------------- the organiser's uploads


def _background() -> bytes:
    """A warm paper-like photo with a soft vignette and a faint bronze-drum ring: busy enough to be realistic."""
    rng = random.Random(1)
    img = Image.new("RGB", (3000, 2120), (244, 236, 214))
    draw = ImageDraw.Draw(img)
    for _ in range(260):
        x, y, r = rng.randrange(3000), rng.randrange(2120), rng.randrange(40, 220)
        tone = rng.randrange(-14, 10)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=(238 + tone, 228 + tone, 200 + tone))
    for radius in range(200, 1000, 70):
        draw.ellipse((1500 - radius, 1060 - radius, 1500 + radius, 1060 + radius), outline=(228, 214, 180), width=6)
    img = img.filter(ImageFilter.GaussianBlur(6))
    noise = Image.effect_noise(img.size, 18).convert("RGB")
    img = Image.blend(img, noise, 0.05)
    draw = ImageDraw.Draw(img)
    for inset, width, color in ((60, 34, (150, 30, 30)), (112, 8, (186, 146, 70)), (132, 3, (186, 146, 70))):
        draw.rectangle((inset, inset, 3000 - inset, 2120 - inset), outline=color, width=width)
    return _encode(img, "JPEG")


def _seal() -> bytes:
    """A round red seal on a transparent background, a star in the middle."""
    img = Image.new("RGBA", (900, 900), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    red = (200, 30, 40, 215)
    draw.ellipse((20, 20, 880, 880), outline=red, width=26)
    draw.ellipse((110, 110, 790, 790), outline=red, width=10)
    radii = [150 if i % 2 == 0 else 60 for i in range(10)]
    star = [(450 + r * math.sin(i * math.pi / 5), 450 - r * math.cos(i * math.pi / 5)) for i, r in enumerate(radii)]
    draw.polygon(star, fill=red)
    for angle in range(0, 360, 12):  # the lettering around the rim, as dashes
        x, y = 450 + 375 * math.sin(math.radians(angle)), 450 - 375 * math.cos(math.radians(angle))
        draw.ellipse((x - 18, y - 18, x + 18, y + 18), fill=red)
    return _encode(img, "PNG")


def _signature() -> bytes:
    """A pen signature photographed on white paper (no transparency): the upload turns the paper transparent."""
    img = Image.new("RGB", (1400, 600), (250, 250, 247))
    draw = ImageDraw.Draw(img)
    points = [(100 + t * 12, 330 + 150 * math.sin(t / 7) * math.cos(t / 23)) for t in range(100)]
    draw.line(points, fill=(20, 40, 120), width=9, joint="curve")
    draw.line([(260, 460), (1250, 180)], fill=(20, 40, 120), width=7)
    return _encode(img.filter(ImageFilter.GaussianBlur(1.2)), "JPEG")


def _encode(img: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    img.save(out, format=fmt, **({"quality": 92} if fmt == "JPEG" else {}))
    return out.getvalue()


if __name__ == "__main__":
    main()
