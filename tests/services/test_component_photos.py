"""Photos of a component: the type is read from the bytes, the file goes to the storage
adapter under a content key, and adding one is versioned like any other change."""

from __future__ import annotations

from pathlib import Path

import pytest

from gridcity.adapters.storage import LocalStorage
from gridcity.bootstrap import Container
from gridcity.domain.components import PHOTO_MAX
from gridcity.domain.errors import DomainError, Forbidden, InvalidInput, NotFound
from gridcity.services import component_photos
from gridcity.services.component_photos import add_photo, get_photo, sniff_image
from gridcity.services.components import component_history, get_component
from tests.factories import TEST_INFO
from tests.services.test_components import Registry, build_registry

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 64


@pytest.fixture
def reg(container: Container) -> Registry:
    """The registry fixture of the component tests."""
    return build_registry(container)


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    """A storage folder of this test."""
    return LocalStorage(tmp_path / "files")


def test_image_types_are_read_from_the_first_bytes() -> None:
    assert (sniff_image(JPEG), sniff_image(PNG), sniff_image(WEBP)) == ("jpg", "png", "webp")
    assert sniff_image(b"GIF89a") is None and sniff_image(b"") is None


def test_a_photo_is_stored_under_its_content_and_versioned(
    reg: Registry, storage: LocalStorage
) -> None:
    view = add_photo(
        reg.container.deps, storage, reg.admin, reg.cover, JPEG, reason="现场照片", info=TEST_INFO
    )
    (key,) = view.photos
    assert key.startswith(f"components/{reg.cover}/") and key.endswith(".jpg")
    assert storage.get(key) == JPEG and view.version == 2
    again = add_photo(reg.container.deps, storage, reg.admin, reg.cover, JPEG, info=TEST_INFO)
    assert again.photos == [key] and again.version == 2  # the same photo is kept once
    *_, entry = component_history(reg.container.deps, reg.admin, reg.cover)
    assert (entry.action, entry.reason, entry.changes) == (
        "photo_added",
        "现场照片",
        {"photos": [[], [key]]},
    )
    name = key.rsplit("/", 1)[1]
    photo = get_photo(reg.container.deps, storage, reg.actor("supervisor"), reg.cover, name)
    assert (photo.data, photo.media_type) == (JPEG, "image/jpeg")


def test_photos_are_read_only_within_the_scope(reg: Registry, storage: LocalStorage) -> None:
    view = add_photo(reg.container.deps, storage, reg.admin, reg.bin, PNG, info=TEST_INFO)
    name = view.photos[0].rsplit("/", 1)[1]
    with pytest.raises(NotFound) as hidden:
        get_photo(reg.container.deps, storage, reg.actor("supervisor"), reg.bin, name)
    assert hidden.value.code == "component_not_found"
    with pytest.raises(NotFound) as unknown:
        get_photo(reg.container.deps, storage, reg.admin, reg.bin, "0" * 32 + ".png")
    assert unknown.value.code == "photo_not_found"
    with pytest.raises(Forbidden):
        add_photo(reg.container.deps, storage, reg.actor("leader"), reg.bin, PNG, info=TEST_INFO)


def test_a_photo_that_is_no_image_or_too_large_is_refused(
    reg: Registry, storage: LocalStorage, monkeypatch: pytest.MonkeyPatch
) -> None:
    for data, code, status in (
        (b"GIF89a....", "photo_type", 415),
        (b"%PDF-1.7", "photo_type", 415),
    ):
        with pytest.raises(DomainError) as refused:
            add_photo(reg.container.deps, storage, reg.admin, reg.cover, data, info=TEST_INFO)
        assert (refused.value.code, refused.value.status) == (code, status)
    monkeypatch.setattr(component_photos, "PHOTO_MAX_BYTES", len(JPEG) - 1)
    with pytest.raises(DomainError) as large:
        add_photo(reg.container.deps, storage, reg.admin, reg.cover, JPEG, info=TEST_INFO)
    assert (large.value.code, large.value.status) == ("photo_too_large", 413)
    assert get_component(reg.container.deps, reg.admin, reg.cover).photos == []


def test_a_component_holds_a_bounded_number_of_photos(reg: Registry, storage: LocalStorage) -> None:
    for n in range(PHOTO_MAX):
        add_photo(
            reg.container.deps, storage, reg.admin, reg.cover, JPEG + bytes([n]), info=TEST_INFO
        )
    with pytest.raises(InvalidInput) as full:
        add_photo(reg.container.deps, storage, reg.admin, reg.cover, PNG, info=TEST_INFO)
    assert full.value.code == "too_many_photos"


@pytest.mark.parametrize("key", ["../secret", "components/../../x", "/etc/passwd", "a//b", ""])
def test_a_storage_key_cannot_leave_its_folder(storage: LocalStorage, key: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        storage.put(key, b"x")
    assert refused.value.code == "invalid_storage_key"


def test_a_missing_stored_file_is_not_found(storage: LocalStorage) -> None:
    storage.put("components/a/b.jpg", b"x")
    assert storage.exists("components/a/b.jpg") and storage.get("components/a/b.jpg") == b"x"
    with pytest.raises(NotFound) as missing:
        storage.get("components/a/c.jpg")
    assert missing.value.code == "stored_file_not_found"
