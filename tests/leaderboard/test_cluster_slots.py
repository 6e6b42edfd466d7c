"""Redis Cluster readiness: each script and multi-key command a round's scoring and boards send stays in one slot.

Redis itself is watched (MONITOR) while a real worker ranks, the public pages read and a rebuild runs, and the
server says which arguments of each command are keys (COMMAND GETKEYS); the slot is the CRC16 of the hash tag.
"""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import redis
from redis.crc import key_slot

from contest import keys
from contest.leaderboard import boards, counters
from contest.leaderboard.rebuild import check_contest, check_round, rebuild_round
from contest.ratelimit import _SPEND_LUA
from contest.redis import async_redis
from contest.scoring.queue import kick
from contest.settings import get_settings
from tests.factories import HAI_PHONG_COMMUNES
from tests.leaderboard.test_public_boards import person, second_round, take

THUY_NGUYEN, THIEN_HUONG = HAI_PHONG_COMMUNES
OURS = ("board:", "part:", "ranked:", "cboard:", "boardcache:")
_LINE = re.compile(r"^\S+ \[(\d+) ([^\]]*)\] (.*)$")
_ARG = re.compile(r'"((?:[^"\\]|\\.)*)"')


@dataclass
class Command:
    phase: str
    client: str
    args: list[str]
    keys: list[str] = field(default_factory=list)


def slot(key: str) -> int:
    return key_slot(key.encode())


@contextmanager
def watched() -> Iterator[list[Command]]:
    """Every command sent to the test's Redis database while the block runs, by phase (`mark(phase)` starts one)."""
    url = get_settings().redis.url
    client = redis.Redis.from_url(url, decode_responses=True)
    db = str(client.connection_pool.connection_kwargs.get("db", 0))
    stop = f"stop-{uuid.uuid4().hex}"
    seen: list[Command] = []
    phase = ["setup"]
    ready = threading.Event()

    def listen() -> None:
        monitor = redis.Redis.from_url(url, decode_responses=True, socket_timeout=60)
        conn = monitor.connection_pool.get_connection()
        try:
            conn.send_command("MONITOR")
            conn.read_response()
            ready.set()
            while True:
                found = _LINE.match(str(conn.read_response()))
                if not found or found.group(1) != db or found.group(2) == "lua":
                    continue  # other databases, and the commands inside scripts (checked by their KEYS below)
                args = [a.replace('\\"', '"').replace("\\\\", "\\") for a in _ARG.findall(found.group(3))]
                if args[:2] == ["ECHO", stop]:
                    return
                if args[:1] == ["ECHO"] and args[1].startswith("phase:"):
                    phase[0] = args[1].removeprefix("phase:")
                    continue
                seen.append(Command(phase[0], found.group(2), args))
        finally:
            conn.disconnect()

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        yield seen
    finally:
        client.echo(stop)
        thread.join(60)
    for command in seen:
        command.keys = _keys_of(client, command.args)


def _keys_of(client: redis.Redis, args: list[str]) -> list[str]:
    try:
        return list(client.command_getkeys(*args))
    except redis.ResponseError:
        return []  # no key arguments (PING, SCAN, SCRIPT LOAD, MULTI, ...)


def mark(phase: str) -> None:
    redis.Redis.from_url(get_settings().redis.url).echo(f"phase:{phase}")


def test_every_script_names_its_keys_through_keys() -> None:
    # A cluster routes a script by its KEYS: a key built inside the script could live on another node.
    for script in (boards._RANK_LUA, boards._TOP_AND_RANK_LUA, _SPEND_LUA, counters.CONTEST_LUA):
        for call in re.findall(r"redis\.call\('\w+', ([^,)]+)", script):
            # KEYS[2], or KEYS[k + 1] inside the counting function, whose k is a literal at every call.
            assert re.fullmatch(r"KEYS\[(\d+|k|k \+ \d)\]", call.strip()), call
        for call in re.findall(r"\bcount\(([^,]+),", script.replace("local function count(k,", "")):
            assert re.fullmatch(r"\d+", call.strip()), call


