"""Taking a round: the server draws, keeps the time and stores every answer as it is given."""

import json
from datetime import timedelta

import pytest

from contest.attempts import answering, finishing, starting
from contest.attempts import service as attempts
from contest.attempts.tables import Attempt, AttemptItem
from contest.i18n import InputError
from tests.factories import answer_key


async def test_start_draws_the_quota_per_topic_with_shuffled_options_and_a_server_deadline(new_round, clock) -> None:
    case = await new_round(per_topic=2, time_limit=600)
    me = await case.contestant(1)
    attempt_id = await starting.start_attempt(me, case.round_id)
    view = await attempts.attempt_view(attempt_id, me)
    assert len(view.items) == 8
    assert view.deadline == clock.current + timedelta(seconds=600)
    topics = await Attempt.raw(
        "SELECT t.slug, count(*) AS n FROM attempt_item i JOIN question q ON q.id = i.question "
        "JOIN topic t ON t.id = q.topic WHERE i.attempt = {} GROUP BY t.slug",
        attempt_id,
    )
    assert {r["slug"]: r["n"] for r in topics} == {
        "digital_awareness": 2,
        "digital_services": 2,
        "online_safety": 2,
        "ai_daily": 2,
    }
    assert all(len(item.options) == 4 for item in view.items)


async def test_options_are_shuffled_per_attempt(new_round) -> None:
    case = await new_round(per_topic=4)
    orders = set()
    for n in range(1, 4):
        me = await case.contestant(n)
        items = await AttemptItem.select(AttemptItem.question, AttemptItem.option_ids).where(
            AttemptItem.attempt == await starting.start_attempt(me, case.round_id)
        )
        orders.add(tuple(tuple(i["option_ids"]) for i in sorted(items, key=lambda i: i["question"])))
    assert len(orders) > 1


async def test_reload_or_new_device_resumes_the_same_attempt_with_the_same_deadline(new_round, clock) -> None:
    case = await new_round()
    me = await case.contestant(1)
    first = await starting.start_attempt(me, case.round_id)
    key = await answer_key(first)
    await answering.save_answer(first, me, 1, key[1][0])
    clock.advance(minutes=3)
    again = await starting.start_attempt(me, case.round_id)
    view = await attempts.attempt_view(again, me)
    assert again == first
    assert view.items[0].chosen == key[1][0]
    assert view.seconds_left == 600 - 180


async def test_an_answer_is_stored_the_moment_it_is_given_and_can_be_changed(new_round) -> None:
    case = await new_round()
    me = await case.contestant(1)
    attempt_id = await starting.start_attempt(me, case.round_id)
    right, wrong = (await answer_key(attempt_id))[2]
    await answering.save_answer(attempt_id, me, 2, wrong[0])
    await answering.save_answer(attempt_id, me, 2, right)
    row = (
        await AttemptItem.select(AttemptItem.chosen, AttemptItem.answered_at)
        .where((AttemptItem.attempt == attempt_id) & (AttemptItem.position == 2))
        .first()
    )
    assert row["chosen"] == right and row["answered_at"] is not None


async def test_an_option_of_another_question_is_refused(new_round) -> None:
    case = await new_round()
    me = await case.contestant(1)
    attempt_id = await starting.start_attempt(me, case.round_id)
    key = await answer_key(attempt_id)
    with pytest.raises(InputError) as exc:
        await answering.save_answer(attempt_id, me, 1, key[2][0])
    assert exc.value.errors == {"option": "option_invalid"}


async def test_nobody_else_can_answer_or_see_my_attempt(new_round) -> None:
    case = await new_round()
    me, other = await case.contestant(1), await case.contestant(2)
    attempt_id = await starting.start_attempt(me, case.round_id)
    key = await answer_key(attempt_id)
    with pytest.raises(InputError) as exc:
        await answering.save_answer(attempt_id, other, 1, key[1][0])
    assert exc.value.errors == {"attempt": "attempt_not_found"}
    with pytest.raises(InputError):
        await attempts.attempt_view(attempt_id, other)


async def test_answers_count_until_deadline_plus_grace_and_not_after(new_round, clock) -> None:
    case = await new_round(time_limit=300)
    me = await case.contestant(1)
    attempt_id = await starting.start_attempt(me, case.round_id)
    key = await answer_key(attempt_id)
    clock.advance(seconds=300 + 9)  # past the deadline, within the 10 s grace
    await answering.save_answer(attempt_id, me, 1, key[1][0])
    clock.advance(seconds=2)  # grace over
    with pytest.raises(InputError) as exc:
        await answering.save_answer(attempt_id, me, 2, key[2][0])
    assert exc.value.errors == {"attempt": "attempt_closed"}
    chosen = await AttemptItem.select(AttemptItem.position, AttemptItem.chosen).where(AttemptItem.attempt == attempt_id)
    assert {r["position"]: r["chosen"] for r in chosen}[2] is None


