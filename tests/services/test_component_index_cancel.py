"""A build or patch of the component map index that is called off (the process is stopping)
stops between chunks of rows, keeps the index as it was and frees the lock, so the next request
builds or patches as usual; on SQLite and PostgreSQL."""

from __future__ import annotations

import numpy as np
import pytest

from gridcity.bootstrap import Container
from gridcity.services import component_map
from tests.factories import SmallCity
from tests.services.test_component_map import CENTRE, add_at, build_inventory


class CalledOff:
    """Answers False ``after`` times, then True; counts how often it was asked."""

    def __init__(self, after: int) -> None:
        self.after = after
        self.asked = 0

    def __call__(self) -> bool:
        self.asked += 1
        return self.asked > self.after


@pytest.fixture
def inventory(container: Container, city: SmallCity) -> SmallCity:
    """The small city with 240 components over its district."""
    build_inventory(container)
    return city


def test_a_build_called_off_while_reading_keeps_nothing_and_the_next_one_builds(
    container: Container, inventory: SmallCity, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(component_map, "READ_CHUNK", 16)  # 240 rows: 15 chunks
    maps = container.deps.component_maps
    called_off = CalledOff(after=3)
    with pytest.raises(component_map.BuildCancelled):
        component_map.component_index(container.deps, "wgs84", cancelled=called_off)
    assert called_off.asked == 4  # stopped at the fourth chunk, not after reading every row
    assert maps.get("wgs84") is None and maps.build_seconds == {}
    assert maps.lock.acquire(blocking=False)  # released on the way out
    maps.lock.release()
    index = component_map.component_index(container.deps, "wgs84")
    assert len(index) == 240 and maps.build_seconds["wgs84"] > 0


def test_a_build_called_off_after_its_rows_are_read_is_not_kept(
    container: Container, inventory: SmallCity
):
    # 240 rows come in one chunk: asked before it and before the (empty) next one, then once
    # more after the rows are encoded, which is when it is called off.
    called_off = CalledOff(after=2)
    with pytest.raises(component_map.BuildCancelled):
        component_map.component_index(container.deps, "wgs84", cancelled=called_off)
    assert called_off.asked == 3
    assert container.deps.component_maps.get("wgs84") is None


def test_a_patch_called_off_keeps_the_old_index_and_the_next_request_patches(
    container: Container, inventory: SmallCity
):
    maps = container.deps.component_maps
    before = component_map.component_index(container.deps, "wgs84")
    rng = np.random.default_rng(11)
    add_at(container, CENTRE + rng.uniform(-1e-3, 1e-3, (5, 2)), ["01037"] * 5)
    with pytest.raises(component_map.BuildCancelled):
        component_map.component_index(container.deps, "wgs84", cancelled=lambda: True)
    assert maps.get("wgs84") is before and len(before) == 240
    after = component_map.component_index(container.deps, "wgs84")
    assert len(after) == 245 and after.seq > before.seq
