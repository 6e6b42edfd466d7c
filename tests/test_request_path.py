"""What every request pays before its handler: nothing a small or anonymous answer does not need
(loadtests/bench_pages.py measures it: the app's /healthz against a bare Litestar hello)."""

from __future__ import annotations

import litestar.utils.sync
from litestar.middleware.compression import brotli_facade, middleware


async def test_the_cheapest_answers_never_wait_for_a_worker_thread(client, monkeypatch) -> None:
    hops = []
    real = litestar.utils.sync.sync_to_thread

    async def counted(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        hops.append(fn)
        return await real(fn, *args, **kwargs)

    monkeypatch.setattr(litestar.utils.sync, "sync_to_thread", counted)
    for path in ("/healthz", "/no-such-page", "/api/v1/contests"):
        response = await client.get(path)
        # Still every security header, added on the event loop.
        assert (
            response.headers["x-frame-options"] == "DENY"
            and "frame-ancestors 'none'" in response.headers["content-security-policy"]
        ), path
    assert hops == []


async def test_a_small_answer_is_sent_without_building_a_compressor_and_a_page_is_still_compressed(client, monkeypatch) -> None:
    built = []
    for cls in (brotli_facade.BrotliCompression, middleware.GzipCompression):
        real_init = cls.__init__

        def init(self, *args, _real=real_init, _cls=cls, **kwargs):  # type: ignore[no-untyped-def]
            built.append(_cls.__name__)
            _real(self, *args, **kwargs)

        monkeypatch.setattr(cls, "__init__", init)
    for encoding in ("gzip, deflate, br", "gzip"):
        small = await client.get("/healthz", headers={"accept-encoding": encoding})
        assert small.text == "ok" and "content-encoding" not in small.headers
    assert built == []
    page = await client.get("/", headers={"accept-encoding": "gzip, deflate, br"})
    assert page.status_code == 200 and page.headers["content-encoding"] == "br" and "</html>" in page.text
    assert page.headers["vary"] == "Accept-Encoding" and built == ["BrotliCompression"]


async def test_messages_on_a_page_come_from_the_catalog_in_memory_not_from_disk(client, monkeypatch) -> None:
    from contest import i18n

    for lang in i18n.LANGUAGES:  # read once, whenever a process first needs it
        i18n.message("not_identified", lang)
    reads = []
    real_load = i18n.tomllib.load

    def load(f):  # type: ignore[no-untyped-def]
        reads.append(f.name)
        return real_load(f)

    monkeypatch.setattr(i18n.tomllib, "load", load)
    for lang in ("vi", "en", "vi"):
        assert i18n.message("not_identified", lang) != "not_identified"
    assert (await client.get("/c/no-such-contest")).status_code == 404
    assert reads == []


def test_numbers_and_dates_on_a_long_board_do_not_parse_the_locale_again_each_time(monkeypatch) -> None:
    from datetime import UTC, datetime

    import babel.core

    from contest import formatting

    moment = datetime(2026, 11, 22, 7, 5, tzinfo=UTC)

    def everything(lang: str) -> tuple[str, ...]:
        return (
            formatting.number(1234, lang),
            formatting.decimal(3.14159, 2, lang),
            formatting.duration(83450, lang),
            formatting.local(moment, lang),
            formatting.day(moment.date(), lang),
        )

    for lang in ("vi", "en"):  # parsed once, whenever a process first needs it
        everything(lang)
    parsed = []
    real_parse = babel.core.parse_locale

    def parse_locale(*args, **kwargs):  # type: ignore[no-untyped-def]
        parsed.append(args)
        return real_parse(*args, **kwargs)

    monkeypatch.setattr(babel.core, "parse_locale", parse_locale)
    shown = [everything(lang) for lang in ("vi", "en") for _ in range(50)]
    assert shown[0] == ("1.234", "3,14", "1 phút 23,4 giây", "22/11/2026 14:05", "22/11/2026")
    assert shown[-1][:2] == ("1,234", "3.14")
    assert parsed == []


async def test_a_shared_copy_is_compressed_harder_than_an_answer_made_for_one_request(client, monkeypatch) -> None:
    """A shared copy is compressed once for every viewer (the config's brotli quality); a response made for one
    request takes a faster quality, as it is paid for on every request."""
    from contest import shared
    from contest.compression import PER_REQUEST_QUALITY

    qualities = []
    real_init = brotli_facade.BrotliCompression.__init__

    def init(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        qualities.append(kwargs["config"].brotli_quality)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(brotli_facade.BrotliCompression, "__init__", init)
    monkeypatch.setattr(shared, "interval", lambda: 1.0)
    shared.forget()
    page = await client.get("/", headers={"accept-encoding": "br"})  # a public page: one shared copy
    assert page.headers["content-encoding"] == "br" and "</html>" in page.text
    login = await client.get("/staff/login", headers={"accept-encoding": "br"})  # made for this visitor
    assert login.headers["content-encoding"] == "br" and "</html>" in login.text
    assert qualities == [5, PER_REQUEST_QUALITY] and PER_REQUEST_QUALITY < 5