async def test_a_submit_within_grace_counts_with_time_capped_at_the_limit(new_round, clock) -> None:
    case = await new_round(time_limit=300)
    me = await case.contestant(1)
    attempt_id = await starting.start_attempt(me, case.round_id)
    clock.advance(seconds=305)
    assert (await finishing.submit(attempt_id, me)).first
    row = await Attempt.select().where(Attempt.id == attempt_id).first()
    assert row["status"] == "submitted" and not row["auto_submitted"]
    assert row["duration_ms"] == 300_000
    assert row["submitted_at"] == clock.current


async def test_a_submit_after_grace_is_closed_at_the_deadline(new_round, clock) -> None:
    case = await new_round(time_limit=300)
    me = await case.contestant(1)
    attempt_id = await starting.start_attempt(me, case.round_id)
    start = clock.current
    clock.advance(seconds=400)
    assert (await finishing.submit(attempt_id, me)).first
    row = await Attempt.select().where(Attempt.id == attempt_id).first()
    assert row["auto_submitted"] and row["submitted_at"] == start + timedelta(seconds=300)


async def test_submit_twice_changes_nothing_the_second_time(new_round, clock) -> None:
    case = await new_round()
    me = await case.contestant(1)
    attempt_id = await starting.start_attempt(me, case.round_id)
    clock.advance(seconds=42)
    done = await finishing.submit(attempt_id, me)
    assert (done.first, done.duration_ms, done.attempts_left) == (True, 42_000, 1)
    first = await Attempt.select().where(Attempt.id == attempt_id).first()
    clock.advance(seconds=30)
    assert (await finishing.submit(attempt_id, me)).first is False
    assert await Attempt.select().where(Attempt.id == attempt_id).first() == first


async def test_the_attempt_limit_of_a_round_is_enforced(new_round) -> None:
    case = await new_round(max_attempts=2)
    me = await case.contestant(1)
    for _ in range(2):
        await finishing.submit(await starting.start_attempt(me, case.round_id), me)
    with pytest.raises(InputError) as exc:
        await starting.start_attempt(me, case.round_id)
    assert exc.value.errors == {"round": "attempt_limit"}
    assert "2 lượt" in exc.value.messages("vi")["round"]


async def test_double_taps_on_start_open_one_attempt(new_round) -> None:
    import asyncio

    case = await new_round(max_attempts=5)
    me = await case.contestant(1)
    ids = await asyncio.gather(*[starting.start_attempt(me, case.round_id) for _ in range(5)])
    assert len(set(ids)) == 1


async def test_a_start_shows_what_the_stored_attempt_holds(new_round) -> None:
    """A start is one statement that also returns the page's questions: they are the stored ones, in order."""
    case = await new_round(per_topic=2)
    me = await case.contestant(1)
    started = await starting.start(me, case.round_id)
    assert started.view is not None
    stored = await attempts.attempt_view(started.attempt_id, me)
    assert started.view == stored and len(stored.items) == 2 * 4  # 2 per topic, 4 topics
    assert (await starting.start(me, case.round_id)).view is None  # resumed: the page reads it


async def test_a_start_draws_by_the_quotas_of_the_moment(new_round) -> None:
    """The last quotas seen are kept per process; the statement checks them, so a change is never missed."""
    from contest.contests.tables import Round

    case = await new_round(per_topic=2)
    first = await starting.start_attempt(await case.contestant(1), case.round_id)
    one_topic = await Attempt.select(Attempt.total).where(Attempt.id == first).first()
    assert one_topic["total"] == 2 * 4
    await Round.update({Round.quotas: json.dumps({"online_safety": 1})}).where(Round.id == case.round_id)
    second = await starting.start_attempt(await case.contestant(2), case.round_id)
    assert await AttemptItem.count().where(AttemptItem.attempt == second) == 1


async def test_no_start_before_a_round_opens_or_after_it_closes(new_round, clock) -> None:

    case = await new_round(closes_in=timedelta(minutes=5))
    me = await case.contestant(1)
    clock.advance(minutes=6)
    with pytest.raises(InputError) as exc:
        await starting.start_attempt(me, case.round_id)
    assert exc.value.errors == {"round": "round_not_open"}


