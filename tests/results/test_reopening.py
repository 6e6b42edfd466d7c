"""Reopening results whose certificates were awarded: the organiser is told how many will be revoked and confirms;
they are revoked (audited) so none contradicts the new results, and the award after the new publication issues the
certificates of the new results, while a certificate an organiser revoked on its own stays revoked."""

from __future__ import annotations

import json

from contest.certificates import service as certificates
from contest.certificates.tables import Certificate
from contest.contests.tables import Round
from contest.results import service
from contest.staff.tables import AuditEntry
from tests.factories import certificate_design
from tests.leaderboard.test_final_order import published_round
from tests.results.test_results import _organiser
from tests.staff.test_signin import csrf_of, sign_in, staff

WHY = "Nhầm đáp án câu 3"


async def test_reopening_results_with_certificates_revokes_them_once_confirmed_and_the_next_award_follows_the_new_results(
    client, new_round, clock
) -> None:
    case, who, _ = await published_round(new_round, clock)  # A Giải Nhất, B Giải Nhì, C disqualified
    rid = case.round_id
    await Round.update({Round.pass_mark: 1}).where(Round.id == rid)
    await certificate_design(case.contest_id)
    organiser = await _organiser()
    await certificates.award_round(rid)
    [own] = await Certificate.select().where((Certificate.contestant == who["D"]) & (Certificate.kind == "participation"))
    await certificates.revoke(organiser, own["code"], "Thi hộ người khác")  # the organiser's own decision
    before = await Certificate.select().where((Certificate.round == rid) & Certificate.revoked_at.is_null())
    prizes = {c["contestant"]: c["prize"] for c in before if c["kind"] == "prize"}
    assert prizes == {who["A"]: "Giải Nhất", who["B"]: "Giải Nhì"} and len(before) >= 4

    await sign_in(client, await staff("organiser"))
    page = await client.get(f"/staff/results/{rid}")
    assert f"Thu hồi {len(before)} giấy chứng nhận đã cấp cho vòng thi này" in page.text
    csrf = csrf_of(page.text)
    refused = await client.post(f"/staff/results/{rid}/reopen", data={"_csrf_token": csrf, "reason": WHY})
    assert refused.status_code == 422 and f"Đã cấp {len(before)} giấy chứng nhận cho vòng thi này" in refused.text
    assert (await Round.select(Round.results_published_at).where(Round.id == rid).first())["results_published_at"]
    assert await Certificate.count().where((Certificate.round == rid) & Certificate.revoked_at.is_null()) == len(before)

    confirmed = {"_csrf_token": csrf, "reason": WHY, "revoke_certificates": "yes"}
    assert (await client.post(f"/staff/results/{rid}/reopen", data=confirmed)).status_code == 302
    assert await Certificate.count().where((Certificate.round == rid) & Certificate.revoked_at.is_null()) == 0
    old_first = next(c["code"] for c in before if c["prize"] == "Giải Nhất")
    verify = await client.get(f"/verify/{old_first}")
    assert "THU HỒI" in verify.text and WHY not in verify.text  # the reason stays for staff
    [reopened] = await AuditEntry.select().where(
        (AuditEntry.action == "results.reopen") & (AuditEntry.target == f"{case.slug}#1")
    )
    detail = reopened["detail"] if isinstance(reopened["detail"], dict) else json.loads(reopened["detail"])
    assert detail["certificates_revoked"] == len(before) and detail["reason"] == WHY
    [revoked] = await AuditEntry.select().where(
        (AuditEntry.action == "certificates.revoke_round") & (AuditEntry.target == reopened["target"])
    )
    detail = revoked["detail"] if isinstance(revoked["detail"], dict) else json.loads(revoked["detail"])
    assert sorted(detail["codes"]) == sorted(c["code"] for c in before)

    # C is reinstated (a mistaken disqualification): C now leads, A comes second, B wins nothing.
    await service.reinstate(organiser, rid, who["C"])
    await service.compute_results(organiser, rid)
    await service.publish(organiser, rid)
    assert not (await certificates.award_round(rid)).skipped
    after = await Certificate.select().where((Certificate.round == rid) & Certificate.revoked_at.is_null())
    assert {c["contestant"]: c["prize"] for c in after if c["kind"] == "prize"} == {who["C"]: "Giải Nhất", who["A"]: "Giải Nhì"}
    assert who["D"] not in {c["contestant"] for c in after}, "a certificate the organiser revoked stays revoked"
    assert not {c["code"] for c in after} & {c["code"] for c in before}
    # A second award makes nothing more.
    assert (await certificates.award_round(rid)).total == 0
