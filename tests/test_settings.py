"""Settings: one reader of the environment, every folder under the data folder unless given its own place."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from contest.settings import get_settings


@pytest.fixture
def fresh_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def test_images_and_private_files_follow_the_data_folder(fresh_settings: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fresh_settings.setenv("CONTEST_DATA_DIR", str(tmp_path))
    fresh_settings.delenv("CONTEST_STORAGE_DIR", raising=False)
    settings = get_settings()
    assert settings.media_dir == tmp_path / "media"
    assert settings.storage_dir == tmp_path / "storage"


def test_private_files_can_live_apart_from_the_data_folder(fresh_settings: pytest.MonkeyPatch, tmp_path: Path) -> None:
    fresh_settings.setenv("CONTEST_DATA_DIR", str(tmp_path / "data"))
    fresh_settings.setenv("CONTEST_STORAGE_DIR", str(tmp_path / "shared"))
    settings = get_settings()
    assert settings.media_dir == tmp_path / "data" / "media"
    assert settings.storage_dir == tmp_path / "shared"


def test_an_unset_variable_keeps_its_default_and_a_set_one_its_type(fresh_settings: pytest.MonkeyPatch) -> None:
    fresh_settings.delenv("CONTEST_GRACE_SECONDS", raising=False)
    fresh_settings.setenv("CONTEST_SWEEP_SECONDS", "7")
    fresh_settings.setenv("CONTEST_HSTS", "1")
    fresh_settings.setenv("CONTEST_PUBLIC_URL", "https://thi.example.vn/")
    settings = get_settings()
    assert settings.contest.grace_seconds == 10
    assert settings.contest.sweep_seconds == 7
    assert settings.web.hsts is True
    assert settings.public_url == "https://thi.example.vn"
