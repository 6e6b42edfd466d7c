"""Organisers build contests and rounds through the pages: quotas the bank must fill, states, frozen rules, previews."""

import re
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from contest.attempts import starting
from contest.attempts.tables import Attempt
from contest.clock import VN_TZ
from contest.contests import builder
from contest.contests import service as contests
from contest.contests.preview import live_counts
from contest.contests.tables import Contest, Round
from contest.demo import TOPICS
from contest.i18n import InputError
from contest.staff.tables import AuditEntry
from tests.staff.test_signin import csrf_of, sign_in, staff


def vn(dt: datetime) -> str:
    return dt.astimezone(VN_TZ).strftime("%Y-%m-%dT%H:%M")


async def organiser(client) -> None:  # type: ignore[no-untyped-def]
    done = await sign_in(client, await staff("organiser"))
    assert done.status_code == 302


async def token(client, path: str = "/staff/contests/new") -> str:  # type: ignore[no-untyped-def]
    return csrf_of((await client.get(path)).text)


def contest_form(csrf: str, title: str, **quotas: int) -> dict:
    return {
        "_csrf_token": csrf,
        "title": title,
        "description": "Tìm hiểu kỹ năng số.",
        "rules": "Mỗi người thi tối đa 2 lượt mỗi tuần.",
        "time_limit_minutes": "10",
        **{f"quota.{k}": str(v) for k, v in (quotas or {t: 2 for t in TOPICS}).items()},
    }


def round_form(csrf: str, title: str, opens: str, closes: str, **extra: str) -> dict:
    return {
        "_csrf_token": csrf,
        "title": title,
        "opens_at": opens,
        "closes_at": closes,
        "max_attempts": "2",
        "time_limit_minutes": "",
        "pass_mark": "",
        "ask_prediction": "yes",
        "prize_name": ["Giải Nhất", "Giải Nhì", "Giải Ba", "Giải Khuyến khích", ""],
        "prize_count": ["1", "2", "3", "5", ""],
        **extra,
    }


async def new_contest(client, title: str | None = None, **quotas: int) -> int:  # type: ignore[no-untyped-def]
    title = title or f"Công dân số Hải Phòng {uuid.uuid4().hex[:6]}"
    made = await client.post("/staff/contests/new", data=contest_form(await token(client), title, **quotas))
    assert made.status_code == 302, made.text
    return int(made.headers["location"].rsplit("/", 1)[1])


async def add_round(client, contest_id: int, title: str, opens: datetime, closes: datetime, **extra: str):  # type: ignore[no-untyped-def]
    csrf = await token(client, f"/staff/contests/{contest_id}/rounds/new")
    return await client.post(
        f"/staff/contests/{contest_id}/rounds/new", data=round_form(csrf, title, vn(opens), vn(closes), **extra)
    )


async def change_state(client, round_id: int, to: str):  # type: ignore[no-untyped-def]
    csrf = await token(client, f"/staff/contests/rounds/{round_id}")
    return await client.post(f"/staff/contests/rounds/{round_id}/state", data={"_csrf_token": csrf, "to": to})