async def test_a_rounds_scoring_boards_and_rebuild_stay_one_slot_per_command(client, new_round, clock, worker) -> None:
    case = await new_round(per_topic=1, max_attempts=2)
    round_two = await second_round(case, clock.current)
    people = {
        1: ("teachers", THUY_NGUYEN, (2, 3)),
        2: ("students", THIEN_HUONG, (4,)),
        3: ("teachers", THIEN_HUONG, (1,)),
        4: ("citizens", THUY_NGUYEN, (3,)),
    }
    ids = {n: await person(case, n, group, commune) for n, (group, commune, _) in people.items()}
    for n, (_, _, results) in people.items():
        for correct in results:
            await take(case.round_id, ids[n], correct)
    await take(round_two, ids[2], 2)
    round_slot = slot(keys.board(case.round_id))
    contest_slot = slot(keys.contest_board(case.contest_id))
    assert round_slot == key_slot(str(case.round_id).encode()) and contest_slot == key_slot(f"c{case.contest_id}".encode())
    assert round_slot != contest_slot  # else the test could not see a script cross from one to the other

    r = async_redis()
    with watched() as seen:
        mark("rank")
        await kick()
        worker()
        mark("standing")
        mine = await boards.standing(r, case.round_id, ids[1], THUY_NGUYEN)
        mark("participation")
        await boards.participation(r, case.round_id)
        mark("group_participation")
        await boards.group_participation(r, case.round_id)
        mark("place_on")
        await boards.place_on(r, keys.group_board(case.round_id, "teachers"), ids[3])
        mark("pages")
        for path in (
            f"/rounds/{case.round_id}/board",
            f"/rounds/{case.round_id}/board?commune={THIEN_HUONG}",
            f"/rounds/{case.round_id}/board?group=teachers",
            f"/rounds/{case.round_id}/communes",
            f"/c/{case.slug}/board",
            f"/c/{case.slug}/board?group=students",
            f"/c/{case.slug}/communes",
        ):
            assert (await client.get(path)).status_code == 200, path
        mark("rebuild")
        await rebuild_round(case.round_id, quiet=True)
        assert (await check_round(case.round_id)).ok and (await check_contest(case.contest_id)).ok
    assert mine is not None and mine.correct == 3 and mine.commune_of == 2

    ranked = [c for c in seen if c.args[0] in ("EVALSHA", "EVAL") and keys.ranked(case.round_id) in c.keys]
    assert len(ranked) == 2 * 5  # the round's five attempts: by the worker, then by the rebuild
    touched = [c for c in seen if any(k.startswith(OURS) for k in c.keys)]
    assert {c.phase for c in touched} >= {"rank", "standing", "participation", "place_on", "pages", "rebuild"}
    for command in touched:
        # One slot per command, scripts included: what a cluster demands.
        assert len({slot(k) for k in command.keys}) == 1, command
        for key in command.keys:
            assert "{" in key, f"{key} has no hash tag"
    ours = {k for c in touched for k in c.keys}
    round_keys = {k for k in ours if k.startswith(("board:", "part:", "ranked:", f"boardcache:{{{case.round_id}}}"))}
    contest_keys = {k for k in ours if k.startswith(("cboard:", f"boardcache:{{c{case.contest_id}}}"))}
    assert {slot(k) for k in round_keys if f"{{{case.round_id}}}" in k} == {round_slot}
    assert {slot(k) for k in contest_keys} == {contest_slot}
    assert any(":c:" in k for k in round_keys) and any(":g:" in k for k in round_keys | contest_keys)
    # Each read of a round is one pipeline or script: it stays in the round's slot, so a cluster answers it from one node.
    for phase in ("standing", "participation", "group_participation", "place_on"):
        assert {slot(k) for c in touched if c.phase == phase for k in c.keys} == {round_slot}, phase
    # Ranking spans the round's slot (the script) and the contest's (the ZADD GTs beside it), nothing else.
    ranking = {slot(k) for c in touched if c.phase == "rank" for k in c.keys}
    assert ranking == {round_slot, slot(keys.board(round_two)), contest_slot}
    for block in transactions(seen):
        if any(k.startswith(OURS) for c in block for k in c.keys):
            assert len({slot(k) for c in block for k in c.keys}) == 1, block


def transactions(seen: list[Command]) -> list[list[Command]]:
    """The commands of each MULTI ... EXEC, per connection (a transaction, unlike a pipeline, must be one slot)."""
    open_: dict[str, list[Command]] = {}
    done: list[list[Command]] = []
    for command in seen:
        name = command.args[0].upper()
        if name == "MULTI":
            open_[command.client] = []
        elif name in ("EXEC", "DISCARD") and command.client in open_:
            done.append(open_.pop(command.client))
        elif command.client in open_:
            open_[command.client].append(command)
    return done


async def test_the_scan_patterns_of_a_rebuild_match_the_tagged_keys(new_round, clock, worker) -> None:
    case = await new_round(per_topic=1)
    me = await person(case, 1, "students", THIEN_HUONG)
    await take(case.round_id, me, 3)
    await kick()
    worker()
    r = async_redis()
    await r.set(keys.board_fragment(str(case.round_id), "all"), "x")
    found = {key for pattern in keys.round_pattern(case.round_id) async for key in r.scan_iter(match=pattern)}
    assert found == {
        keys.board(case.round_id),
        keys.commune_board(case.round_id, THIEN_HUONG),
        keys.group_board(case.round_id, "students"),
        keys.people(case.round_id),
        keys.attempts(case.round_id),
        keys.group_people(case.round_id),
        keys.group_attempts(case.round_id),
        *counters.round_tally_keys(case.round_id),
        keys.ranked(case.round_id),
        keys.board_fragment(str(case.round_id), "all"),
    }
    contest = {key for pattern in keys.contest_pattern(case.contest_id) async for key in r.scan_iter(match=pattern)}
    assert contest == {
        keys.contest_board(case.contest_id),
        keys.contest_commune_board(case.contest_id, THIEN_HUONG),
        keys.contest_group_board(case.contest_id, "students"),
        keys.contest_ranked(case.contest_id),
        *(
            keys.tally(f"c{case.contest_id}", m)
            for m in (keys.PAIR_PEOPLE, keys.PAIR_ATTEMPTS, keys.PAIR_BEST, keys.BEST, keys.REGISTERED)
            + (keys.DAY_PEOPLE, keys.DAY_ATTEMPTS, keys.DAY_SEEN)
        ),
    }
    await boards.clear_round(r, case.round_id)
    assert [k for p in keys.round_pattern(case.round_id) async for k in r.scan_iter(match=p)] == []
