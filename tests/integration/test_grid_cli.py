"""``gridcity grid generate`` and ``gridcity grid validate``, run as an operator runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import shapely
from shapely.geometry import LineString, mapping, shape

from gridcity.adapters.crs import transform
from gridcity.domain.divisions import DivisionLevel
from gridcity.services.demo_city import plan_city
from tests.integration.test_cli import Run

ZONE = 4548  # CGCS2000 / 3-degree Gauss-Krüger CM 117E: the demo city's zone


def gridcity(*args: str | Path, cwd: Path) -> Run:
    """``python -m gridcity`` in a separate process."""
    done = subprocess.run(
        [sys.executable, "-m", "gridcity", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return Run(done.returncode, done.stdout, done.stderr)


def feature_collection(features: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A GeoJSON FeatureCollection."""
    return {"type": "FeatureCollection", **extra, "features": features}


def community_features(count: int | None = None) -> list[dict[str, Any]]:
    """The demo city's communities (EPSG:4490, full precision) as GeoJSON features."""
    plans = [d for d in plan_city(2004).divisions if d.level is DivisionLevel.COMMUNITY]
    return [
        {"type": "Feature", "properties": {"code": d.code}, "geometry": mapping(d.boundary)}
        for d in plans[:count]
    ]


def write(path: Path, data: dict[str, Any]) -> Path:
    """Write JSON and return the path."""
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def demo_city(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Run]:
    """The demo city's 204 communities, and the grids generated from them (once)."""
    folder = tmp_path_factory.mktemp("demo")
    communities = write(folder / "communities.geojson", feature_collection(community_features()))
    run = gridcity("grid", "generate", communities, "-o", "grids.geojson", cwd=folder)
    return communities, folder / "grids.geojson", run


def read(path: Path) -> dict[str, Any]:
    """A JSON file."""
    return json.loads(path.read_text(encoding="utf-8"))


def test_the_grid_commands_are_listed(tmp_path: Path) -> None:
    run = gridcity("grid", "--help", cwd=tmp_path)

    assert run.code == 0
    assert "generate" in run.out and "validate" in run.out


def test_generating_the_demo_city_writes_coded_grids_in_cgcs2000(
    demo_city: tuple[Path, Path, Run],
) -> None:
    communities, grids, run = demo_city

    assert (run.code, run.err) == (0, "")
    assert run.out.startswith(f"grids.geojson: {len(read(grids)['features'])} unit grids for 204")
    data = read(grids)
    assert data["crs"]["properties"]["name"] == "urn:ogc:def:crs:EPSG::4490"
    codes = [f["properties"]["grid_code"] for f in data["features"]]
    assert len(codes) == len(set(codes)) > 3_000
    for feature in data["features"]:
        props = feature["properties"]
        assert props["grid_code"][:12] == props["community_code"]
        assert 0.3 * 10_000 * 0.999 <= props["area_m2"] <= 3 * 10_000 * 1.001
    assert {f["properties"]["community_code"] for f in data["features"]} == {
        f["properties"]["code"] for f in read(communities)["features"]
    }


def test_generated_grids_validate_clean_with_and_without_communities(
    demo_city: tuple[Path, Path, Run],
) -> None:
    communities, grids, _ = demo_city

    alone = gridcity("grid", "validate", grids, cwd=grids.parent)
    against = gridcity("grid", "validate", grids, "--communities", communities, cwd=grids.parent)

    for run in (alone, against):
        assert run.code == 0, run.out
        assert run.out.strip().endswith("no findings")
    assert "against 204 communities" in against.out


def test_a_damaged_layer_is_reported_by_kind_with_exit_code_1(
    demo_city: tuple[Path, Path, Run], tmp_path: Path
) -> None:
    communities, grids, _ = demo_city
    data = read(grids)
    removed = data["features"].pop(10)
    data["features"][20]["properties"]["grid_code"] = data["features"][21]["properties"][
        "grid_code"
    ]
    damaged = write(tmp_path / "damaged.geojson", data)

    run = gridcity("grid", "validate", damaged, "--communities", communities, cwd=tmp_path)

    assert run.code == 1, run
    lines = run.out.splitlines()
    assert "gap (1)" in lines and "duplicate_code (1)" in lines
    assert removed["properties"]["community_code"] in run.out
    assert lines[-1] == "2 findings: 1 gap, 1 duplicate_code"