async def test_an_organiser_builds_a_contest_with_four_weekly_rounds_and_per_topic_draws(client, clock) -> None:
    await organiser(client)
    title = f"Cuộc thi “Công dân số” Hải Phòng – {uuid.uuid4().hex[:6]}"
    contest_id = await new_contest(client, title)
    again = await new_contest(client, title)
    page = await client.get(f"/staff/contests/{contest_id}")
    eligible = {**contest_form(csrf_of(page.text), title), "groups": ["officials", "citizens"], "provinces": ["31"]}
    eligible["communes"] = ["11560", "11557"]
    assert (await client.post(f"/staff/contests/{contest_id}", data=eligible)).status_code == 302
    picker = await client.get("/staff/contests/communes", params={"province": "31"})
    assert picker.text.count('name="communes"') == 114
    row = await Contest.select().where(Contest.id == contest_id).first()
    assert (row["groups"], row["provinces"], row["communes"]) == (["citizens", "officials"], [31], [11557, 11560])
    twin = await Contest.select(Contest.slug).where(Contest.id == again).first()
    assert row["slug"].startswith("cuoc-thi-cong-dan-so-hai-phong-") and twin["slug"] == row["slug"] + "-2"
    assert not row["published"], "a new contest stays hidden until it is published"

    start = clock.current.replace(second=0, microsecond=0) - timedelta(hours=1)
    draws = [{"online_safety": 3, "ai_daily": 2}, {"digital_awareness:2": 2, "digital_awareness": 1}, {}, {"ai_daily": 4}]
    round_ids = []
    for week, draw in enumerate(draws, start=1):
        opens = start + timedelta(days=7 * (week - 1))
        quotas = {f"quota.{k}": str(v) for k, v in draw.items()}
        made = await add_round(client, contest_id, f"Tuần thi thứ {week}", opens, opens + timedelta(days=7), **quotas)
        assert made.status_code == 302, made.text
        round_id = int(made.headers["location"].rsplit("/", 1)[1])
        assert (await change_state(client, round_id, "publish")).status_code == 302
        round_ids.append(round_id)
    rounds = await Round.select().where(Round.contest == contest_id).order_by(Round.number)
    assert [r["number"] for r in rounds] == [1, 2, 3, 4] and {r["state"] for r in rounds} == {"published"}
    assert contests.parse_quotas(rounds[0]["quotas"]) == {"online_safety": 3, "ai_daily": 2}
    assert rounds[2]["quotas"] is None, "no quotas typed: the round draws like the contest"
    assert [p["count"] for p in (await contests.round_row(round_ids[0]))["prizes"]] == [1, 2, 3, 5]

    page = await client.get(f"/staff/contests/{contest_id}")
    await client.post(f"/staff/contests/{contest_id}/publish", data={"_csrf_token": csrf_of(page.text), "published": "yes"})
    me = await _contestant(row["id"])
    attempt_id = await starting.start_attempt(me, round_ids[0])
    topics = await Attempt.raw(
        "SELECT t.slug, count(*) AS n FROM attempt_item i JOIN question q ON q.id = i.question "
        "JOIN topic t ON t.id = q.topic WHERE i.attempt = {} GROUP BY t.slug",
        attempt_id,
    )
    assert {r["slug"]: r["n"] for r in topics} == {"online_safety": 3, "ai_daily": 2}
    actions = {r["action"] for r in await AuditEntry.select(AuditEntry.action).where(AuditEntry.target.like(f"{row['slug']}%"))}
    assert {"contest.create", "round.create", "round.published", "contest.publish"} <= actions


async def _contestant(contest_id: int) -> int:
    from contest.people.service import Registration, register

    phone = f"0913{contest_id % 1000:03d}{uuid.uuid4().int % 1000:03d}"
    return await register(contest_id, Registration("Trần Thị Bình", phone, 1985, 31, 11560, "citizens", True))


async def test_the_window_typed_in_vietnam_time_is_stored_in_utc(client) -> None:
    await organiser(client)
    contest_id = await new_contest(client)
    csrf = await token(client, f"/staff/contests/{contest_id}/rounds/new")
    made = await client.post(
        f"/staff/contests/{contest_id}/rounds/new", data=round_form(csrf, "Tuần 1", "2025-03-03T08:00", "2025-03-09T23:59")
    )
    round_id = int(made.headers["location"].rsplit("/", 1)[1])
    row = await Round.select(Round.opens_at, Round.closes_at).where(Round.id == round_id).first()
    assert row["opens_at"] == datetime(2025, 3, 3, 1, 0, tzinfo=UTC)
    assert row["closes_at"] == datetime(2025, 3, 9, 16, 59, tzinfo=UTC)
    shown = await client.get(f"/staff/contests/rounds/{round_id}")
    assert 'value="2025-03-03T08:00"' in shown.text, "the form shows the window back in Vietnam time"


