"""Group commit: many concurrent single-row writes sent as one statement.

Each caller still waits until its own write is committed. Calls that arrive while a group is in
flight go out together in the next one, so at a spike the database and the web process pay one
round trip per group instead of one per request; with little traffic a group holds one call.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

import asyncpg

Item = TypeVar("Item")
Result = TypeVar("Result")


def deadlocked(exc: Exception) -> bool:
    """A deadlock with another web process's group: PostgreSQL undid this statement, so writing it again is safe."""
    return isinstance(exc, asyncpg.DeadlockDetectedError)


class GroupWriter(Generic[Item, Result]):
    """Runs `write(items) -> results` (same order) over whatever calls are waiting, `in_flight` groups at once.

    Calls with the same key are written in the order they came: a key is never in two groups in flight.
    """

    def __init__(
        self,
        write: Callable[[list[Item]], Awaitable[list[Result]]],
        key: Callable[[Item], Hashable],
        max_group: int = 1000,
        in_flight: int = 2,
        retry_if: Callable[[Exception], bool] | None = None,
    ) -> None:
        self._write = write
        # Keys are apart only within this process: another web process's group may lock the same rows in the
        # opposite order, and the database aborts one of the two. Such a group (`retry_if`) is written once more.
        self._retry_if = retry_if
        self._key = key
        self._max = max_group
        self._max_flushers = in_flight
        self._pending: list[tuple[Item, asyncio.Future[Result]]] = []
        self._busy_keys: set[Hashable] = set()
        self._flushers = 0

    async def __call__(self, item: Item) -> Result:
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._pending.append((item, done))
        if self._flushers < self._max_flushers:
            self._flushers += 1
            asyncio.get_running_loop().create_task(self._flush())
        return await done

    async def _flush(self) -> None:
        try:
            while group := self._take_group():
                keys = [self._key(item) for item, _ in group]
                self._busy_keys.update(keys)
                try:
                    results = await self._write_group([item for item, _ in group])
                except Exception as exc:  # e.g. the database is down: every caller in the group hears it
                    for _, done in group:
                        if not done.done():
                            done.set_exception(exc)
                    continue
                finally:
                    self._busy_keys.difference_update(keys)
                for (_, done), result in zip(group, results, strict=True):
                    if not done.done():
                        done.set_result(result)
        finally:
            self._flushers -= 1

    async def _write_group(self, items: list[Item]) -> list[Result]:
        try:
            return await self._write(items)
        except Exception as exc:
            if self._retry_if is None or not self._retry_if(exc):
                raise
            return await self._write(items)

    def _take_group(self) -> list[tuple[Item, asyncio.Future[Result]]]:
        """The oldest calls, stopping before one whose key is already taken (it must land after that one)."""
        group: list[tuple[Item, asyncio.Future[Result]]] = []
        seen: set[Hashable] = set()
        for item, done in self._pending:
            key = self._key(item)
            if key in seen or key in self._busy_keys or len(group) >= self._max:
                break
            seen.add(key)
            group.append((item, done))
        del self._pending[: len(group)]
        return group