def test_a_finding_an_import_would_accept_says_so(tmp_path: Path) -> None:
    community = shapely.box(116.400, 39.900, 116.401, 39.901)  # ~9,500 m²
    # The grid reaches ~1 m² (0.01 %) west of its community: over the noise, under the 0.1 %.
    grid = shapely.box(116.400 - 1e-7, 39.900, 116.401, 39.901)

    def one(name: str, geom: shapely.Geometry, props: dict[str, Any]) -> Path:
        feature = {"type": "Feature", "geometry": mapping(geom), "properties": props}
        return write(tmp_path / name, feature_collection([feature]))

    communities = one("c.geojson", community, {"code": "110101001001"})
    grids = one("g.geojson", grid, {"grid_code": "110101001001001"})

    run = gridcity("grid", "validate", grids, "--communities", communities, cwd=tmp_path)

    assert run.code == 1, run
    (line,) = [x for x in run.out.splitlines() if "outside its community" in x]
    assert line.endswith("(within the allowance: an import or re-division accepts it)")
    assert run.out.splitlines()[-1] == "1 findings: 1 crosses_community"


def test_roads_become_grid_edges(tmp_path: Path) -> None:
    features = community_features(3)
    area = shape(features[0]["geometry"])
    centre = area.centroid
    road = LineString([(centre.x - 0.01, centre.y - 0.001), (centre.x + 0.01, centre.y + 0.001)])
    communities = write(tmp_path / "c.geojson", feature_collection(features))
    roads = write(
        tmp_path / "roads.geojson",
        feature_collection([{"type": "Feature", "properties": {}, "geometry": mapping(road)}]),
    )

    run = gridcity(
        "grid", "generate", communities, "--lines", roads, "-o", "g.geojson", cwd=tmp_path
    )
    check = gridcity("grid", "validate", "g.geojson", "--communities", communities, cwd=tmp_path)

    assert run.code == 0, run.err
    assert check.code == 0, check.out
    road_m = transform(road, 4490, ZONE)
    crossed = [
        f["properties"]["grid_code"]
        for f in read(tmp_path / "g.geojson")["features"]
        if shapely.buffer(transform(shape(f["geometry"]), 4490, ZONE), -0.05)
        .intersection(road_m)
        .length
        > 0.01
    ]
    # Only a piece cut off by the road too small for a grid of its own may straddle it.
    assert len(crossed) <= 2, crossed


def test_a_projected_input_named_by_its_crs_member_gives_the_same_grids(tmp_path: Path) -> None:
    features = community_features(2)
    projected = [
        {**f, "geometry": mapping(transform(shape(f["geometry"]), 4490, ZONE))} for f in features
    ]
    crs = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{ZONE}"}}
    lonlat = write(tmp_path / "lonlat.geojson", feature_collection(features))
    metres = write(tmp_path / "metres.geojson", feature_collection(projected, crs=crs))

    a = gridcity("grid", "generate", lonlat, "-o", "a.geojson", cwd=tmp_path)
    b = gridcity("grid", "generate", metres, "-o", "b.geojson", cwd=tmp_path)
    c = gridcity("grid", "generate", metres, "--crs", "EPSG:4326", "-o", "c.geojson", cwd=tmp_path)

    assert (a.code, b.code, c.code) == (0, 0, 0), (a.err, b.err, c.err)
    codes = [
        [f["properties"]["grid_code"] for f in read(tmp_path / n)["features"]]
        for n in ("a.geojson", "b.geojson", "c.geojson")
    ]
    assert codes[0] == codes[1] == codes[2]  # the file's own crs member wins over --crs


BOWTIE = {"type": "Polygon", "coordinates": [[[116.40, 39.90], [116.41, 39.91], [116.41, 39.90], [116.40, 39.91], [116.40, 39.90]]]}  # fmt: skip


