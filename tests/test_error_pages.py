"""Errors are the app's own pages: in the reader's language with a way back; the API keeps JSON."""

from __future__ import annotations


async def test_an_unknown_address_is_a_page_in_vietnamese_or_english_with_a_way_home(client) -> None:
    for path in ("/c/wrong-slug", "/khong-co-trang-nay", "/rounds/999999999/board"):
        page = await client.get(path)
        assert page.status_code == 404 and page.headers["content-type"].startswith("text/html"), path
        assert "Không tìm thấy trang" in page.text and 'href="/"' in page.text and "status_code" not in page.text
        assert page.headers["x-request-id"]
    await client.get("/lang/en")
    page = await client.get("/c/wrong-slug")
    assert page.status_code == 404 and "Page not found" in page.text and "Không tìm thấy trang" not in page.text
    assert '<html lang="en">' in page.text


async def test_the_api_keeps_json_for_unknown_addresses_and_methods(client) -> None:
    missing = await client.get("/api/v1/nothing-here", headers={"accept-language": "en"})
    assert missing.status_code == 404 and missing.json()["errors"]["page"].startswith("This page was not found")
    wrong = await client.delete("/api/v1/contests")
    assert wrong.status_code == 405 and "errors" in wrong.json() and "GET" in wrong.headers["allow"]


async def test_a_method_a_page_does_not_take_is_a_page_too(client) -> None:
    page = await client.put("/")
    assert page.status_code in (403, 405) and page.headers["content-type"].startswith("text/html")
    page = await client.delete("/verify/abc", headers={"x-csrftoken": "x"})
    assert page.status_code in (403, 405) and "<html" in page.text


async def test_verify_without_a_code_offers_a_field_that_leads_to_the_verification_page(client) -> None:
    for path in ("/verify", "/verify/"):
        page = await client.get(path)
        assert page.status_code == 200 and 'name="code"' in page.text and 'action="/verify"' in page.text
    sent = await client.get("/verify", params={"code": " 0123-4567 "})
    assert sent.status_code in (302, 303) and sent.headers["location"] == "/verify/0123-4567"
    unknown = await client.get(sent.headers["location"])
    assert unknown.status_code == 404 and 'name="code"' in unknown.text