async def test_publishing_is_refused_while_the_bank_cannot_fill_the_draw(client, clock) -> None:
    await organiser(client)
    contest_id = await new_contest(client)
    opens = clock.current
    made = await add_round(client, contest_id, "Tuần 1", opens, opens + timedelta(days=7), **{"quota.online_safety": "150"})
    round_id = int(made.headers["location"].rsplit("/", 1)[1])
    refused = await change_state(client, round_id, "publish")
    assert refused.status_code == 409
    assert "Tương tác an toàn trên môi trường số" in refused.text and "cần 150 câu" in refused.text
    assert (await Round.select(Round.state).where(Round.id == round_id).first())["state"] == "draft"

    page = await client.get(f"/staff/contests/rounds/{round_id}")
    fixed = round_form(csrf_of(page.text), "Tuần 1", vn(opens), vn(opens + timedelta(days=7)), **{"quota.online_safety": "3"})
    assert (await client.post(f"/staff/contests/rounds/{round_id}", data=fixed)).status_code == 302
    assert (await change_state(client, round_id, "publish")).status_code == 302
    assert (await Round.select(Round.state).where(Round.id == round_id).first())["state"] == "published"


async def test_the_bank_check_does_not_count_a_question_twice_for_one_topic() -> None:
    have = (await builder.bank_counts())["online_safety"]
    total, level2 = sum(have.values()), have.get(2, 0)
    assert await builder.bank_can_fill({"online_safety:2": level2, "online_safety": total - level2}) == []
    short = await builder.bank_can_fill({"online_safety:2": level2, "online_safety": total - level2 + 1})
    assert [(s.key, s.missing) for s in short] == [("online_safety", 1)]
    short = await builder.bank_can_fill({"online_safety:2": level2 + 2})
    assert [(s.key, s.missing) for s in short] == [("online_safety:2", 2)]
    text = builder.BankShortfall(short).messages()["online_safety:2"]
    assert "mức độ 2" in text and "thiếu 2 câu" in text


async def test_a_round_with_attempts_refuses_changes_to_its_quotas_and_time_limit(client, new_round, clock) -> None:
    case = await new_round(per_topic=1)
    await starting.start_attempt(await case.contestant(1), case.round_id)
    await organiser(client)
    rnd = await contests.round_row(case.round_id)
    opens, closes = vn(rnd["opens_at"]), vn(rnd["closes_at"])

    async def edit(**extra: str):  # type: ignore[no-untyped-def]
        csrf = await token(client, f"/staff/contests/rounds/{case.round_id}")
        form = {**round_form(csrf, "Tuần 1", opens, closes), **extra}
        return await client.post(f"/staff/contests/rounds/{case.round_id}", data=form)

    for change in ({"time_limit_minutes": "20"}, {"quota.online_safety": "2"}, {"max_attempts": "5"}):
        refused = await edit(**change)
        assert refused.status_code == 422 and "đã có người thi" in refused.text, change
    after = await contests.round_row(case.round_id)
    assert after["quotas"] is None and after["time_limit_seconds"] is None and after["max_attempts"] == 2
    earlier = await edit(closes_at=vn(rnd["closes_at"] - timedelta(days=1)))
    assert earlier.status_code == 422 and "chỉ có thể lùi lại" in earlier.text
    assert (await edit(title="Tuần 1 (gia hạn)", closes_at=vn(rnd["closes_at"] + timedelta(days=1)))).status_code == 302
    assert (await change_state(client, case.round_id, "draft")).status_code == 409
    with pytest.raises(InputError):
        await builder.save_contest(
            await _staff_user(),
            {"title": "Test", "time_limit_minutes": "30", "quota.online_safety": "1"},
            [],
            [],
            [],
            case.contest_id,
        )


async def _staff_user():  # type: ignore[no-untyped-def]
    from contest.staff.accounts import create_staff
    from contest.staff.signin import staff_user

    staff_id = await create_staff(f"o-{uuid.uuid4().hex[:8]}@haiphong.gov.vn", "Ban tổ chức", "organiser")
    return await staff_user(staff_id, 0)


async def _draft_round_open_now(case, clock) -> int:  # type: ignore[no-untyped-def]
    """A draft round whose window is open now, beside the case's round (closed, so only the draft could show)."""
    values = builder.read_round(
        {"title": "Vòng nháp bí mật", "opens_at": vn(clock.current - timedelta(hours=2)),
         "closes_at": vn(clock.current + timedelta(days=1)), "max_attempts": "2"}, [], [],
    )  # fmt: skip
    await Round.update({Round.closes_at: clock.current - timedelta(minutes=1)}).where(Round.id == case.round_id)
    return await builder.create_round(await _staff_user(), case.contest_id, values)


