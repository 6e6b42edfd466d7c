"""The tie order, encoded in one sorted-set score so Redis never breaks ties alphabetically.

More correct answers first, then the shorter completion time, then the earlier submission.
Three fields in 53 bits, all exact in a double:
  correct (7 bits) | 2^23-1 - duration in ms (23 bits, ~2.3 h) | 2^23-1 - seconds since round opened (23 bits, ~97 days)
The prediction tiebreak is applied to final results once the round closes and the real count is known.

Once a round's results are published its boards hold the published order instead (`encode_final`): correct
(7 bits) | 2^23-1 - final rank (23 bits) | 2^23-1 - duration in ms (23 bits), shifted below zero so that a score
says by its sign which layout it is in, and `decode` reads both.
"""

from __future__ import annotations

FIELD = 2**23 - 1
MAX_CORRECT = 127


def encode(correct: int, duration_ms: int, submitted_after_open_s: int) -> int:
    """A higher number is a better result."""
    correct = max(0, min(correct, MAX_CORRECT))
    duration = max(0, min(duration_ms, FIELD))
    offset = max(0, min(submitted_after_open_s, FIELD))
    return (correct << 46) | ((FIELD - duration) << 23) | (FIELD - offset)


FINAL = 2**53


def encode_final(correct: int, rank: int, duration_ms: int) -> int:
    """A published result: a better final rank is a higher number (equal ranks, equal numbers); always below 0."""
    correct = max(0, min(correct, MAX_CORRECT))
    rank = max(1, min(rank, FIELD))
    duration = max(0, min(duration_ms, FIELD))
    return ((correct << 46) | ((FIELD - rank) << 23) | (FIELD - duration)) - FINAL


def is_final(score: float | int) -> bool:
    """Whether a score is a published result (encode_final) rather than a provisional one."""
    return int(score) < 0


def decode(score: float | int) -> tuple[int, int, int]:
    """(correct, duration_ms, seconds after the round opened) from a score; a published result has no submission time
    (0)."""
    value = int(score)
    if value < 0:
        value += FINAL
        return value >> 46, FIELD - (value & FIELD), 0
    return value >> 46, FIELD - ((value >> 23) & FIELD), FIELD - (value & FIELD)
