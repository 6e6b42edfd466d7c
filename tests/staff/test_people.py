"""Admins manage staff accounts: invitations, roles, communes, deactivation, unlocking; all of it audited."""

import re
import uuid

import pytest

from contest.people.tables import Commune
from contest.staff.tables import AuditEntry, Staff, StaffCommune
from tests.conftest import client_for
from tests.staff.test_signin import PASSWORD, csrf_of, sign_in, staff


async def staff_id_of(email: str) -> int:
    return (await Staff.select(Staff.id).where(Staff.email == email).first())["id"]


async def two_communes() -> list[int]:
    return [r["code"] for r in await Commune.select(Commune.code).order_by(Commune.code).limit(2)]


async def as_admin(client) -> tuple[int, str]:  # type: ignore[no-untyped-def]
    """Sign in a fresh admin; their id and a CSRF token for the staff pages."""
    email = await staff("admin")
    assert (await sign_in(client, email)).status_code == 302
    listing = await client.get("/staff/people/")
    assert listing.status_code == 200
    return await staff_id_of(email), csrf_of(listing.text)


async def actions_by(staff_id: int) -> list[str]:
    rows = await AuditEntry.select(AuditEntry.action).where(AuditEntry.staff == staff_id).order_by(AuditEntry.id)
    return [r["action"] for r in rows]


def invite_path(html: str) -> str:
    return re.search(r"/staff/invite/[\w-]+", html).group(0)


async def test_an_admin_invites_an_official_for_two_communes_who_sets_a_password_and_is_asked_to_sign_in_with_it(
    client, app
) -> None:
    admin_id, token = await as_admin(client)
    communes = await two_communes()
    email = f"Official-{uuid.uuid4().hex[:8]}@HaiPhong.gov.vn"
    made = await client.post(
        "/staff/people/",
        data={"_csrf_token": token, "email": email, "full_name": " Lê  Thị Hoa ", "role": "official", "communes": communes},
    )
    assert made.status_code == 200 and "Đã thêm tài khoản" in made.text
    assert made.headers["cache-control"] == "no-store"
    row = await Staff.select().where(Staff.email == email.lower()).first()
    assert (row["full_name"], row["role"], row["password_hash"]) == ("Lê Thị Hoa", "official", "")
    bound = await StaffCommune.select(StaffCommune.commune).where(StaffCommune.staff == row["id"])
    assert sorted(b["commune"] for b in bound) == communes
    listing = await client.get("/staff/people/")
    assert email.lower() in listing.text and "Chờ nhận lời mời" in listing.text
    table = listing.text[listing.text.index("<table") :]  # past the menu, which names who is signed in
    assert table.index(email.lower()) < table.index("Cán bộ admin")  # newest first

    link = invite_path(made.text)
    async with client_for(app) as newcomer:
        form = await newcomer.get(link)
        assert form.status_code == 200 and email.lower() in form.text
        csrf = csrf_of(form.text)
        differ = await newcomer.post(link, data={"_csrf_token": csrf, "password": PASSWORD, "password_repeat": PASSWORD + "x"})
        assert differ.status_code == 422 and "không khớp" in differ.text
        weak = await newcomer.post(link, data={"_csrf_token": csrf, "password": "12345", "password_repeat": "12345"})
        assert weak.status_code == 422 and "Mật khẩu cần ít nhất" in weak.text
        done = await newcomer.post(link, data={"_csrf_token": csrf, "password": PASSWORD, "password_repeat": PASSWORD})
        assert done.status_code == 302 and done.headers["location"].startswith("/staff/login?")
        welcome = await newcomer.get(done.headers["location"])
        assert "Mật khẩu đã được đặt" in welcome.text and f'value="{email.lower()}"' in welcome.text
        assert (await sign_in(newcomer, email)).status_code == 302
        home = await newcomer.get("/staff/")
        assert home.status_code == 200 and "Lê Thị Hoa" in home.text
        again = await newcomer.get(link)
        assert again.status_code == 404 and "Lời mời không hợp lệ" in again.text

    assert "staff.create" in await actions_by(admin_id)
    assert "invite.accepted" in await actions_by(row["id"])


