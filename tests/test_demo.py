"""The demo and the commune list that `make run` loads."""

from contest.contests.tables import Contest, Round
from contest.demo import DEMO_SLUG, load_demo
from contest.people.service import load_communes
from contest.people.tables import Commune, Province
from contest.questions.service import demo_bank
from contest.questions.tables import Option, Question


async def test_loading_the_demo_again_changes_nothing() -> None:
    before = (await Contest.count(), await Round.count(), await Question.count(), await Option.count())
    assert "already" in await load_demo()
    assert (await Contest.count(), await Round.count(), await Question.count(), await Option.count()) == before


async def test_the_demo_has_two_weekly_rounds_one_open_now_and_haiphong_communes() -> None:
    from contest.clock import now
    from contest.contests.service import contest_by_slug

    info = await contest_by_slug(DEMO_SLUG)
    assert [r.state(now()) for r in info.rounds] == ["open", "upcoming"]
    assert await Commune.count().where(Commune.province == 31) == 114


def test_the_demo_bank_has_sixty_questions_or_more_over_the_four_topics_each_with_one_right_option() -> None:
    bank = demo_bank()
    assert len(bank) >= 60
    assert {q["topic"] for q in bank} == {"digital_awareness", "digital_services", "online_safety", "ai_daily"}
    assert all(len(q["options"]) == 4 and 0 <= q["correct"] < 4 and len(set(q["options"])) == 4 for q in bank)


async def test_the_whole_country_loads_34_provinces_and_3321_communes() -> None:
    try:
        assert await load_communes() == 3321
        assert await Province.count() == 34 and await Commune.count() == 3321
    finally:  # back to the demo's one province, which the other tests expect
        await Commune.delete().where(Commune.province != 31)
        await Province.delete().where(Province.code != 31)
