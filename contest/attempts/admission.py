"""The opening: starts beyond what the server takes per second wait in an honest line instead of failing.

Each contestant who asks to start while the line is busy takes a ticket (one per contestant and round, kept across
reloads); tickets are let in, in order, at `start_rate` a second with a burst of `start_burst` (a token bucket in
Redis, shared by every web process). Position = ticket - tickets let in so far. The attempt's time starts only when
its contestant comes back and really starts, so waiting costs no time. `start_rate` 0 turns the line off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from contest import clock, keys
from contest.redis import async_redis
from contest.settings import get_settings

# KEYS: the line (hash: issued, served, tokens, at), this contestant's ticket. ARGV: now (ms), rate, burst, ticket ttl,
# may_join. Returns {ticket, served}; ticket 0 when the contestant holds none and may not take one.
_TURN_LUA = """
local ticket = tonumber(redis.call('GET', KEYS[2]) or '0')
if ticket == 0 and ARGV[5] == '0' then return {0, 0} end
local now, rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local s = redis.call('HMGET', KEYS[1], 'issued', 'served', 'tokens', 'at')
local issued, served = tonumber(s[1] or '0'), tonumber(s[2] or '0')
local tokens, at = tonumber(s[3] or ARGV[3]), tonumber(s[4] or ARGV[1])
if ticket == 0 then
  issued = issued + 1
  ticket = issued
  redis.call('SET', KEYS[2], ticket, 'EX', ARGV[4])
end
if now > at then
  tokens = math.min(burst, tokens + (now - at) * rate / 1000)
  at = now
end
local n = math.min(issued - served, math.floor(tokens))
if n > 0 then
  served = served + n
  tokens = tokens - n
end
-- Whole milliseconds: Lua prints a float with 14 digits, which would round a time in seconds.
redis.call('HSET', KEYS[1], 'issued', issued, 'served', served, 'tokens', tostring(tokens), 'at', string.format('%d', at))
return {ticket, served}
"""

_TICKET_TTL = 3600


@dataclass(frozen=True)
class Turn:
    """Where a contestant stands: `admitted`, or `position` people ahead (themselves included) and an estimate."""

    admitted: bool
    holds_ticket: bool = True
    position: int = 0
    wait_seconds: int = 0

    @property
    def retry_after(self) -> int:
        """When to ask again: soon near the front, rarely far back (the line's polls stay few)."""
        return max(2, min(30, self.wait_seconds // 2))


def enabled() -> bool:
    return get_settings().contest.start_rate > 0


async def turn(round_id: int, contestant_id: int, may_join: bool = True) -> Turn:
    """Take a ticket (or keep the one held) and say whether it is this contestant's turn to start."""
    s = get_settings().contest
    if s.start_rate <= 0:
        return Turn(admitted=True)
    ticket, served = await async_redis().register_script(_TURN_LUA)(
        keys=[keys.ADMISSION_LINE, keys.admission_ticket(round_id, contestant_id)],
        args=[int(clock.now().timestamp() * 1000), s.start_rate, s.start_burst or s.start_rate, _TICKET_TTL, int(may_join)],
    )
    if not ticket:
        return Turn(admitted=False, holds_ticket=False)
    if ticket <= served:
        return Turn(admitted=True)
    ahead = int(ticket) - int(served)
    return Turn(admitted=False, position=ahead, wait_seconds=math.ceil(ahead / s.start_rate))


async def started(round_id: int, contestant_id: int) -> None:
    """The contestant has started: their ticket is used up (a retake queues again, if there is a line)."""
    if enabled():
        await async_redis().delete(keys.admission_ticket(round_id, contestant_id))