async def test_an_expired_invitation_no_longer_opens(client, app, clock) -> None:
    _, token = await as_admin(client)
    made = await client.post(
        "/staff/people/",
        data={
            "_csrf_token": token,
            "email": f"late-{uuid.uuid4().hex[:8]}@haiphong.gov.vn",
            "full_name": "Trễ Hẹn",
            "role": "organiser",
        },
    )
    clock.advance(days=8)
    async with client_for(app) as newcomer:
        late = await newcomer.get(invite_path(made.text))
        assert late.status_code == 404 and "hết hạn" in late.text


async def test_only_admins_reach_the_staff_accounts_page(client) -> None:
    for role, communes in (("organiser", None), ("official", [11560])):
        client.cookies.clear()
        await sign_in(client, await staff(role, communes))
        assert (await client.get("/staff/people/")).status_code == 403
        home = await client.get("/staff/")
        refused = await client.post(
            "/staff/people/", data={"_csrf_token": csrf_of(home.text), "email": "x@y.vn", "full_name": "X Y", "role": "admin"}
        )
        assert refused.status_code == 403
    assert await Staff.count().where(Staff.email == "x@y.vn") == 0
    client.cookies.clear()
    anonymous = await client.get("/staff/people/")
    assert anonymous.status_code == 302 and anonymous.headers["location"].startswith("/staff/login?next=")


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"email": "khong-phai-email", "role": "organiser"}, "Email không hợp lệ"),
        ({"role": "official"}, "ít nhất một xã/phường"),
        ({"role": "official", "communes": ["11560", "99999999"]}, "không có trong danh sách"),
        ({"role": "official", "communes": ["abc"]}, "không có trong danh sách"),
        ({"role": "official", "communes": ["99999999999999999999"]}, "không có trong danh sách"),
        ({"role": "boss"}, "Vai trò không hợp lệ"),
        ({"role": "organiser", "full_name": " "}, "Vui lòng nhập họ và tên"),
        ({"role": "organiser", "email": "TAKEN"}, "Email này đã có tài khoản"),
    ],
)
async def test_bad_new_accounts_are_explained_in_vietnamese_and_store_nothing(client, fields, expected) -> None:
    _, token = await as_admin(client)
    taken = await staff("organiser")
    data = {"_csrf_token": token, "email": f"new-{uuid.uuid4().hex[:8]}@haiphong.gov.vn", "full_name": "Phạm Văn An", **fields}
    if data["email"] == "TAKEN":
        data["email"] = taken.upper()
    before = (
        await Staff.count(),
        await StaffCommune.count(),
        await AuditEntry.count().where(AuditEntry.action == "staff.create"),
    )
    refused = await client.post("/staff/people/", data=data)
    assert refused.status_code == 422 and expected in refused.text
    if "full_name" not in fields:
        assert 'value="Phạm Văn An"' in refused.text  # the form comes back filled in
    if "11560" in fields.get("communes", []):
        assert re.search(r'value="11560" checked', refused.text) and "đã chọn 1" in refused.text
    after = (await Staff.count(), await StaffCommune.count(), await AuditEntry.count().where(AuditEntry.action == "staff.create"))
    assert after == before


async def test_deactivating_someone_ends_their_sessions_until_an_admin_reactivates_them(client, app) -> None:
    admin_id, token = await as_admin(client)
    email = await staff("organiser")
    person = await staff_id_of(email)
    async with client_for(app) as phone:
        await sign_in(phone, email)
        assert (await phone.get("/staff/")).status_code == 200
        off = await client.post(f"/staff/people/{person}/deactivate", data={"_csrf_token": token})
        assert off.status_code == 302 and off.headers["location"] == f"/staff/people/{person}"
        assert (await phone.get("/staff/")).status_code == 302
        assert (await sign_in(phone, email)).status_code == 422
        assert "Ngừng hoạt động" in (await client.get(f"/staff/people/{person}")).text
        await client.post(f"/staff/people/{person}/reactivate", data={"_csrf_token": token})
        assert (await phone.get("/staff/")).status_code == 302  # the old session stays ended
        assert (await sign_in(phone, email)).status_code == 302
    assert (await actions_by(admin_id))[-2:] == ["staff.deactivate", "staff.reactivate"]


