"""Removing a photo of a component: a reason is required, the photo leaves the component in a
new version that names who removed which photo and why, the audit log keeps it, the stored file
stays (the history still names it) and is no longer served; scope and permission as for adding."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import sqlalchemy as sa

from gridcity.adapters.db.tables import AuditLog
from gridcity.adapters.storage import LocalStorage
from gridcity.bootstrap import Container
from gridcity.domain.errors import Forbidden, InvalidInput, NotFound
from gridcity.services.component_photos import add_photo, get_photo, remove_photo
from gridcity.services.components import component_history, get_component
from tests.factories import TEST_INFO
from tests.services.test_component_photos import JPEG, PNG
from tests.services.test_components import Registry, build_registry


@pytest.fixture
def reg(container: Container) -> Registry:
    """The registry fixture of the component tests."""
    return build_registry(container)


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    """A storage folder of this test."""
    return LocalStorage(tmp_path / "files")


def _name(key: str) -> str:
    return key.rsplit("/", 1)[1]


def test_a_removed_photo_leaves_the_component_with_a_versioned_reason(
    reg: Registry, storage: LocalStorage
) -> None:
    deps = reg.container.deps
    add_photo(deps, storage, reg.admin, reg.cover, JPEG, info=TEST_INFO)
    both = add_photo(deps, storage, reg.admin, reg.cover, PNG, info=TEST_INFO)
    jpeg, png = both.photos
    view = remove_photo(
        deps, reg.admin, reg.cover, _name(jpeg), reason="拍错了部件", info=TEST_INFO
    )
    assert view.photos == [png] and view.version == both.version + 1
    *_, entry = component_history(deps, reg.admin, reg.cover)
    assert (entry.action, entry.reason, entry.actor_name, entry.version) == (
        "photo_removed",
        "拍错了部件",
        reg.admin.username,
        view.version,
    )
    assert entry.changes == {"photos": [[jpeg, png], [png]]}
    with reg.container.db.read() as session:
        (row,) = session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "component.photo_removed")
        )
    assert (row.target_id, row.detail["photo"], row.detail["reason"]) == (
        reg.cover,
        jpeg,
        "拍错了部件",
    )
    # The file stays for the history, but the component no longer serves it.
    assert storage.get(jpeg) == JPEG
    with pytest.raises(NotFound) as gone:
        get_photo(deps, storage, reg.admin, reg.cover, _name(jpeg))
    assert gone.value.code == "photo_not_found"
    # The same picture added again is the same key, and is shown again.
    again = add_photo(deps, storage, reg.admin, reg.cover, JPEG, info=TEST_INFO)
    assert again.photos == [png, jpeg]


def test_a_removal_needs_a_reason_and_changes_nothing_without_one(
    reg: Registry, storage: LocalStorage
) -> None:
    deps = reg.container.deps
    key, *_ = add_photo(deps, storage, reg.admin, reg.cover, JPEG, info=TEST_INFO).photos
    for reason in ("", "   "):
        with pytest.raises(InvalidInput) as refused:
            remove_photo(deps, reg.admin, reg.cover, _name(key), reason=reason, info=TEST_INFO)
        assert (refused.value.code, refused.value.status) == ("reason_required", 422)
    with pytest.raises(InvalidInput) as long:
        remove_photo(deps, reg.admin, reg.cover, _name(key), reason="x" * 501, info=TEST_INFO)
    assert long.value.code == "invalid_reason"
    view = get_component(deps, reg.admin, reg.cover)
    assert view.photos == [key] and view.version == 2


def test_an_unknown_photo_or_component_is_not_found(reg: Registry, storage: LocalStorage) -> None:
    deps = reg.container.deps
    key, *_ = add_photo(deps, storage, reg.admin, reg.cover, JPEG, info=TEST_INFO).photos
    with pytest.raises(NotFound) as unknown:
        remove_photo(deps, reg.admin, reg.cover, "0" * 32 + ".jpg", reason="x", info=TEST_INFO)
    assert unknown.value.code == "photo_not_found"
    # another component's photo by name is not this component's photo
    with pytest.raises(NotFound):
        remove_photo(deps, reg.admin, reg.bin, _name(key), reason="x", info=TEST_INFO)
    remove_photo(deps, reg.admin, reg.cover, _name(key), reason="x", info=TEST_INFO)
    with pytest.raises(NotFound) as twice:
        remove_photo(deps, reg.admin, reg.cover, _name(key), reason="x", info=TEST_INFO)
    assert twice.value.code == "photo_not_found"
    assert get_component(deps, reg.admin, reg.cover).version == 3  # added, removed: no more


def test_removal_keeps_to_the_permission_and_the_data_scope(
    reg: Registry, storage: LocalStorage
) -> None:
    deps = reg.container.deps
    key, *_ = add_photo(deps, storage, reg.admin, reg.bin, PNG, info=TEST_INFO).photos
    for role in ("supervisor", "leader", "handler", "operator"):
        with pytest.raises((Forbidden, NotFound)) as refused:
            remove_photo(deps, reg.actor(role), reg.bin, _name(key), reason="x", info=TEST_INFO)
        assert isinstance(refused.value, Forbidden)  # the permission is checked first
    # An administrator whose scope is subdistrict A cannot see the bin in B: not found.
    scoped = dataclasses.replace(reg.admin, scope=reg.actor("supervisor").scope)
    with pytest.raises(NotFound) as hidden:
        remove_photo(deps, scoped, reg.bin, _name(key), reason="x", info=TEST_INFO)
    assert hidden.value.code == "component_not_found"
    assert get_component(deps, reg.admin, reg.bin).photos == [key]