async def test_a_draft_round_cannot_be_started_and_is_not_listed(client, new_round, clock) -> None:
    case = await new_round()
    draft_id = await _draft_round_open_now(case, clock)
    with pytest.raises(InputError) as refused:
        await starting.start_attempt(await case.contestant(1), draft_id)
    assert refused.value.errors == {"round": "round_not_open"}
    assert "Vòng nháp bí mật" not in (await client.get("/")).text


async def test_a_draft_round_is_not_shown_on_the_contest_page(client, new_round, clock) -> None:
    case = await new_round()
    await _draft_round_open_now(case, clock)
    assert "Vòng nháp bí mật" not in (await client.get(f"/c/{case.slug}")).text


async def test_results_are_published_only_after_the_round_closes(client, new_round, clock) -> None:
    case = await new_round(closes_in=timedelta(hours=1))
    await organiser(client)
    early = await change_state(client, case.round_id, "results")
    assert early.status_code == 409 and "sau khi vòng thi đã đóng" in early.text
    clock.advance(hours=2)
    assert (await change_state(client, case.round_id, "results")).status_code == 302


async def test_an_organiser_previews_a_draft_round_uncounted_and_watches_live_counts(client, new_round, clock) -> None:
    case = await new_round(per_topic=1)
    await organiser(client)
    await Round.update({Round.state: "draft"}).where(Round.id == case.round_id)
    csrf = await token(client, f"/staff/contests/rounds/{case.round_id}")
    started = await client.post(f"/staff/contests/rounds/{case.round_id}/preview", data={"_csrf_token": csrf})
    assert started.status_code == 302
    attempt_id = int(started.headers["location"].rsplit("/", 1)[1])
    preview = await client.get(started.headers["location"])
    assert preview.status_code == 200 and preview.text.count("✔ đáp án") >= 4
    row = await Attempt.select(Attempt.preview, Attempt.total).where(Attempt.id == attempt_id).first()
    assert row == {"preview": True, "total": 4}
    again = await client.post(f"/staff/contests/rounds/{case.round_id}/preview", data={"_csrf_token": csrf})
    assert again.headers["location"] == started.headers["location"], "an open preview is resumed"
    option = re.search(r'name="option" value="(\d+)"', preview.text).group(1)
    saved = await client.post(
        f"/staff/contests/previews/{attempt_id}/answers/1", data={"option": option}, headers={"x-csrftoken": csrf}
    )
    assert saved.status_code == 200
    await client.post(f"/staff/contests/previews/{attempt_id}/submit", data={"_csrf_token": csrf})
    assert (await Attempt.select(Attempt.status).where(Attempt.id == attempt_id).first())["status"] == "submitted"

    await Round.update({Round.state: "published"}).where(Round.id == case.round_id)
    await starting.start_attempt(await case.contestant(1), case.round_id)
    live = await client.get(f"/staff/contests/rounds/{case.round_id}/live")
    assert live.status_code == 200 and 'hx-trigger="every 5s"' in live.text
    counts = await client.get(f"/staff/contests/rounds/{case.round_id}/live/counts")
    assert re.search(r'class="live-open">1<', counts.text) and re.search(r'class="live-people">1<', counts.text)
    assert (await live_counts(case.round_id)).previews == 1


async def test_only_organisers_and_admins_reach_the_builder(client) -> None:
    anonymous = await client.get("/staff/contests/")
    assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/staff/login?next=")
    await sign_in(client, await staff("official", [11560]))
    assert (await client.get("/staff/contests/")).status_code == 403
    client.cookies.clear()
    await sign_in(client, await staff("admin"))
    assert (await client.get("/staff/contests/")).status_code == 200


async def test_builder_forms_need_the_csrf_token(client) -> None:
    await organiser(client)
    form = contest_form("", f"Không có mã {uuid.uuid4().hex[:6]}")
    del form["_csrf_token"]
    refused = await client.post("/staff/contests/new", data=form)
    assert refused.status_code == 403
    assert not await Contest.exists().where(Contest.title == form["title"])