async def test_an_attempt_never_runs_past_the_round_close(new_round, clock) -> None:

    case = await new_round(time_limit=900, closes_in=timedelta(minutes=5))
    me = await case.contestant(1)
    view = await attempts.attempt_view(await starting.start_attempt(me, case.round_id), me)
    assert view.deadline == clock.current + timedelta(minutes=5)


async def test_expired_attempts_are_auto_submitted_at_their_deadline(new_round, clock) -> None:
    case = await new_round(time_limit=300)
    me = await case.contestant(1)
    attempt_id = await starting.start_attempt(me, case.round_id)
    clock.advance(seconds=305)
    await finishing.close_expired()
    assert (await Attempt.select(Attempt.status).where(Attempt.id == attempt_id).first())["status"] == "open"
    clock.advance(seconds=10)
    assert await finishing.close_expired() >= 1
    row = await Attempt.select().where(Attempt.id == attempt_id).first()
    assert row["status"] == "submitted" and row["auto_submitted"] and row["duration_ms"] == 300_000


async def test_a_new_start_after_an_expired_attempt_closes_it_and_counts_it(new_round, clock) -> None:
    case = await new_round(time_limit=300, max_attempts=2)
    me = await case.contestant(1)
    first = await starting.start_attempt(me, case.round_id)
    clock.advance(seconds=400)
    second = await starting.start_attempt(me, case.round_id)
    assert second != first
    assert (await Attempt.select(Attempt.status).where(Attempt.id == first).first())["status"] == "submitted"
    await finishing.submit(second, me)
    with pytest.raises(InputError) as exc:
        await starting.start_attempt(me, case.round_id)
    assert exc.value.errors == {"round": "attempt_limit"}


@pytest.mark.parametrize("raw,value", [("", None), ("12345", 12345), ("12.345", 12345), ("1 234", 1234)])
def test_prediction_accepts_whole_numbers_as_people_type_them(raw: str, value) -> None:  # type: ignore[no-untyped-def]
    assert answering.parse_prediction(raw) == value


@pytest.mark.parametrize("raw", ["-5", "abc", "1e9", "999999999999"])
def test_prediction_refuses_what_is_not_a_count(raw: str) -> None:
    with pytest.raises(InputError):
        answering.parse_prediction(raw)


async def test_answers_given_at_the_same_moment_are_all_stored_and_the_last_choice_wins(new_round) -> None:
    import asyncio

    case = await new_round(per_topic=2)
    people = [await case.contestant(n) for n in range(1, 6)]
    ids = [await starting.start_attempt(me, case.round_id) for me in people]
    keys = [await answer_key(a) for a in ids]
    calls = []
    for me, attempt_id, key in zip(people, ids, keys, strict=True):
        for position, (right, wrong) in key.items():
            calls.append(answering.save_answer(attempt_id, me, position, wrong[0]))
            calls.append(answering.save_answer(attempt_id, me, position, right))  # changed their mind
    stranger = answering.save_answer(ids[0], people[1], 1, keys[0][1][0])  # refused, in the same groups
    results = await asyncio.gather(*calls, stranger, return_exceptions=True)
    assert all(r is None for r in results[:-1]) and isinstance(results[-1], InputError)
    rows = await AttemptItem.select(AttemptItem.attempt, AttemptItem.position, AttemptItem.chosen).where(
        AttemptItem.attempt.is_in(ids)
    )
    right = {(a, p): r for a, key in zip(ids, keys, strict=True) for p, (r, _) in key.items()}
    assert {(r["attempt"], r["position"]): r["chosen"] for r in rows} == right


async def test_submits_at_the_same_moment_each_happen_once(new_round, clock) -> None:
    import asyncio

    case = await new_round()
    people = [await case.contestant(n) for n in range(1, 8)]
    ids = [await starting.start_attempt(me, case.round_id) for me in people]
    clock.advance(seconds=30)
    calls = [finishing.submit(a, me) for _ in range(2) for a, me in zip(ids, people, strict=True)]  # double taps
    firsts = [s.first for s in await asyncio.gather(*calls)]
    assert sorted(firsts) == [False] * 7 + [True] * 7
    rows = await Attempt.select(Attempt.status, Attempt.duration_ms).where(Attempt.id.is_in(ids))
    assert {(r["status"], r["duration_ms"]) for r in rows} == {("submitted", 30_000)}