async def test_an_admin_cannot_deactivate_or_demote_themselves(client) -> None:
    admin_id, token = await as_admin(client)
    own = await client.get(f"/staff/people/{admin_id}")
    assert "đây là tài khoản của bạn" in own.text and f"/staff/people/{admin_id}/deactivate" not in own.text
    refused = await client.post(f"/staff/people/{admin_id}/deactivate", data={"_csrf_token": token})
    assert refused.status_code == 422 and "không thể tự khóa" in refused.text
    demoted = await client.post(f"/staff/people/{admin_id}/access", data={"_csrf_token": token, "role": "organiser"})
    assert demoted.status_code == 422 and "không thể tự bỏ vai trò quản trị viên" in demoted.text
    row = await Staff.select(Staff.active, Staff.role).where(Staff.id == admin_id).first()
    assert row == {"active": True, "role": "admin"}
    assert (await client.get("/staff/people/")).status_code == 200  # still signed in
    assert not {"staff.deactivate", "staff.role"} & set(await actions_by(admin_id))


async def test_an_admin_changes_roles_and_communes_unlocks_reinvites_and_logs_people_out(client, app) -> None:
    admin_id, token = await as_admin(client)
    first, second = await two_communes()
    email = await staff("official", [first])
    person = await staff_id_of(email)

    async def communes() -> list[int]:
        return sorted(r["commune"] for r in await StaffCommune.select(StaffCommune.commune).where(StaffCommune.staff == person))

    moved = await client.post(
        f"/staff/people/{person}/access", data={"_csrf_token": token, "role": "official", "communes": [first, second]}
    )
    assert moved.status_code == 302 and await communes() == [first, second]
    none = await client.post(f"/staff/people/{person}/access", data={"_csrf_token": token, "role": "official"})
    assert none.status_code == 422 and "ít nhất một xã/phường" in none.text and await communes() == [first, second]
    promoted = await client.post(f"/staff/people/{person}/access", data={"_csrf_token": token, "role": "organiser"})
    assert promoted.status_code == 302 and await communes() == []
    assert (await Staff.select(Staff.role).where(Staff.id == person).first())["role"] == "organiser"

    async with client_for(app) as phone:
        for _ in range(5):
            await sign_in(phone, email, "wrong-pass-1")
        assert "Tạm khóa do sai mật khẩu" in (await client.get(f"/staff/people/{person}")).text
        await client.post(f"/staff/people/{person}/unlock", data={"_csrf_token": token})
        assert (await sign_in(phone, email)).status_code == 302
        assert (await phone.get("/staff/")).status_code == 200

        await client.post(f"/staff/people/{person}/logout-everywhere", data={"_csrf_token": token})
        assert (await phone.get("/staff/")).status_code == 302

        reset = await client.post(f"/staff/people/{person}/invite", data={"_csrf_token": token})
        assert reset.status_code == 200 and "Đã tạo lời mời mới" in reset.text
        link = invite_path(reset.text)
        form = await phone.get(link)
        new_password = "cat-hai-2026-moi"
        data = {"_csrf_token": csrf_of(form.text), "password": new_password, "password_repeat": new_password}
        assert (await phone.post(link, data=data)).status_code == 302
        assert (await sign_in(phone, email, new_password)).status_code == 302

    assert (await client.get("/staff/people/999999999")).status_code == 404
    assert (await client.post("/staff/people/999999999/unlock", data={"_csrf_token": token})).status_code == 404
    assert await actions_by(admin_id) == [
        "login",
        "staff.communes",
        "staff.role",
        "staff.communes",
        "staff.unlock",
        "staff.logout_everywhere",
        "staff.invite",
    ]
    audit = await client.get("/staff/audit/")
    assert "staff.unlock" in audit.text and email in audit.text
