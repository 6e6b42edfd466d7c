"""Staff pages an organiser can find their way in: a menu by role on every staff page, the round page's links, and
commune pickers that are a searchable list shown only to who needs them."""

from tests.contests.test_builder import organiser
from tests.staff.test_signin import sign_in, staff


async def test_every_staff_page_has_the_menu_of_the_members_role(client, new_round) -> None:
    case = await new_round()
    await organiser(client)
    for path in (
        "/staff/",
        "/staff/contests/",
        f"/staff/contests/rounds/{case.round_id}",
        "/staff/questions/",
        "/staff/officials/",
    ):
        text = (await client.get(path, follow_redirects=True)).text
        assert 'class="staff-menu"' in text and 'href="/staff/contests/"' in text, path
        assert 'href="/staff/audit/"' not in text, path
    rnd = (await client.get(f"/staff/contests/rounds/{case.round_id}")).text
    for link in (f"/staff/contests/rounds/{case.round_id}/live", f"/staff/results/{case.round_id}",
                 f"/staff/certificates/round/{case.round_id}"):  # fmt: skip
        assert f'href="{link}"' in rnd, link
    client.cookies.clear()
    await sign_in(client, await staff("official", [11560]))
    official = (await client.get("/staff/officials/", follow_redirects=True)).text
    assert 'class="staff-menu"' in official and 'href="/staff/contests/"' not in official


async def test_commune_pickers_are_searchable_lists_shown_for_officials_only(client) -> None:
    await sign_in(client, await staff("admin"))
    invite = (await client.get("/staff/people/")).text
    assert 'data-role-only="official"' in invite and invite.count("data-picker=") >= 1
    contest = (await client.get("/staff/contests/new")).text
    assert 'class="picker-list" data-picker=' in contest
    assert (await client.get("/staff/contests/communes?province=31")).text.count('class="picker-list"') == 1
