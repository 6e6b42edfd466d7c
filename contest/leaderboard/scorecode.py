"""The tie order, encoded in one sorted-set score so Redis never breaks ties alphabetically.

More points first, then the shorter completion time, then the earlier submission. Points are counted in sixtieths of
a question (UNIT), so partial credit on a question of up to six options (a right tick worth 1/c, a wrong one 1/(n−c))
is always a whole number. Three fields in 53 bits, all exact in a double:
  points (13 bits, 136 questions) | 2^17-1 - duration in tenths of a second (17 bits, ~3.6 h)
  | 2^23-1 - seconds since round opened (23 bits, ~97 days)
The prediction tiebreak is applied to final results once the round closes and the real count is known.

Once a round's results are published its boards hold the published order instead (`encode_final`): points
(13 bits) | 2^23-1 - final rank (23 bits) | 2^17-1 - duration in tenths (17 bits), shifted below zero so that a score
says by its sign which layout it is in, and `decode` reads both.
"""

from __future__ import annotations

# The layout of the numbers below; boards in an older one are rebuilt on migrate (1: correct answers | ms | seconds;
# 2: contest boards provisional even after a round's publication).
LAYOUT = 3
# Points per question answered right in full: divisible by every count of correct and of wrong options (1 to 6).
UNIT = 60
FIELD = 2**23 - 1
TENTHS = 2**17 - 1
MAX_POINTS = 2**13 - 1


def _tenths(duration_ms: int) -> int:
    return max(0, min(duration_ms // 100, TENTHS))


def _points(points: int) -> int:
    return max(0, min(points, MAX_POINTS))


def encode(points: int, duration_ms: int, submitted_after_open_s: int) -> int:
    """A higher number is a better result."""
    offset = max(0, min(submitted_after_open_s, FIELD))
    return (_points(points) << 40) | ((TENTHS - _tenths(duration_ms)) << 23) | (FIELD - offset)


def question_points(n: int, c: int, hit: int, miss: int, partial: bool) -> int:
    """One question's points, as the scoring worker counts them: UNIT when exactly the c correct options among n are
    ticked; with partial credit on several correct options max(0, hit/c − miss/(n−c)) of UNIT; else nothing."""
    if hit == c and miss == 0 and c > 0:
        return UNIT
    if partial and c > 1:
        return max(0, UNIT * hit // c - (UNIT * miss // (n - c) if n > c else 0))
    return 0


FINAL = 2**53


def encode_final(points: int, rank: int, duration_ms: int) -> int:
    """A published result: a better final rank is a higher number (equal ranks, equal numbers); always below 0."""
    rank = max(1, min(rank, FIELD))
    return ((_points(points) << 40) | ((FIELD - rank) << 17) | (TENTHS - _tenths(duration_ms))) - FINAL


def encode_unranked(points: int, duration_ms: int) -> int:
    """A result of a round not yet published, on a contest board that holds published orders (leaderboard.final):
    in the final layout with no rank of its own, so it comes after every ranked result of equal points."""
    return encode_final(points, FIELD, duration_ms)


def is_final(score: float | int) -> bool:
    """Whether a score is a published result (encode_final) rather than a provisional one."""
    return int(score) < 0


def decode(score: float | int) -> tuple[int, int, int]:
    """(points, duration_ms to the tenth of a second, seconds after the round opened) from a score; a published result
    has no submission time (0)."""
    value = int(score)
    if value < 0:
        value += FINAL
        return value >> 40, (TENTHS - (value & TENTHS)) * 100, 0
    return value >> 40, (TENTHS - ((value >> 23) & TENTHS)) * 100, FIELD - (value & FIELD)


def in_questions(points: int | None) -> float | None:
    """Points as questions: 450 -> 7.5; an int when whole (7, not 7.0)."""
    if points is None:
        return None
    whole, part = divmod(points, UNIT)
    return whole if not part else points / UNIT
