"""`contest certificates award | zip`: a round's certificates, with a progress bar."""

from __future__ import annotations

import asyncio

from contest.commands.operator import piccolo_env


def certificates(
    action: str, round_id: int, out: str | None = None, kind: str | None = None, commune: int | None = None, layout: str = "files"
) -> None:
    """Award a round's certificates, or write its zip of PDFs (or one PDF per commune), with a progress bar."""
    piccolo_env()
    from tqdm import tqdm

    from contest.certificates import bundles, design, service
    from contest.i18n import InputError, message

    bars: dict[str, tqdm] = {}

    def progress(phase: str, done: int, total: int) -> None:
        bar = bars.get(phase) or bars.setdefault(
            phase, tqdm(total=total, desc=phase, unit=" id" if phase == "participation" else "")
        )
        bar.update(done - bar.n)

    try:
        if action == "award":
            report = asyncio.run(service.award_round(round_id, progress=progress))
            for bar in bars.values():
                bar.close()
            print(f"participation: {report.participation}, prize: {report.prize}, collective: {report.collective}")
            for code in report.skipped or []:
                print("  ·", message(code))
            return

        async def load() -> tuple[list[dict], dict]:
            rows = await service.valid_of_round(round_id, kind, commune)
            return rows, await design.design_of(rows[0]["contest"]) if rows else {}

        rows, values = asyncio.run(load())
        path = bundles.build(round_id, rows, values, layout, lambda done, total: progress("render", done, total))
        for bar in bars.values():
            bar.close()
        if out:
            path = path.replace(out)
        print(f"{len(rows)} certificates in {path}")
    except InputError as exc:
        raise SystemExit("\n".join(exc.messages().values())) from exc