@pytest.mark.parametrize(
    ("damage", "expected"),
    [
        (lambda f: f[2]["properties"].pop("code"), "feature 2 (code missing): no `code` property"),
        (
            lambda f: f[2]["properties"].update(code="11010100100"),
            "feature 2 (code 11010100100): ",
        ),
        (
            lambda f: f[2]["properties"].update(code=f[1]["properties"]["code"]),
            "feature 2 (code 110101001002): the code repeats feature 1",
        ),
        (
            lambda f: f[2].update(geometry=BOWTIE),
            "feature 2 (code 110101001003): invalid geometry: Self-intersection",
        ),
        (
            lambda f: f[2].update(geometry={"type": "Point", "coordinates": [116.4, 39.9]}),
            "feature 2 (code 110101001003): invalid geometry: expected a non-empty Polygon",
        ),
        (
            lambda f: f[2].update(geometry={"type": "Polygon", "coordinates": [[[1, 2]]]}),
            "feature 2 (code 110101001003): invalid geometry: unreadable geometry",
        ),
    ],
)
def test_one_bad_feature_writes_nothing_and_is_named(
    tmp_path: Path, damage: Any, expected: str
) -> None:
    features = community_features(4)
    damage(features)
    communities = write(tmp_path / "bad.geojson", feature_collection(features))
    (tmp_path / "kept.geojson").write_text("previous content", encoding="utf-8")

    run = gridcity("grid", "generate", communities, "-o", "kept.geojson", cwd=tmp_path)

    assert run.code == 2, run
    assert len(run.err_lines) == 1, run.err
    assert run.err_lines[0].startswith(f"gridcity: error: {communities}: "), run.err
    assert expected in run.err_lines[0], run.err
    assert (tmp_path / "kept.geojson").read_text(encoding="utf-8") == "previous content"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.geojson", "kept.geojson"]


def test_a_community_needing_more_than_999_grids_is_named_and_nothing_written(
    tmp_path: Path,
) -> None:
    communities = write(tmp_path / "c.geojson", feature_collection(community_features(3)))

    run = gridcity(
        "grid", "generate", communities, "--target-area", "100", "-o", "g.geojson", cwd=tmp_path
    )

    assert run.code == 2, run
    assert len(run.err_lines) == 1
    assert "feature 0 (code 110101001001): Community 110101001001 would need" in run.err
    assert not (tmp_path / "g.geojson").exists()


@pytest.mark.parametrize(
    ("command", "content", "expected"),
    [
        ("generate", "not json", "is not UTF-8 JSON"),
        ("generate", '{"type": "Feature"}', "is not a GeoJSON FeatureCollection"),
        (
            "generate",
            '{"type": "FeatureCollection", "crs": "EPSG:x", "features": []}',
            "coordinate",
        ),
        ("validate", "not json", "is not UTF-8 JSON"),
    ],
)
def test_an_unreadable_file_is_one_line_and_exit_2(
    tmp_path: Path, command: str, content: str, expected: str
) -> None:
    path = tmp_path / "in.geojson"
    path.write_text(content, encoding="utf-8")
    extra = ["-o", "out.geojson"] if command == "generate" else []

    run = gridcity("grid", command, path, *extra, cwd=tmp_path)

    assert run.code == 2, run
    assert len(run.err_lines) == 1 and expected in run.err, run.err
    assert not (tmp_path / "out.geojson").exists()


def test_a_missing_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    run = gridcity("grid", "validate", "nowhere.geojson", cwd=tmp_path)

    assert run.code == 2
    assert run.err_lines == [
        "gridcity: error: Cannot read nowhere.geojson: No such file or directory"
    ]


@pytest.mark.parametrize("command", ["generate", "validate"])
def test_a_target_area_that_is_not_positive_is_one_line(tmp_path: Path, command: str) -> None:
    extra = ["-o", "out.geojson"] if command == "generate" else []

    run = gridcity("grid", command, "in.geojson", "--target-area", "0", *extra, cwd=tmp_path)

    assert run.code == 2
    assert run.err_lines == [
        "gridcity: error: --target-area: The target area must be a positive number of square "
        "metres, got 0.0"
    ]
