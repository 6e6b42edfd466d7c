"""Numbers people type are read one way everywhere: ASCII digits only. "²" is a digit to str.isdigit() (and a
crash in int()), "३१" reads as 31: both are not numbers here, and neither is a server error."""

from __future__ import annotations

import pytest

from contest.attempts.answering import parse_prediction
from contest.digits import read_int
from contest.i18n import InputError
from tests.test_journey import register_by_form

NOT_NUMBERS = ["²", "³¹", "३१", "٣١", "３１", "+31", "-31", "3 1", "31.0", "1_000", ""]


@pytest.mark.parametrize("raw", NOT_NUMBERS)
def test_only_ascii_digits_make_a_number(raw: str) -> None:
    assert read_int(raw) is None
    assert read_int(raw, 0) == 0


def test_ascii_digits_with_spaces_around_are_a_number() -> None:
    assert read_int(" 31 ") == 31 and read_int(31) == 31 and read_int(None) is None


@pytest.mark.parametrize("raw", ["²", "३१", "٣١"])
def test_a_prediction_in_other_scripts_digits_is_refused(raw: str) -> None:
    with pytest.raises(InputError):
        parse_prediction(raw)


@pytest.mark.parametrize("province", ["²", "३१", "٣١"])
async def test_a_province_in_other_digits_lists_no_communes_rather_than_a_server_error(client, province) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/communes", params={"province": province})
    assert r.status_code == 200
    assert '<option value="1' not in r.text  # not province 31's communes, and not a crash


@pytest.mark.parametrize("province", ["²", "३१"])
async def test_the_registration_form_with_a_province_in_other_digits_says_what_is_wrong(client, new_round, province) -> None:  # type: ignore[no-untyped-def]
    case = await new_round()
    r = await register_by_form(client, case.slug, province=province, commune="")
    assert r.status_code == 422, r.text[:300]
