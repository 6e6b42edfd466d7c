"""The audit log: who did what, when."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from contest import clock
from contest.staff.tables import AuditEntry


async def audit(staff_id: int | None, action: str, target: str, **detail: Any) -> None:
    """Record who did what, when."""
    await AuditEntry.insert(
        AuditEntry(staff=staff_id, action=action, target=target[:200], detail=json.dumps(detail, default=str), at=clock.now())
    )


async def audit_log(limit: int = 200, before: datetime | None = None) -> list[dict]:
    """Newest first, with who did it."""
    query = (
        AuditEntry.select(*AuditEntry.all_columns(), AuditEntry.staff.email.as_alias("email"))
        .order_by(AuditEntry.at, ascending=False)
        .limit(limit)
    )
    if before is not None:
        query = query.where(AuditEntry.at < before)
    return await query
