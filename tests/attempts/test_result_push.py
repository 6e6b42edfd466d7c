"""Results without polling storms: one held request woken by the worker, else a poll at the server's pace."""

import re
from collections import Counter

from contest.attempts import push
from contest.settings import get_settings
from tests.test_journey import csrf_of, register_by_form


async def test_with_the_channel_down_the_result_polls_at_the_pace_the_server_sets(client, new_round, worker) -> None:
    # In-process, the app's lifespan (which starts the channel) never runs: the channel is down, as when Redis
    # pub/sub is out of reach, and the page must still get its result.
    assert not push.available()
    case = await new_round(per_topic=1)
    done = await register_by_form(client, case.slug)
    started = await client.post(f"/rounds/{case.round_id}/start", data={"_csrf_token": csrf_of(done.text)}, follow_redirects=True)
    attempt_id = int(re.search(r"/attempts/(\d+)/submit", started.text).group(1))
    await client.post(f"/attempts/{attempt_id}/submit", data={"_csrf_token": csrf_of(started.text)})
    polled = await client.get(f"/attempts/{attempt_id}/result/status?wait=1", headers={"hx-request": "true"})
    after = push.poll_after(attempt_id)
    assert polled.headers["retry-after"] == str(after)  # answered at once, never held
    assert f'hx-trigger="load delay:{after}s"' in polled.text  # the fragment asks again when the server said
    worker()
    polled = await client.get(f"/attempts/{attempt_id}/result/status?wait=1", headers={"hx-request": "true"})
    assert "câu đúng" in polled.text and "hx-trigger" not in polled.text and "retry-after" not in polled.headers


def test_ten_thousand_auto_submits_of_one_deadline_do_not_all_poll_in_the_same_second() -> None:
    s = get_settings().contest
    seconds = Counter(push.poll_after(attempt_id) for attempt_id in range(500_000, 510_000))
    assert len(seconds) == s.result_poll_spread and min(seconds) >= s.result_poll_seconds
    assert max(seconds.values()) <= 10_000 // s.result_poll_spread + 1
