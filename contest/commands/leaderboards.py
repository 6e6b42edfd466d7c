"""`contest leaderboards rebuild | check`: Redis boards against PostgreSQL."""

from __future__ import annotations

import asyncio

from contest.commands.operator import piccolo_env


def leaderboards(action: str, round_id: int | None = None) -> None:
    """Redis is a cache of PostgreSQL: rebuild the boards from it, or check them against it (exit 1 on differences)."""
    piccolo_env()
    from contest.leaderboard import rebuild

    if action == "rebuild":
        for line in asyncio.run(rebuild.rebuild(round_id)) or ["no round has scored attempts"]:
            print(line)
        return
    reports = asyncio.run(rebuild.check(round_id))
    for report in reports:
        print("\n".join(report.lines()))
    if not reports:
        print("no round has scored attempts")
    if any(not report.ok for report in reports):
        raise SystemExit(1)
